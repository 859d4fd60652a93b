package agent

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tusk-php/tusk/pkg/agentapi"
	"github.com/tusk-php/tusk/pkg/profile"
	"github.com/tusk-php/tusk/pkg/store"
	"github.com/tusk-php/tusk/pkg/trace"
)

// addSamples takes a finished request's stack samples (from the assembler,
// on the event loop's goroutine) into the per-minute and per-trace profiles.
func (a *Agent) addSamples(_ *trace.Trace, samples []profile.Sample) {
	for _, s := range samples {
		a.profiles.Add(s)
	}
}

// Profile serves the profile routes (flame graph, top functions, pprof) from
// the store; the API server finds it on the Backend.
func (a *Agent) Profile(ctx context.Context, q agentapi.ProfileQuery) (*profile.Profile, error) {
	q = q.WithDefaults(time.Now())
	p, err := a.store.Profile(ctx, store.ProfileQuery(q))
	if errors.Is(err, store.ErrInvalidQuery) {
		return nil, fmt.Errorf("%w: %w", agentapi.ErrBadRequest, err)
	}
	if err != nil {
		return nil, err
	}
	// The current minute (and requests that just ended) are still in the
	// aggregator: a flame graph of "the last 5 minutes" includes them.
	a.profiles.MergeOpen(p, q.TraceID, func(l profile.Labels, start, end time.Time) bool {
		return end.After(q.From) && start.Before(q.To) &&
			(q.Service == "" || q.Service == l.Service) && (q.Pool == "" || q.Pool == l.Pool) &&
			(q.Endpoint == "" || q.Endpoint == l.Endpoint)
	})
	return p, nil
}

// FunctionTraces serves the requests where a function was hot from the
// stored request profiles. Requests that ended in the last seconds may not
// be there yet: their profile is handed on once no sample came for
// profile.DefaultTraceIdle.
func (a *Agent) FunctionTraces(ctx context.Context, q agentapi.FunctionTracesQuery) (*agentapi.FunctionTracesResponse, error) {
	resp, err := a.store.FunctionTraces(ctx, q)
	return resp, storeQueryError(err)
}
