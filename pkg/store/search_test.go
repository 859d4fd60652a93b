package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tusk-php/tusk/pkg/trace"
)

var emptyQuery = trace.Query{}

// referenceSearch is what Search must return: trace.Query.Matches over all
// summaries, sorted as documented (ties: the later added first).
func referenceSearch(all []*trace.Trace, q trace.Query) []trace.Summary {
	type hit struct {
		sum trace.Summary
		pos int
	}
	var hits []hit
	for i, t := range all {
		if q.Matches(&t.Summary) {
			hits = append(hits, hit{t.Summary, i})
		}
	}
	slices.SortFunc(hits, func(a, b hit) int {
		if q.Order == trace.OrderSlowest {
			if c := cmp.Compare(b.sum.DurationNano, a.sum.DurationNano); c != 0 {
				return c
			}
		} else if c := cmp.Compare(b.sum.StartUnixNano, a.sum.StartUnixNano); c != 0 {
			return c
		}
		return cmp.Compare(b.pos, a.pos)
	})
	out := []trace.Summary{}
	for _, h := range hits[:min(len(hits), q.EffectiveLimit())] {
		out = append(out, h.sum)
	}
	return out
}

// addAll writes traces, flushing every 1000 so that the queue's bounds
// (Options.QueueSize, QueueBytes) never drop one.
func addAll(t testing.TB, s *Store, traces []*trace.Trace) {
	t.Helper()
	dropped := s.Stats().Dropped
	for i, tr := range traces {
		s.Add(tr)
		if i%1000 == 999 || i == len(traces)-1 {
			if err := s.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
	}
	if n := s.Stats().Dropped - dropped; n > 0 {
		t.Fatalf("%d of %d traces dropped", n, len(traces))
	}
}

func TestSearchMatchesReference(t *testing.T) {
	s := openTestStore(t, Options{})
	end := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	traces := newTraceMaker(1).makeN(2000, end)
	addAll(t, s, traces)
	first := end.Add(-2000 * time.Millisecond)

	queries := []trace.Query{
		{},
		{Order: trace.OrderSlowest},
		{Limit: trace.MaxLimit},
		{Start: first.Add(time.Second), End: first.Add(2 * time.Second)},
		{Start: end.Add(-10 * time.Millisecond)}, // boundary: start is inclusive
		{End: first.Add(10 * time.Millisecond)},  // end is exclusive
		{MinDuration: time.Second, Order: trace.OrderSlowest},
		{MinDuration: 500 * time.Millisecond, MaxDuration: 600 * time.Millisecond},
		{Service: "shop"},
		{Service: "shop", Pool: "api"},
		{Pool: "www", Order: trace.OrderSlowest},
		{Method: "POST"},
		{PathPrefix: "/api/"},
		{PathPrefix: "/product/42"},
		{PathPrefix: "/100%"},     // % is not a wildcard
		{PathPrefix: "/a_b"},      // nor is _
		{PathPrefix: "%"},         // matches nothing: no path starts with %
		{PathPrefix: "/a_"},       // LIKE would also match "/ab"
		{PathPrefix: "/\xff\xff"}, // no successor exists
		{PathPrefix: "/api\x7f"},  // successor is not valid UTF-8
		{StatusCode: 404},
		{ErrorsOnly: true},
		{ErrorsOnly: true, Service: "blog", Order: trace.OrderSlowest, Limit: 7},
		{Start: first, End: end, MinDuration: 100 * time.Millisecond, Service: "shop", Pool: "www",
			Method: "GET", PathPrefix: "/cart", StatusCode: 200, Limit: 1000},
		{Start: time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), End: time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)},
		{Service: "nope"},
	}
	rng := rand.New(rand.NewPCG(7, 7))
	for range 200 {
		queries = append(queries, randomQuery(rng, traces, first))
	}
	ctx := context.Background()
	for i, q := range queries {
		got, err := s.Search(ctx, q)
		if err != nil {
			t.Fatalf("query %d %+v: %v", i, q, err)
		}
		want := referenceSearch(traces, q)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("query %d %+v: got %d summaries, want %d\n%s", i, q, len(got), len(want), firstDiff(got, want))
		}
	}
}

