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

const selectTrace = `SELECT ` + summaryColumns + `, spans FROM traces WHERE trace_id = ?`

// Get returns the whole trace with id, or an error matching ErrNotFound.
// A trace still queued, not yet written, is not found yet.
func (s *Store) Get(ctx context.Context, id trace.TraceID) (*trace.Trace, error) {
	if s.closed.Load() {
		return nil, ErrClosed
	}
	t, err := scanTrace(s.readDB.QueryRowContext(ctx, selectTrace, id[:]))
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

// scanTrace reads summaryColumns and spans.
func scanTrace(row scanner) (*trace.Trace, error) {
	var t trace.Trace
	var spans []byte
	if err := scanSummary(row, &t.Summary, &spans); err != nil {
		return nil, err
	}
	decoded, err := decodeSpans(spans)
	if err != nil {
		return nil, err
	}
	t.Spans = decoded
	return &t, nil
}
