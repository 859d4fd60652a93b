package plugin

import (
	"context"
	"slices"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/tusk-php/tusk/pkg/agentapi"
	"github.com/tusk-php/tusk/pkg/fleet"
	"github.com/tusk-php/tusk/pkg/frames"
	"github.com/tusk-php/tusk/pkg/profile"
	"github.com/tusk-php/tusk/pkg/trace"
)

// flamegraphDiff compares the flame graph of the query's range (pq) with
// that of the baseline range, the same filters on both: each merged across
// the agents as a plain flame graph is, then merged with the other by path.
func (ds *Datasource) flamegraphDiff(ctx context.Context, agents []*fleet.Agent, q Query, pq agentapi.ProfileQuery, baseline backend.TimeRange) (data.Frames, error) {
	bq := pq
	bq.From, bq.To = baseline.From, baseline.To
	type side struct {
		fg      agentapi.Flamegraph
		notices []data.Notice
		err     error
	}
	var before, after side
	done := make(chan struct{})
	go func() {
		defer close(done)
		before.fg, before.notices, before.err = ds.mergedFlamegraph(ctx, agents, bq, trace.TraceID{}, q.MaxNodes)
	}()
	after.fg, after.notices, after.err = ds.mergedFlamegraph(ctx, agents, pq, trace.TraceID{}, q.MaxNodes)
	<-done
	for _, s := range []side{before, after} {
		if s.err != nil {
			return nil, s.err
		}
	}
	d, err := profile.DiffFlamegraphs(q.MaxNodes, before.fg, after.fg)
	if err != nil {
		return nil, err
	}
	// An agent that failed usually failed both calls: one notice will do.
	notices := before.notices
	for _, n := range after.notices {
		if !slices.Contains(notices, n) {
			notices = append(notices, n)
		}
	}
	if d.BaselineTotal == 0 {
		notices = append(notices, data.Notice{Severity: data.NoticeSeverityInfo,
			Text: "no CPU samples in the baseline range: the diff shows this range's samples as all new"})
	}
	if d.ComparedTotal == 0 {
		notices = append(notices, data.Notice{Severity: data.NoticeSeverityInfo, Text: emptyProfileHint(trace.TraceID{})})
	}
	return data.Frames{withNotices(frames.DiffFlamegraph(d), notices)}, nil
}
