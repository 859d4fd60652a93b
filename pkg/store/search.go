package store

import (
	"context"
	"fmt"
	"math"
	"strconv"
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
	plan, err := s.planSearch(ctx, &q)
	if err != nil {
		return nil, fmt.Errorf("store: search: %w", err)
	}
	query, args := searchSQL(&q, plan)
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

// A search with a path prefix, or a time range ordered by duration, can
// go two ways: through the index of that range (traces_path,
// traces_start), reading every trace in it and sorting those that match
// the other filters, or along the index of its order (traces_start,
// traces_duration, ...), testing the filters on each entry until it has
// Limit hits. SQLite's planner does not weigh LIMIT and takes filters as
// independent, so it took traces_path for "the newest 100 under
// /wp-json/", sorting 30k matches (40 ms among 333k traces, bench/store),
// sorted a whole day for "the slowest 20 of the last 24 hours", and
// walked all of a service for a path that service never serves. So
// planSearch first collects, through the range's index, the ids of the
// traces matching the whole query, reading index entries only (every
// index holds every filtered column, schema.go) and stopping at
// rangeFactor x Limit of them. Fewer: those are all the matches, and the
// search sorts just them. That many: walking the order's index finds
// Limit hits within the first 1/rangeFactor of what it walks, and the
// search keeps SQLite off the range's index.
const rangeFactor = 10

// searchPlan is what planSearch decided.
type searchPlan struct {
	matches       []int64 // non-nil: the ids of every trace matching the query
	unindexedPath bool    // walk the order's index, not traces_path
	unindexedTime bool    // walk the order's index, not traces_start
}

// planSearch decides how a search with a path prefix or, ordered by
// duration, a time range uses their indexes (see rangeFactor).
func (s *Store) planSearch(ctx context.Context, q *trace.Query) (searchPlan, error) {
	var p searchPlan
	enough := rangeFactor * q.EffectiveLimit()
	for _, index := range []string{"traces_path", "traces_start"} {
		switch {
		case index == "traces_path" && q.PathPrefix == "":
			continue
		case index == "traces_start" && (q.Order != trace.OrderSlowest || q.Start.IsZero() && q.End.IsZero()):
			continue
		}
		where, args := queryWhere(q, p)
		ids, err := s.ids(ctx, "SELECT id FROM traces INDEXED BY "+index+where+" LIMIT ?", append(args, enough)...)
		if err != nil {
			return p, err
		}
		if len(ids) < enough {
			return searchPlan{matches: ids}, nil
		}
		p.unindexedPath = p.unindexedPath || index == "traces_path"
		p.unindexedTime = p.unindexedTime || index == "traces_start"
	}
	return p, nil
}

// ids runs query, which selects traces.id.
func (s *Store) ids(ctx context.Context, query string, args ...any) ([]int64, error) {
	rows, err := s.readDB.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	ids := []int64{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// searchSQL translates q, which must be valid, into one SELECT. It mirrors
// trace.Query.Matches term by term (planSearch's count did, when p has the
// matches); the tests hold the two against each other. User input only
// ever travels as bound arguments. A trace written between planSearch and
// this SELECT may be missing from a search by matches: it is as of the
// count.
func searchSQL(q *trace.Query, p searchPlan) (string, []any) {
	var where string
	var args []any
	if p.matches != nil {
		list := []byte{'['}
		for i, id := range p.matches {
			if i > 0 {
				list = append(list, ',')
			}
			list = strconv.AppendInt(list, id, 10)
		}
		where, args = " WHERE id IN (SELECT value FROM json_each(?))", []any{string(append(list, ']'))}
	} else {
		where, args = queryWhere(q, p)
	}
	var b strings.Builder
	b.WriteString("SELECT " + summaryColumns + " FROM traces" + where)
	// rowid (traces.id) breaks ties in insertion order and follows the
	// order's column in every index (schema.go, migration 5), so the
	// indexes still deliver this order without a sort.
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
// its business. p says which range filters to keep SQLite from seeking by
// their index: they are written as expressions (+column), which it tests
// but cannot look up.
func queryWhere(q *trace.Query, p searchPlan) (string, []any) {
	var where []string
	var args []any
	add := func(cond string, arg any) {
		where = append(where, cond)
		args = append(args, arg)
	}
	start := "start_ns"
	if p.unindexedTime {
		start = "+start_ns"
	}
	if !q.Start.IsZero() {
		add(start+" >= ?", unixNano(q.Start))
	}
	if !q.End.IsZero() {
		add(start+" < ?", unixNano(q.End))
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
		column := "path"
		if p.unindexedPath {
			column = "+path"
		}
		conds, pathArgs := pathRange(q.PathPrefix, column)
		where = append(where, conds...)
		args = append(args, pathArgs...)
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

// pathRange is the condition that column starts with prefix. A range, not
// LIKE: no wildcards to escape, case-sensitive like Matches, and the path
// index serves it.
func pathRange(prefix, column string) (conds []string, args []any) {
	conds, args = []string{column + " >= ?"}, []any{prefix}
	if upper, ok := prefixSuccessor(prefix); ok {
		conds, args = append(conds, column+" < ?"), append(args, upper)
	}
	return conds, args
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
	plan, err := s.planSearch(ctx, &q)
	if err != nil {
		return nil, fmt.Errorf("store: query plan: %w", err)
	}
	query, args := searchSQL(&q, plan)
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
