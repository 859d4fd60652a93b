package store

import (
	"context"

	"github.com/tusk-php/tusk/pkg/trace"
)

// Two PHP requests on one node can share a trace id: one calls the other
// with a traceparent header and both are traced. The store keeps one row per
// trace id, so the second to arrive is merged into the first: a trace viewer
// asking for the id then sees both requests, as a trace should.

const updateMerged = `UPDATE traces SET start_ns = ?, duration_ns = ?, service = ?, pool = ?,
	host = ?, method = ?, path = ?, status = ?, error = ?, incomplete = ?, span_count = ?, n_plus_one = ?, spans = ?
	WHERE trace_id = ?`

// mergeInto merges t into the stored row with the same trace id.
func mergeInto(ctx context.Context, tx execer, t *trace.Trace) error {
	stored, err := scanTrace(tx.QueryRowContext(ctx, selectTrace, t.TraceID[:]))
	if err != nil {
		return err
	}
	merged := trace.Merge(stored, t)
	spans, err := encodeSpans(merged.Spans)
	if err != nil {
		return err
	}
	args := append(traceRow(merged, spans)[1:], t.TraceID[:])
	_, err = tx.ExecContext(ctx, updateMerged, args...)
	return err
}