// TestSearchFollowsTheMatchCount: a search with a path prefix, or a time
// range ordered by duration, goes through the range's index when fewer
// than rangeFactor x Limit traces match, and along its order's index when
// more do; either way it returns what the reference does.
func TestSearchFollowsTheMatchCount(t *testing.T) {
	s := openTestStore(t, Options{})
	end := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	traces := newTraceMaker(3).makeN(3000, end)
	addAll(t, s, traces)
	if err := s.ApplyRetention(context.Background(), end); err != nil { // planner statistics
		t.Fatal(err)
	}
	first := end.Add(-3000 * time.Millisecond)
	for _, c := range []struct {
		name    string
		q       trace.Query
		planHas string // a step of the plan SQLite shows for it
	}{
		{"broad path", trace.Query{PathPrefix: "/", Limit: 5}, "traces_start"},
		{"broad path, slowest", trace.Query{PathPrefix: "/", Limit: 5, Order: trace.OrderSlowest}, "traces_duration"},
		{"narrow path", trace.Query{PathPrefix: "/wp-admin/post", Limit: 100}, "json_each"},
		{"broad path, no match with the rest", trace.Query{PathPrefix: "/", Service: "nope", Limit: 5}, "json_each"},
		{"long range, slowest", trace.Query{Start: first, End: end, Order: trace.OrderSlowest, Limit: 5}, "traces_duration"},
		{"short range, slowest", trace.Query{Start: end.Add(-100 * time.Millisecond), End: end, Order: trace.OrderSlowest, Limit: 100}, "json_each"},
		{"broad path, long range, slowest", trace.Query{Start: first, PathPrefix: "/", Order: trace.OrderSlowest, Limit: 5}, "traces_duration"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			got, err := s.Search(ctx, c.q)
			if err != nil {
				t.Fatal(err)
			}
			if want := referenceSearch(traces, c.q); !reflect.DeepEqual(got, want) {
				t.Errorf("got %d summaries, want %d\n%s", len(got), len(want), firstDiff(got, want))
			}
			plan, err := s.SearchPlan(ctx, c.q)
			if err != nil {
				t.Fatal(err)
			}
			if steps := strings.Join(plan, "\n"); !strings.Contains(steps, c.planHas) || strings.Contains(steps, "traces_path") {
				t.Errorf("plan does not go by %s:\n%s", c.planHas, steps)
			}
		})
	}
}

func randomQuery(r *rand.Rand, traces []*trace.Trace, first time.Time) trace.Query {
	var q trace.Query
	pick := func() bool { return r.IntN(3) == 0 }
	some := traces[r.IntN(len(traces))]
	if pick() {
		q.Start = first.Add(time.Duration(r.IntN(2000)) * time.Millisecond)
	}
	if pick() {
		q.End = q.Start.Add(time.Duration(r.IntN(2000)) * time.Millisecond)
		if q.Start.IsZero() {
			q.End = first.Add(time.Duration(r.IntN(2000)) * time.Millisecond)
		}
	}
	if pick() {
		q.MinDuration = time.Duration(r.Int64N(int64(time.Second)))
	}
	if pick() {
		q.MaxDuration = q.MinDuration + time.Duration(r.Int64N(int64(time.Second)))
	}
	if pick() {
		q.Service = some.Service
	}
	if pick() {
		q.Pool = some.Pool
	}
	if pick() {
		q.Method = some.Method
	}
	if pick() {
		q.PathPrefix = some.Path[:1+r.IntN(len(some.Path))]
	}
	if pick() {
		q.StatusCode = some.StatusCode
	}
	q.ErrorsOnly = r.IntN(5) == 0
	if pick() {
		q.Limit = 1 + r.IntN(300)
	}
	if r.IntN(2) == 0 {
		q.Order = trace.OrderSlowest
	}
	return q
}

func firstDiff(got, want []trace.Summary) string {
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			return fmt.Sprintf("first difference at %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
	return "one is a prefix of the other"
}

func TestSearchRejectsInvalidQueries(t *testing.T) {
	s := openTestStore(t, Options{})
	now := time.Now()
	for _, q := range []trace.Query{
		{Start: now, End: now.Add(-time.Second)},
		{MinDuration: -1},
		{MinDuration: 2 * time.Second, MaxDuration: time.Second},
		{StatusCode: 42},
		{Limit: trace.MaxLimit + 1},
		{Order: "random"},
	} {
		_, err := s.Search(context.Background(), q)
		reason := q.Validate()
		if !errors.Is(err, ErrInvalidQuery) || !errors.Is(err, reason) && !strings.Contains(err.Error(), reason.Error()) {
			t.Errorf("%+v: got %v, want ErrInvalidQuery carrying %q", q, err, reason)
		}
	}
}

func TestPrefixSuccessor(t *testing.T) {
	for prefix, want := range map[string]string{
		"/api":         "/apj",
		"/api\xff":     "/apj",
		"a\xff\xff":    "b",
		"/\x7f":        "/\x80",
		"\xff\xff\xff": "",
	} {
		got, ok := prefixSuccessor(prefix)
		if got != want || ok != (want != "") {
			t.Errorf("prefixSuccessor(%q) = %q, %v; want %q", prefix, got, ok, want)
		}
	}
}
