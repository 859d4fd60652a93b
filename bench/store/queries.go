package main

import (
	"math/rand/v2"
	"sort"
	"strings"
	"time"

	"github.com/tusk-php/tusk/pkg/trace"
)

// pathPrefixes are what a user types in the path filter: route prefixes,
// some broad, some narrow.
var pathPrefixes = []string{
	"/wp-json/", "/wp-admin/", "/category/", "/2024/", "/products/", "/cart",
	"/api/v1/orders", "/api/v1/products/", "/api/v1/users/1", "/contacts/", "/deals", "/reports/",
}

// randomQuery draws one search the way the UI issues them: a time range
// most of the time, zero to three filters, newest or slowest, limit 20/100/500.
func randomQuery(r *rand.Rand, now time.Time, spread time.Duration) (trace.Query, string) {
	var q trace.Query
	var tags []string
	if r.IntN(10) < 7 {
		ranges := []time.Duration{15 * time.Minute, time.Hour, 6 * time.Hour, 24 * time.Hour}
		names := []string{"15m", "1h", "6h", "24h"}
		k := r.IntN(len(ranges))
		end := now
		if r.IntN(5) == 0 && spread > ranges[k] { // a window in the past, e.g. yesterday's incident
			end = now.Add(-time.Duration(r.Int64N(int64(spread - ranges[k]))))
			tags = append(tags, "past-"+names[k])
		} else {
			tags = append(tags, "last-"+names[k])
		}
		q.Start, q.End = end.Add(-ranges[k]), end
	}
	if r.IntN(100) < 25 {
		a := apps[r.IntN(len(apps))]
		q.Service = a.service
		tags = append(tags, "service")
	}
	if r.IntN(100) < 15 {
		q.Pool = apps[r.IntN(len(apps))].pool
		tags = append(tags, "pool")
	}
	if r.IntN(100) < 12 {
		q.Method = []string{"GET", "POST", "PUT", "PATCH", "DELETE"}[r.IntN(5)]
		tags = append(tags, "method")
	}
	if r.IntN(100) < 20 {
		q.PathPrefix = pathPrefixes[r.IntN(len(pathPrefixes))]
		tags = append(tags, "path")
	}
	if r.IntN(100) < 8 {
		q.StatusCode = []int{200, 404, 500, 502, 302}[r.IntN(5)]
		tags = append(tags, "status")
	}
	if r.IntN(100) < 10 {
		q.ErrorsOnly = true
		tags = append(tags, "errors")
	}
	if r.IntN(100) < 12 {
		q.MinDuration = []time.Duration{100 * time.Millisecond, 500 * time.Millisecond, time.Second, 3 * time.Second}[r.IntN(4)]
		tags = append(tags, "minDur")
	}
	if r.IntN(100) < 30 {
		q.Order = trace.OrderSlowest
		tags = append(tags, "slowest")
	} else {
		tags = append(tags, "newest")
	}
	switch x := r.IntN(100); {
	case x < 45:
		q.Limit = 20
	case x < 85:
		q.Limit = 100
	default:
		q.Limit = 500
	}
	return q, strings.Join(tags, "+")
}

// shape is a query's filters without the time range's position or values:
// the class its latency is grouped under.
func shape(tag string) string {
	parts := strings.Split(tag, "+")
	for i, p := range parts {
		if strings.HasPrefix(p, "past-") || strings.HasPrefix(p, "last-") {
			parts[i] = "range"
		}
	}
	return strings.Join(parts, "+")
}

// durations is a sample of latencies.
type durations []time.Duration

func (d durations) pct(p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := append(durations(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(p/100*float64(len(s))+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}

func (d durations) max() time.Duration { return d.pct(100) }

// searchSQL mirrors pkg/store's searchSQL (unexported) so the bench can ask
// SQLite for the plan of a slow query. Keep the two in step.
func searchSQL(q *trace.Query) (string, []any) {
	var where []string
	var args []any
	add := func(c string, a any) { where = append(where, c); args = append(args, a) }
	if !q.Start.IsZero() {
		add("start_ns >= ?", q.Start.UnixNano())
	}
	if !q.End.IsZero() {
		add("start_ns < ?", q.End.UnixNano())
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
		add("path >= ?", q.PathPrefix)
		b := []byte(q.PathPrefix)
		b[len(b)-1]++
		add("path < ?", string(b))
	}
	if q.StatusCode != 0 {
		add("status = ?", q.StatusCode)
	}
	if q.ErrorsOnly {
		where = append(where, "error = 1")
	}
	s := "SELECT trace_id, start_ns, duration_ns, service, pool, host, method, path, status, error, incomplete, span_count, n_plus_one FROM traces"
	if len(where) > 0 {
		s += " WHERE " + strings.Join(where, " AND ")
	}
	if q.Order == trace.OrderSlowest {
		s += " ORDER BY duration_ns DESC, rowid DESC"
	} else {
		s += " ORDER BY start_ns DESC, rowid DESC"
	}
	return s + " LIMIT ?", append(args, q.EffectiveLimit())
}
