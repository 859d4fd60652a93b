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
