package store

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tusk-php/tusk/pkg/agentapi"
	"github.com/tusk-php/tusk/pkg/trace"
)

// RED figures are counted from the traces table in two passes over one
// read transaction, so both see the same rows: the first counts the
// requests of every group in SQL to pick the Limit busiest, the second
// streams the matching rows in start order and adds each to its series
// (or to the others'). Memory is then the answer itself, at most Limit+1
// series of Steps points, however many distinct endpoints the range holds.
// Histograms are filled in Go, with red.BucketOf, not in SQL: the bucket
// arithmetic must be the one the plugin reads percentiles with.

// redKey is what one series stands for; the fields not grouped by are empty.
type redKey struct {
	service, pool, endpoint string
}

func (k redKey) compare(o redKey) int {
	return cmp.Or(strings.Compare(k.service, o.service), strings.Compare(k.pool, o.pool), strings.Compare(k.endpoint, o.endpoint))
}

// redEndpoint is trace.Summary.Name in SQL, the name the profile routes
// know an endpoint by: "METHOD /path", the path alone without a method
// (php-cli), the service without either. The tests hold the two together.
const redEndpoint = `CASE WHEN method != '' AND path != '' THEN method || ' ' || path WHEN path != '' THEN path ELSE service END`

// redKeyColumns selects a row's redKey (service, pool, endpoint) for each
// grouping, with an empty string for what is not grouped by.
var redKeyColumns = map[agentapi.REDGroupBy]string{
	agentapi.GroupByEndpoint: "service, pool, " + redEndpoint,
	agentapi.GroupByPool:     "service, pool, ''",
	agentapi.GroupByService:  "service, '', ''",
	agentapi.GroupByNone:     "'', '', ''",
}

// RED returns the request rate, errors and duration histograms per step of
// the traces that started in [q.From, q.To) and match its filters, in
// series as q.GroupBy says; see agentapi.REDResponse. Zero fields of q take
// REDQuery.WithDefaults' values. A query that fails q.Validate is rejected
// with an error matching ErrInvalidQuery, carrying Validate's message.
// Traces still queued, not yet written, are not counted yet.
func (s *Store) RED(ctx context.Context, q agentapi.REDQuery) (*agentapi.REDResponse, error) {
	q = q.WithDefaults(time.Now())
	if err := q.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidQuery, err)
	}
	if s.closed.Load() {
		return nil, ErrClosed
	}
	tx, err := s.readDB.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("store: RED metrics: %w", err)
	}
	defer tx.Rollback() // read only: nothing to commit

	where, args := redWhere(&q)
	top, others := []redKey{{}}, false // one group: nothing to rank
	if q.GroupBy != agentapi.GroupByNone {
		if top, others, err = redBusiest(ctx, tx, &q, where, args); err != nil {
			return nil, fmt.Errorf("store: RED metrics: %w", err)
		}
	}
	series, err := redSeries(ctx, tx, &q, where, args, top, others)
	if err != nil {
		return nil, fmt.Errorf("store: RED metrics: %w", err)
	}
	return &agentapi.REDResponse{
		From:   time.UnixMilli(q.StepStartUnixMs(q.From)).UTC(),
		To:     q.To.UTC(),
		Step:   agentapi.Duration(q.Step),
		Series: series,
	}, nil
}

// redWhere is the WHERE clause of q's traces: the search's filters, so that
// trace.Query.Matches is the reference for both.
func redWhere(q *agentapi.REDQuery) (string, []any) {
	where, args := queryWhere(&trace.Query{
		Start: q.From, End: q.To, Service: q.Service, Pool: q.Pool, Method: q.Method, PathPrefix: q.PathPrefix,
	}, searchPlan{})
	if q.Endpoint != "" {
		// Not indexed: the rows of the range are read for the series anyway.
		if where == "" {
			where = " WHERE " + redEndpoint + " = ?"
		} else {
			where += " AND " + redEndpoint + " = ?"
		}
		args = append(args, q.Endpoint)
	}
	return where, args
}

// redBusiest returns the keys of the q.Limit groups with the most requests,
// busiest first, ties by key, and whether there are others.
func redBusiest(ctx context.Context, tx *sql.Tx, q *agentapi.REDQuery, where string, args []any) (top []redKey, others bool, err error) {
	rows, err := tx.QueryContext(ctx,
		"SELECT "+redKeyColumns[q.GroupBy]+", count(*) FROM traces"+where+" GROUP BY 1, 2, 3", args...)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	type group struct {
		key      redKey
		requests int64
	}
	var groups []group
	for rows.Next() {
		var g group
		if err := rows.Scan(&g.key.service, &g.key.pool, &g.key.endpoint, &g.requests); err != nil {
			return nil, false, err
		}
		groups = append(groups, g)
	}
	if err := rows.Err(); err != nil {
		return nil, false, err
	}
	slices.SortFunc(groups, func(a, b group) int {
		return cmp.Or(cmp.Compare(b.requests, a.requests), a.key.compare(b.key))
	})
	top = make([]redKey, 0, min(len(groups), q.Limit))
	for _, g := range groups[:min(len(groups), q.Limit)] {
		top = append(top, g.key)
	}
	return top, len(groups) > q.Limit, nil
}

// redSeries streams the matching rows and counts each in the series of its
// key among top, or, with others, in the last series, which sums the rest.
// Series without a point are left out.
func redSeries(ctx context.Context, tx *sql.Tx, q *agentapi.REDQuery, where string, args []any, top []redKey, others bool) ([]agentapi.REDSeries, error) {
	series := make([]agentapi.REDSeries, len(top), len(top)+1)
	index := make(map[redKey]int, len(top))
	for i, k := range top {
		series[i] = agentapi.REDSeries{Service: k.service, Pool: k.pool, Endpoint: k.endpoint}
		index[k] = i
	}
	other := -1
	if others {
		other = len(series)
		series = append(series, agentapi.REDSeries{Other: true})
	}

	// In start order every series meets its steps oldest first, so a row
	// is counted in the series' last point or starts a new one.
	rows, err := tx.QueryContext(ctx,
		"SELECT start_ns, duration_ns, error, "+redKeyColumns[q.GroupBy]+" FROM traces"+where+" ORDER BY start_ns", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var startNs, durationNs int64
	var isError bool
	var key redKey
	for rows.Next() {
		if err := rows.Scan(&startNs, &durationNs, &isError, &key.service, &key.pool, &key.endpoint); err != nil {
			return nil, err
		}
		i, ok := index[key]
		if !ok {
			// A group redBusiest did not see cannot occur in the same
			// transaction, so this is one of the others.
			i = other
		}
		if i < 0 {
			return nil, fmt.Errorf("group %+v is neither among the busiest nor the others", key)
		}
		start := q.StepStartUnixMs(time.Unix(0, startNs))
		points := series[i].Points
		if n := len(points); n == 0 || points[n-1].StartUnixMs != start {
			points = append(points, agentapi.REDPoint{StartUnixMs: start})
		}
		p := &points[len(points)-1]
		p.Requests++
		if isError {
			p.Errors++
		}
		p.Durations.Add(time.Duration(durationNs))
		series[i].Points = points
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return slices.DeleteFunc(series, func(s agentapi.REDSeries) bool { return len(s.Points) == 0 }), nil
}
