package plugin

import (
	"context"
	"fmt"
	"strings"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/tusk-php/tusk/pkg/agentapi"
	"github.com/tusk-php/tusk/pkg/fleet"
	"github.com/tusk-php/tusk/pkg/frames"
	"github.com/tusk-php/tusk/pkg/profile"
	"github.com/tusk-php/tusk/pkg/trace"
)

// search lists traces from every agent, sorted as one list; with a
// function, the requests where it was hot.
func (ds *Datasource) search(ctx context.Context, q Query, dq backend.DataQuery) (data.Frames, error) {
	if strings.TrimSpace(q.Function) != "" {
		// Before the trace store: profiles live on the agents only, so a
		// function search asks them even with traceSource jaeger or tempo.
		return ds.searchFunction(ctx, q, dq)
	}
	sq, err := q.searchQuery(dq.TimeRange)
	if err != nil {
		return nil, bad(err)
	}
	if ds.store != nil {
		return ds.searchStore(ctx, sq)
	}
	agents, err := ds.agentsFor(q)
	if err != nil {
		return nil, err
	}
	results := fleet.Each(ctx, agents, ds.fleet.Timeout, func(ctx context.Context, a *fleet.Agent) ([]trace.Summary, error) {
		return a.Client.Search(ctx, sq)
	})
	notices, err := partial(results)
	if err != nil {
		return nil, err
	}
	var rows []frames.SearchRow
	for _, r := range results {
		for _, s := range r.Value {
			rows = append(rows, frames.SearchRow{Agent: r.Agent.Name, Summary: s})
		}
	}
	rows = frames.SortSearchRows(rows, sq.Order, sq.EffectiveLimit())
	return data.Frames{withNotices(frames.Search(rows, ds.ref), notices)}, nil
}

// trace fetches one trace from whichever agents have it; a trace that
// continued across PHP services on several hosts is merged into one.
func (ds *Datasource) trace(ctx context.Context, q Query, _ backend.DataQuery) (data.Frames, error) {
	id, err := q.traceID()
	if err != nil {
		return nil, bad(err)
	}
	if ds.store != nil {
		return ds.traceFromStore(ctx, id)
	}
	agents, err := ds.agentsFor(q)
	if err != nil {
		return nil, err
	}
	results := fleet.Each(ctx, agents, ds.fleet.Timeout, func(ctx context.Context, a *fleet.Agent) (*trace.Trace, error) {
		t, err := a.Client.Trace(ctx, id)
		if err == nil && ds.agentVersion(a.Name) == "" {
			_, _ = ds.statusOf(ctx, a) // only for the library version shown
		}
		return t, err
	})
	var (
		merged   *trace.Trace
		from     string
		notFound []string
		notices  []data.Notice
		failed   []fleet.Result[*trace.Trace]
	)
	for _, r := range results {
		switch {
		case r.Err == nil:
			if merged == nil {
				merged, from = r.Value, r.Agent.Name
			} else {
				merged = trace.Merge(merged, r.Value)
			}
		case agentapi.IsNotFound(r.Err):
			notFound = append(notFound, r.Agent.Name)
		default:
			failed = append(failed, r)
			notices = append(notices, data.Notice{Severity: data.NoticeSeverityWarning,
				Text: fmt.Sprintf("agent %s: %s (spans it holds, if any, are missing)", r.Agent.Name, fleet.Explain(r.Agent, r.Err))})
		}
	}
	if merged == nil {
		if len(failed) > 0 {
			return nil, fmt.Errorf("trace %s: not found on %s, and %w", id, listOrNone(notFound), explainAll(failed))
		}
		return nil, bad(fmt.Errorf("trace %s was not found on %s: agents keep traces for their retention period (store.retention), or the id is from another system", id, listOrNone(notFound)))
	}
	f, err := frames.Trace(merged, frames.InstrumentationLibrary{Name: "tusk", Version: ds.agentVersion(from)})
	if err != nil {
		return nil, err
	}
	return data.Frames{withNotices(f, notices)}, nil
}

func listOrNone(names []string) string {
	if len(names) == 0 {
		return "no agent"
	}
	return "agent " + strings.Join(names, ", ")
}

