package agent

import (
	"context"
	"errors"
	"fmt"

	"github.com/tusk-php/tusk/pkg/agent/httpapi"
	"github.com/tusk-php/tusk/pkg/agentapi"
	"github.com/tusk-php/tusk/pkg/store"
	"github.com/tusk-php/tusk/pkg/trace"
)

var _ httpapi.Backend = (*Agent)(nil)

// Search serves GET /api/v1/traces from the store.
func (a *Agent) Search(ctx context.Context, q trace.Query) ([]trace.Summary, error) {
	out, err := a.store.Search(ctx, q)
	return out, storeQueryError(err)
}

// RED serves GET /api/v1/metrics/red from the store. Traces still queued
// for the store (up to its FlushInterval) are not counted yet.
func (a *Agent) RED(ctx context.Context, q agentapi.REDQuery) (*agentapi.REDResponse, error) {
	resp, err := a.store.RED(ctx, q)
	return resp, storeQueryError(err)
}

// storeQueryError marks the store's refusal of a query as the caller's
// mistake, which the API answers with 400; other errors pass as they are.
func storeQueryError(err error) error {
	if errors.Is(err, store.ErrInvalidQuery) {
		return fmt.Errorf("%w: %w", agentapi.ErrBadRequest, err)
	}
	return err
}

// Trace serves GET /api/v1/traces/{id} from the store.
func (a *Agent) Trace(ctx context.Context, id trace.TraceID) (*trace.Trace, error) {
	t, err := a.store.Get(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("%w: trace %s is not in this agent's store (it may have expired)", agentapi.ErrNotFound, id)
	}
	return t, err
}
