package plugin

import (
	"context"
	"fmt"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/tusk-php/tusk/pkg/agentapi"
	"github.com/tusk-php/tusk/pkg/fleet"
	"github.com/tusk-php/tusk/pkg/frames"
)

// searchFunction lists the requests whose CPU samples contain q.Function,
// from every agent, by the function's CPU time, highest first: the flame
// graph's "traces where this is hot".
func (ds *Datasource) searchFunction(ctx context.Context, q Query, dq backend.DataQuery) (data.Frames, error) {
	fq, err := q.functionQuery(dq.TimeRange)
	if err != nil {
		return nil, bad(err)
	}
	agents, err := ds.agentsFor(q)
	if err != nil {
		return nil, err
	}
	results := fleet.Each(ctx, agents, ds.fleet.Timeout, func(ctx context.Context, a *fleet.Agent) (*agentapi.FunctionTracesResponse, error) {
		return a.Client.FunctionTraces(ctx, fq)
	})
	notices, err := partial(results)
	if err != nil {
		return nil, err
	}
	var rows []frames.FunctionSearchRow
	for _, r := range results {
		if r.Err != nil {
			continue
		}
		if r.Value.Truncated {
			notices = append(notices, data.Notice{Severity: data.NoticeSeverityWarning, Text: fmt.Sprintf(
				"agent %s read only the newest %d profiled requests of this range: older requests where %s was hot may be missing (narrow the time range or filter)",
				r.Agent.Name, r.Value.Scanned, fq.Function)})
		}
		for _, h := range r.Value.Traces {
			rows = append(rows, frames.FunctionSearchRow{
				SearchRow: frames.SearchRow{Agent: r.Agent.Name, Summary: h.Summary}, FunctionCPU: time.Duration(h.FunctionCPUNs),
			})
		}
	}
	if len(rows) == 0 {
		notices = append(notices, data.Notice{Severity: data.NoticeSeverityInfo, Text: fmt.Sprintf(
			"no request in this range has %s in its CPU samples: the sampler (profiling.hz, 99 by default) sees requests that use ~10 ms of CPU or more, and a request's samples are stored a few seconds after it ends",
			fq.Function)})
	}
	rows = frames.SortFunctionSearchRows(rows, fq.Traces.EffectiveLimit())
	return data.Frames{withNotices(frames.FunctionSearch(rows, fq.Function, ds.ref), notices)}, nil
}