// flamegraph merges the agents' flame graphs for a range and filters, or
// the profile of one request when a trace id is given; with a baseline
// range, it is a diff of the query's range against it.
func (ds *Datasource) flamegraph(ctx context.Context, q Query, dq backend.DataQuery) (data.Frames, error) {
	pq, err := q.profileQuery(dq.TimeRange)
	if err != nil {
		return nil, bad(err)
	}
	var id trace.TraceID
	if strings.TrimSpace(q.TraceID) != "" {
		if id, err = q.traceID(); err != nil {
			return nil, bad(err)
		}
	}
	baseline, diff, err := q.baseline()
	if err != nil {
		return nil, bad(err)
	}
	if diff && !id.IsZero() {
		return nil, bad(fmt.Errorf("a baseline compares time ranges: leave traceId empty, or baselineFrom and baselineTo"))
	}
	agents, err := ds.agentsFor(q)
	if err != nil {
		return nil, err
	}
	if diff {
		return ds.flamegraphDiff(ctx, agents, q, pq, baseline)
	}
	merged, notices, err := ds.mergedFlamegraph(ctx, agents, pq, id, q.MaxNodes)
	if err != nil {
		return nil, err
	}
	if merged.Total == 0 {
		notices = append(notices, data.Notice{Severity: data.NoticeSeverityInfo, Text: emptyProfileHint(id)})
	}
	return data.Frames{withNotices(frames.Flamegraph(merged), notices)}, nil
}

// mergedFlamegraph asks every agent for the flame graph of pq, or of the
// request id when it is not zero, and merges their answers.
func (ds *Datasource) mergedFlamegraph(ctx context.Context, agents []*fleet.Agent, pq agentapi.ProfileQuery, id trace.TraceID, maxNodes int) (agentapi.Flamegraph, []data.Notice, error) {
	results := fleet.Each(ctx, agents, ds.fleet.Timeout, func(ctx context.Context, a *fleet.Agent) (agentapi.Flamegraph, error) {
		var fg *agentapi.Flamegraph
		var err error
		if id.IsZero() {
			fg, err = a.Client.Flamegraph(ctx, pq, maxNodes)
		} else if fg, err = a.Client.TraceProfile(ctx, id, maxNodes); agentapi.IsNotFound(err) {
			return agentapi.Flamegraph{}, nil // this agent did not serve the request
		}
		if err != nil {
			return agentapi.Flamegraph{}, err
		}
		return *fg, nil
	})
	notices, err := partial(results)
	if err != nil {
		return agentapi.Flamegraph{}, nil, err
	}
	graphs := make([]agentapi.Flamegraph, 0, len(results))
	for _, r := range results {
		if r.Err == nil {
			graphs = append(graphs, r.Value)
		}
	}
	merged, err := profile.MergeFlamegraphs(maxNodes, graphs...)
	return merged, notices, err
}

func emptyProfileHint(id trace.TraceID) string {
	if !id.IsZero() {
		return fmt.Sprintf("no CPU samples for trace %s: the sampler (profiling.hz, 99 by default) sees requests that use ~10 ms of CPU or more", id)
	}
	return "no CPU samples in this range and filters: is profiling enabled on the agents (profiling.enabled) and is PHP busy?"
}

// metrics returns RED time series, merged over agents.
func (ds *Datasource) metrics(ctx context.Context, q Query, dq backend.DataQuery) (data.Frames, error) {
	rq, metrics, err := q.redQuery(dq)
	if err != nil {
		return nil, bad(err)
	}
	agents, err := ds.agentsFor(q)
	if err != nil {
		return nil, err
	}
	results := fleet.Each(ctx, agents, ds.fleet.Timeout, func(ctx context.Context, a *fleet.Agent) (*agentapi.REDResponse, error) {
		return a.Client.RED(ctx, rq)
	})
	notices, err := partial(results)
	if err != nil {
		return nil, err
	}
	answers := make([]*agentapi.REDResponse, 0, len(results))
	for _, r := range results {
		if r.Err == nil {
			answers = append(answers, r.Value)
		}
	}
	limit := rq.Limit
	if limit == 0 {
		limit = agentapi.DefaultREDLimit
	}
	series := frames.MergeRED(limit, answers...)
	fs := frames.RED(series, rq.From, rq.To, rq.Step, metrics)
	if len(fs) == 0 {
		// An empty answer is still a frame, so the panel says "no data"
		// with the notices rather than an error.
		fs = data.Frames{data.NewFrame("requests")}
	}
	withNotices(fs[0], notices)
	return fs, nil
}
