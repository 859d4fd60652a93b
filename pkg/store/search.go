package store

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/tusk-php/tusk/pkg/trace"
)

// Search returns summaries of the traces matching q, newest or slowest first.
// A query that fails q.Validate is rejected with an error matching
// ErrInvalidQuery, carrying Validate's message.
func (s *Store) Search(ctx context.Context, q trace.Query) ([]trace.Summary, error) {
	if err := q.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidQuery, err)
	}
	if s.closed.Load() {
		return nil, ErrClosed
	}
	query, args := searchSQL(&q)
	rows, err := s.readDB.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: search: %w", err)
	}
	defer rows.Close()
	out := make([]trace.Summary, 0, min(q.EffectiveLimit(), 256))
	for rows.Next() {
		var sum trace.Summary
		if err := scanSummary(rows, &sum); err != nil {
			return nil, fmt.Errorf("store: search: %w", err)
		}
		out = append(out, sum)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: search: %w", err)
	}
	return out, nil
}

// searchSQL translates q, which must be valid, into one SELECT. It mirrors
// trace.Query.Matches term by term; the tests hold the two against each
// other. User input only ever travels as bound arguments.
func searchSQL(q *trace.Query) (string, []any) {
	where, args := queryWhere(q)
	var b strings.Builder
	b.WriteString("SELECT " + summaryColumns + " FROM traces" + where)
	// rowid breaks ties in insertion order and is in every index entry, so
	// the indexes still deliver this order without a sort.
	if q.Order == trace.OrderSlowest {
		b.WriteString(" ORDER BY duration_ns DESC, rowid DESC")
	} else {
		b.WriteString(" ORDER BY start_ns DESC, rowid DESC")
	}
	b.WriteString(" LIMIT ?")
	args = append(args, q.EffectiveLimit())
	return b.String(), args
}

// queryWhere translates the filters of q into a WHERE clause on traces
// (empty when nothing filters) and its arguments; Limit and Order are not
// its business.
func queryWhere(q *trace.Query) (string, []any) {
	var where []string
	var args []any
	add := func(cond string, arg any) {
		where = append(where, cond)
		args = append(args, arg)
	}
	if !q.Start.IsZero() {
		add("start_ns >= ?", unixNano(q.Start))
	}
	if !q.End.IsZero() {
		add("start_ns < ?", unixNano(q.End))
	}
	if q.MinDuration > 0 {
		add("duration_ns >= ?", int64(q.MinDuration))
	}
	if q.MaxDuration > 0 {
		add("duration_ns <= ?", int64(q.MaxDuration))
	}
	if q.Service != "" {
		add("service = ?", q.Service)
	}
	if q.Pool != "" {
		add("pool = ?", q.Pool)
	}
	if q.Method != "" {
		add("method = ?", q.Method)
	}
	if q.PathPrefix != "" {
		// A range, not LIKE: no wildcards to escape, case-sensitive like
		// Matches, and the path index serves it.
		add("path >= ?", q.PathPrefix)
		if upper, ok := prefixSuccessor(q.PathPrefix); ok {
			add("path < ?", upper)
		}
	}
	if q.StatusCode != 0 {
		add("status = ?", q.StatusCode)
	}
	if q.ErrorsOnly {
		// A literal, not a bound 1: only then may SQLite use the partial
		// index traces_error.
		where = append(where, "error = 1")
	}
	if len(where) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(where, " AND "), args
}

// prefixSuccessor returns the smallest string greater than every string
// starting with prefix, comparing bytes as SQLite's BINARY collation does.
// ok is false when there is none (prefix is all 0xff bytes).
func prefixSuccessor(prefix string) (upper string, ok bool) {
	b := []byte(prefix)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			return string(b[:i+1]), true
		}
	}
	return "", false
}

// unixNano is t.UnixNano, saturating outside the years 1678-2262 where
// UnixNano is undefined; a query for "since 1 AD" still means "everything".
func unixNano(t time.Time) int64 {
	switch {
	case t.Before(time.Unix(0, math.MinInt64)):
		return math.MinInt64
	case t.After(time.Unix(0, math.MaxInt64)):
		return math.MaxInt64
	}
	return t.UnixNano()
}

// SearchPlan returns SQLite's plan for the search q, one line per step: what
// a benchmark or an operator looks at when a search is slow.
func (s *Store) SearchPlan(ctx context.Context, q trace.Query) ([]string, error) {
	if err := q.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidQuery, err)
	}
	if s.closed.Load() {
		return nil, ErrClosed
	}
	query, args := searchSQL(&q)
	return s.plan(ctx, query, args)
}

// plan returns SQLite's plan for query, one line per step.
func (s *Store) plan(ctx context.Context, query string, args []any) ([]string, error) {
	rows, err := s.readDB.QueryContext(ctx, "EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: query plan: %w", err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			return nil, fmt.Errorf("store: query plan: %w", err)
		}
		plan = append(plan, detail)
	}
	return plan, rows.Err()
}
