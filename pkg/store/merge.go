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
	host = ?, method = ?, path = ?, status = ?, error = ?, incomplete = ?, span_count = ?, n_plus_one = ?
	WHERE id = ?`

const updateMergedSpans = `UPDATE trace_spans SET spans = ? WHERE id = ?`

// mergeInto merges t into the stored row with the same trace id.
func mergeInto(ctx context.Context, tx execer, t *trace.Trace) error {
	stored, id, err := scanTrace(tx.QueryRowContext(ctx, selectTrace, t.TraceID[:]))
	if err != nil {
		return err
	}
	merged := trace.Merge(stored, t)
	if _, err := tx.ExecContext(ctx, updateMerged, append(traceRow(merged)[1:], id)...); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, updateMergedSpans, encodeSpans(merged.Spans), id)
	return err
}
