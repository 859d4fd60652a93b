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
	merged := mergeTraces(stored, t)
	spans, err := encodeSpans(merged.Spans)
	if err != nil {
		return err
	}
	args := append(traceRow(merged, spans)[1:], t.TraceID[:])
	_, err = tx.ExecContext(ctx, updateMerged, args...)
	return err
}

// mergeTraces combines two captures with one trace id. The one that started
// first (the caller) gives the summary and stays Spans[0]; spans already
// present are not added again, so a trace delivered twice stays as it was.
func mergeTraces(a, b *trace.Trace) *trace.Trace {
	outer, inner := a, b
	if b.StartUnixNano < a.StartUnixNano ||
		(b.StartUnixNano == a.StartUnixNano && b.DurationNano > a.DurationNano) {
		outer, inner = b, a
	}
	merged := *outer
	merged.Spans = make([]trace.Span, 0, len(outer.Spans)+len(inner.Spans))
	merged.Spans = append(merged.Spans, outer.Spans...)
	seen := make(map[trace.SpanID]bool, len(outer.Spans))
	for _, s := range outer.Spans {
		seen[s.SpanID] = true
	}
	added := 0
	for _, s := range inner.Spans {
		if !seen[s.SpanID] {
			merged.Spans = append(merged.Spans, s)
			added++
		}
	}
	merged.SpanCount = max(outer.SpanCount, len(outer.Spans)) + added
	merged.Error = a.Error || b.Error
	merged.Incomplete = a.Incomplete || b.Incomplete
	merged.NPlusOne = a.NPlusOne + b.NPlusOne // two requests' findings
	return &merged
}
