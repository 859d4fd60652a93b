package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/tusk-php/tusk/pkg/trace"
)

// summaryColumns are the columns scanSummary reads, in its order.
const summaryColumns = `trace_id, start_ns, duration_ns, service, pool, host, method, path,
	status, error, incomplete, span_count, n_plus_one`

// selectTrace reads a whole trace: its summary and, by the summary's id,
// its spans. A LEFT JOIN, so that a summary without spans (which the
// schema's trigger and the writer's transaction never leave) reads as a
// decoding error rather than as "not found" for a trace searches list.
const selectTrace = `SELECT ` + summaryColumns + `, trace_spans.spans, traces.id
	FROM traces LEFT JOIN trace_spans ON trace_spans.id = traces.id WHERE trace_id = ?`

// Get returns the whole trace with id, or an error matching ErrNotFound.
// A trace still queued, not yet written, is not found yet.
func (s *Store) Get(ctx context.Context, id trace.TraceID) (*trace.Trace, error) {
	if s.closed.Load() {
		return nil, ErrClosed
	}
	t, _, err := scanTrace(s.readDB.QueryRowContext(ctx, selectTrace, id[:]))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("trace %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("store: get trace %s: %w", id, err)
	}
	return t, nil
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface {
	Scan(dest ...any) error
}

// scanSummary reads summaryColumns, then extra.
func scanSummary(row scanner, sum *trace.Summary, extra ...any) error {
	var id []byte
	dest := append([]any{&id, &sum.StartUnixNano, &sum.DurationNano, &sum.Service, &sum.Pool,
		&sum.Host, &sum.Method, &sum.Path, &sum.StatusCode, &sum.Error, &sum.Incomplete,
		&sum.SpanCount, &sum.NPlusOne}, extra...)
	if err := row.Scan(dest...); err != nil {
		return err
	}
	if len(id) != len(sum.TraceID) {
		return fmt.Errorf("stored trace id has %d bytes, want %d", len(id), len(sum.TraceID))
	}
	copy(sum.TraceID[:], id)
	return nil
}

// scanTrace reads a row of selectTrace; id is the row's key in traces.
func scanTrace(row scanner) (t *trace.Trace, id int64, err error) {
	t = &trace.Trace{}
	var spans []byte
	if err := scanSummary(row, &t.Summary, &spans, &id); err != nil {
		return nil, 0, err
	}
	if t.Spans, err = decodeSpans(spans); err != nil {
		return nil, 0, err
	}
	return t, id, nil
}
