package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tusk-php/tusk/pkg/agentapi"
	"github.com/tusk-php/tusk/pkg/red"
	"github.com/tusk-php/tusk/pkg/trace"
)

// redEnd is when the RED fixtures end. The stores keep them whatever day
// the tests run (openREDStore), so the dates can stay fixed.
var redEnd = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func openREDStore(t testing.TB) *Store {
	return openTestStore(t, Options{MaxAge: 100 * 365 * 24 * time.Hour})
}

// spreadTraces returns n fixture traces started at random instants in the
// span before end, oldest first. One in twenty has no method (php-cli) and
// one in sixty not even a path, for the endpoint names that fall back.
func spreadTraces(seed uint64, n int, span time.Duration, end time.Time) []*trace.Trace {
	m := newTraceMaker(seed)
	starts := make([]time.Time, n)
	for i := range starts {
		starts[i] = end.Add(-time.Duration(m.rng.Int64N(int64(span))) - 1)
	}
	slices.SortFunc(starts, time.Time.Compare)
	out := make([]*trace.Trace, n)
	for i, start := range starts {
		out[i] = m.make(start)
		switch m.rng.IntN(60) {
		case 0:
			out[i].Method, out[i].Path = "", ""
		case 1, 2:
			out[i].Method = ""
		}
	}
	return out
}

// referenceKey is the group of s by trace.Summary.Name, in Go.
func referenceKey(s *trace.Summary, by agentapi.REDGroupBy) redKey {
	switch by {
	case agentapi.GroupByEndpoint:
		return redKey{s.Service, s.Pool, s.Name()}
	case agentapi.GroupByPool:
		return redKey{s.Service, s.Pool, ""}
	case agentapi.GroupByService:
		return redKey{s.Service, "", ""}
	}
	return redKey{}
}

// referenceRED is what RED must answer for q, which must be complete and
// valid, computed the plain way: filter with trace.Query.Matches, count
// every group in every step, rank the groups, sum the rest.
func referenceRED(all []*trace.Trace, q agentapi.REDQuery) *agentapi.REDResponse {
	filter := trace.Query{Start: q.From, End: q.To, Service: q.Service, Pool: q.Pool, Method: q.Method, PathPrefix: q.PathPrefix}
	type group struct {
		key      redKey
		requests uint64
		points   map[int64]*agentapi.REDPoint
	}
	newGroup := func(k redKey) *group { return &group{key: k, points: map[int64]*agentapi.REDPoint{}} }
	point := func(g *group, startMs int64) *agentapi.REDPoint {
		if g.points[startMs] == nil {
			g.points[startMs] = &agentapi.REDPoint{StartUnixMs: startMs}
		}
		return g.points[startMs]
	}
	step := int64(q.Step)
	groups := map[redKey]*group{}
	for _, t := range all {
		if !filter.Matches(&t.Summary) || (q.Endpoint != "" && t.Summary.Name() != q.Endpoint) {
			continue
		}
		k := referenceKey(&t.Summary, q.GroupBy)
		if groups[k] == nil {
			groups[k] = newGroup(k)
		}
		g := groups[k]
		g.requests++
		p := point(g, t.StartUnixNano/step*step/1e6) // all after 1970: / rounds down
		p.Requests++
		if t.Error {
			p.Errors++
		}
		p.Durations.Add(t.Duration())
	}
	seriesOf := func(g *group) agentapi.REDSeries {
		s := agentapi.REDSeries{Service: g.key.service, Pool: g.key.pool, Endpoint: g.key.endpoint}
		for _, start := range slices.Sorted(maps.Keys(g.points)) {
			s.Points = append(s.Points, *g.points[start])
		}
		return s
	}
	ranked := slices.SortedFunc(maps.Values(groups), func(a, b *group) int {
		return cmp.Or(cmp.Compare(b.requests, a.requests), a.key.compare(b.key))
	})
	out := &agentapi.REDResponse{
		From: time.Unix(0, q.From.UnixNano()/step*step).UTC(), To: q.To.UTC(), Step: agentapi.Duration(q.Step),
		Series: []agentapi.REDSeries{},
	}
	others := newGroup(redKey{})
	for i, g := range ranked {
		if i < q.Limit {
			out.Series = append(out.Series, seriesOf(g))
			continue
		}
		for start, p := range g.points {
			sum := point(others, start)
			sum.Requests += p.Requests
			sum.Errors += p.Errors
			sum.Durations.Merge(&p.Durations)
		}
	}
	if len(ranked) > q.Limit {
		s := seriesOf(others)
		s.Other = true
		out.Series = append(out.Series, s)
	}
	return out
}

func TestREDMatchesReference(t *testing.T) {
	s := openREDStore(t)
	const span = 3 * time.Hour
	traces := spreadTraces(1, 6000, span, redEnd)
	addAll(t, s, traces)
	first := redEnd.Add(-span)

	queries := []agentapi.REDQuery{
		{From: first, To: redEnd},
		{From: first, To: redEnd, GroupBy: agentapi.GroupByNone},
		{From: first, To: redEnd, GroupBy: agentapi.GroupByService, Step: time.Hour},
		{From: first, To: redEnd, GroupBy: agentapi.GroupByPool, Limit: 2},
		{From: first, To: redEnd, Limit: agentapi.MaxREDLimit},         // every endpoint, no others
		{From: first, To: redEnd, Limit: 1, Step: 10 * time.Second},    // nearly all in the others
		{From: first, To: redEnd.Add(-time.Hour), Step: time.Second},   // 7200 points
		{From: first.Add(-time.Hour), To: first.Add(time.Millisecond)}, // mostly before the data
		{From: redEnd, To: redEnd.Add(time.Hour)},                      // after it
		{From: first, To: redEnd, Service: "shop", Pool: "api", Method: "GET"},
		{From: first, To: redEnd, PathPrefix: "/api/", GroupBy: agentapi.GroupByPool},
		{From: first, To: redEnd, PathPrefix: "/100%"}, // % is not a wildcard
		{From: first, To: redEnd, PathPrefix: "/\xff\xff"},
		{From: first, To: redEnd, Service: "nope"},
		{From: first, To: redEnd, Endpoint: traces[0].Summary.Name(), GroupBy: agentapi.GroupByPool},
		{From: first, To: redEnd, Endpoint: "GET /no/such/endpoint"},
	}
	rng := rand.New(rand.NewPCG(7, 7))
	for range 200 {
		queries = append(queries, randomREDQuery(rng, traces, first, redEnd))
	}
	ctx := context.Background()
	for i, q := range queries {
		q = q.WithDefaults(redEnd)
		got, err := s.RED(ctx, q)
		if err != nil {
			t.Fatalf("query %d %+v: %v", i, q, err)
		}
		if want := referenceRED(traces, q); !reflect.DeepEqual(got, want) {
			t.Errorf("query %d %+v:\n%s", i, q, redDiff(got, want))
		}
	}
}

func randomREDQuery(r *rand.Rand, traces []*trace.Trace, first, end time.Time) agentapi.REDQuery {
	pick := func() bool { return r.IntN(3) == 0 }
	steps := []time.Duration{time.Second, 1500 * time.Millisecond, 7 * time.Second, time.Minute, 90 * time.Second, 13 * time.Minute, time.Hour}
	groupBys := []agentapi.REDGroupBy{agentapi.GroupByEndpoint, agentapi.GroupByPool, agentapi.GroupByService, agentapi.GroupByNone}
	span := end.Sub(first)
	q := agentapi.REDQuery{
		From:    first.Add(time.Duration(r.Int64N(int64(span+20*time.Minute))) - 10*time.Minute),
		Step:    steps[r.IntN(len(steps))],
		GroupBy: groupBys[r.IntN(len(groupBys))],
		Limit:   1 + r.IntN(40),
	}
	q.To = q.From.Add(time.Duration(r.Int64N(int64(span))))
	if q.Validate() != nil { // too many points
		q.Step = time.Minute
	}
	some := &traces[r.IntN(len(traces))].Summary
	if pick() {
		q.Service = some.Service
	}
	if pick() {
		q.Pool = some.Pool
	}
	if pick() {
		q.Method = some.Method
	}
	if pick() && some.Path != "" {
		q.PathPrefix = some.Path[:1+r.IntN(len(some.Path))]
	}
	if pick() {
		q.Endpoint = some.Name()
	}
	return q
}

// redDiff says where two answers first differ.
func redDiff(got, want *agentapi.REDResponse) string {
	if !got.From.Equal(want.From) || !got.To.Equal(want.To) || got.Step != want.Step {
		return fmt.Sprintf("got [%s, %s) by %s, want [%s, %s) by %s", got.From, got.To, got.Step, want.From, want.To, want.Step)
	}
	for i := range max(len(got.Series), len(want.Series)) {
		var g, w agentapi.REDSeries
		if i < len(got.Series) {
			g = got.Series[i]
		}
		if i < len(want.Series) {
			w = want.Series[i]
		}
		if !reflect.DeepEqual(g, w) {
			return fmt.Sprintf("series %d of %d:\n got %s\nwant %s (of %d)", i, len(got.Series), describeSeries(g), describeSeries(w), len(want.Series))
		}
	}
	return "no difference found"
}

func describeSeries(s agentapi.REDSeries) string {
	var requests, errs uint64
	for _, p := range s.Points {
		requests += p.Requests
		errs += p.Errors
	}
	return fmt.Sprintf("%q %q %q other=%v: %d points, %d requests, %d errors", s.Service, s.Pool, s.Endpoint, s.Other, len(s.Points), requests, errs)
}

func TestREDGroupsAndOthers(t *testing.T) {
	s := openREDStore(t)
	at := redEnd.Add(-time.Hour)
	var traces []*trace.Trace
	add := func(service, pool, method, path string, offset, duration time.Duration, isError bool, n int) {
		for range n {
			traces = append(traces, &trace.Trace{Summary: trace.Summary{
				TraceID: trace.NewTraceID(), Service: service, Pool: pool, Method: method, Path: path,
				StartUnixNano: at.Add(offset).UnixNano(), DurationNano: int64(duration), Error: isError,
			}})
		}
	}
	add("shop", "www", "GET", "/cart", 0, 10*time.Millisecond, false, 3)
	add("shop", "www", "GET", "/cart", 90*time.Second, 20*time.Millisecond, true, 1)
	add("shop", "www", "POST", "/cart", 0, 30*time.Millisecond, true, 2)
	add("shop", "api", "GET", "/v1/orders", 0, time.Millisecond, false, 2)
	add("shop", "api", "", "/cron.php", 0, 5*time.Second, false, 1) // php-cli: the path names it
	add("blog", "www", "", "", 2*time.Minute, 7*time.Millisecond, false, 1)
	addAll(t, s, traces)

	hist := func(durations ...time.Duration) (h red.Histogram) {
		for _, d := range durations {
			h.Add(d)
		}
		return h
	}
	pt := func(offset time.Duration, requests, errors uint64, durations ...time.Duration) agentapi.REDPoint {
		return agentapi.REDPoint{StartUnixMs: at.Add(offset).UnixMilli(), Requests: requests, Errors: errors, Durations: hist(durations...)}
	}
	ms := time.Millisecond
	for _, tc := range []struct {
		by    agentapi.REDGroupBy
		limit int
		want  []agentapi.REDSeries
	}{
		{agentapi.GroupByEndpoint, 3, []agentapi.REDSeries{
			{Service: "shop", Pool: "www", Endpoint: "GET /cart", Points: []agentapi.REDPoint{
				pt(0, 3, 0, 10*ms, 10*ms, 10*ms), pt(time.Minute, 1, 1, 20*ms)}},
			// Two requests each: ties go by service, pool, endpoint.
			{Service: "shop", Pool: "api", Endpoint: "GET /v1/orders", Points: []agentapi.REDPoint{pt(0, 2, 0, ms, ms)}},
			{Service: "shop", Pool: "www", Endpoint: "POST /cart", Points: []agentapi.REDPoint{pt(0, 2, 2, 30*ms, 30*ms)}},
			{Other: true, Points: []agentapi.REDPoint{pt(0, 1, 0, 5*time.Second), pt(2*time.Minute, 1, 0, 7*ms)}},
		}},
		{agentapi.GroupByEndpoint, 10, []agentapi.REDSeries{
			{Service: "shop", Pool: "www", Endpoint: "GET /cart", Points: []agentapi.REDPoint{
				pt(0, 3, 0, 10*ms, 10*ms, 10*ms), pt(time.Minute, 1, 1, 20*ms)}},
			{Service: "shop", Pool: "api", Endpoint: "GET /v1/orders", Points: []agentapi.REDPoint{pt(0, 2, 0, ms, ms)}},
			{Service: "shop", Pool: "www", Endpoint: "POST /cart", Points: []agentapi.REDPoint{pt(0, 2, 2, 30*ms, 30*ms)}},
			{Service: "blog", Pool: "www", Endpoint: "blog", Points: []agentapi.REDPoint{pt(2*time.Minute, 1, 0, 7*ms)}},
			{Service: "shop", Pool: "api", Endpoint: "/cron.php", Points: []agentapi.REDPoint{pt(0, 1, 0, 5*time.Second)}},
		}},
		{agentapi.GroupByPool, 1, []agentapi.REDSeries{
			{Service: "shop", Pool: "www", Points: []agentapi.REDPoint{
				pt(0, 5, 2, 10*ms, 10*ms, 10*ms, 30*ms, 30*ms), pt(time.Minute, 1, 1, 20*ms)}},
			{Other: true, Points: []agentapi.REDPoint{pt(0, 3, 0, ms, ms, 5*time.Second), pt(2*time.Minute, 1, 0, 7*ms)}},
		}},
		{agentapi.GroupByService, 2, []agentapi.REDSeries{
			{Service: "shop", Points: []agentapi.REDPoint{
				pt(0, 8, 2, 10*ms, 10*ms, 10*ms, 30*ms, 30*ms, ms, ms, 5*time.Second), pt(time.Minute, 1, 1, 20*ms)}},
			{Service: "blog", Points: []agentapi.REDPoint{pt(2*time.Minute, 1, 0, 7*ms)}},
		}},
		{agentapi.GroupByNone, 1, []agentapi.REDSeries{
			{Points: []agentapi.REDPoint{
				pt(0, 8, 2, 10*ms, 10*ms, 10*ms, 30*ms, 30*ms, ms, ms, 5*time.Second),
				pt(time.Minute, 1, 1, 20*ms), pt(2*time.Minute, 1, 0, 7*ms)}},
		}},
	} {
		got, err := s.RED(context.Background(), agentapi.REDQuery{From: at, To: redEnd, GroupBy: tc.by, Limit: tc.limit})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got.Series, tc.want) {
			t.Errorf("by %s, limit %d:\n got %+v\nwant %+v", tc.by, tc.limit, got.Series, tc.want)
		}
	}
}

func TestREDStepAlignment(t *testing.T) {
	s := openREDStore(t)
	const step = 7 * time.Second
	// 10:00:00 starts a 7s step counted from the epoch; time.Truncate,
	// counting from year 1, would cut at 10:00:03 instead.
	from := time.Date(2026, 11, 25, 10, 0, 3, 500e6, time.UTC)
	stepStart := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	to := stepStart.Add(3 * step)
	if stepStart.UnixMilli()%step.Milliseconds() != 0 || from.Truncate(step).Equal(stepStart) {
		t.Fatalf("fixture: %s does not start a step, or time.Truncate agrees", stepStart)
	}
	var traces []*trace.Trace
	for _, start := range []time.Time{
		from.Add(-time.Nanosecond), // before from, in the first step: not counted
		from,                       // counted, in the first step
		stepStart.Add(step - time.Nanosecond),
		stepStart.Add(step), // a step's start belongs to it
		to.Add(-time.Nanosecond),
		to, // to is not included
	} {
		traces = append(traces, &trace.Trace{Summary: trace.Summary{
			TraceID: trace.NewTraceID(), Service: "shop", StartUnixNano: start.UnixNano(), DurationNano: int64(time.Millisecond),
		}})
	}
	addAll(t, s, traces)
	got, err := s.RED(context.Background(), agentapi.REDQuery{From: from, To: to, Step: step, GroupBy: agentapi.GroupByNone})
	if err != nil {
		t.Fatal(err)
	}
	if !got.From.Equal(stepStart) || !got.To.Equal(to) || time.Duration(got.Step) != step || len(got.Series) != 1 {
		t.Fatalf("answer from %s to %s by %s, %d series; want from %s", got.From, got.To, got.Step, len(got.Series), stepStart)
	}
	var starts []int64
	var requests []uint64
	for _, p := range got.Series[0].Points {
		starts = append(starts, p.StartUnixMs)
		requests = append(requests, p.Requests)
	}
	first := stepStart.UnixMilli()
	if want := []int64{first, first + 7000, first + 14000}; !slices.Equal(starts, want) {
		t.Errorf("points start at %v, want %v", starts, want)
	}
	if want := []uint64{2, 1, 1}; !slices.Equal(requests, want) {
		t.Errorf("points count %v requests, want %v", requests, want)
	}
}

func TestREDEmpty(t *testing.T) {
	s := openREDStore(t)
	addAll(t, s, spreadTraces(2, 100, time.Hour, redEnd))
	from := redEnd.Add(-30*time.Minute + 5*time.Second)
	for _, q := range []agentapi.REDQuery{
		{From: from, To: from},                                   // empty range
		{From: redEnd, To: redEnd.Add(time.Hour)},                // no traces there
		{From: redEnd.Add(-time.Hour), To: redEnd, Pool: "nope"}, // none match
	} {
		got, err := s.RED(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		if got.Series == nil || len(got.Series) != 0 {
			t.Errorf("%+v: series %#v, want an empty list", q, got.Series)
		}
		// Minutes since year 1 (Truncate) and since 1970 agree.
		if want := q.From.Truncate(time.Minute); !got.From.Equal(want) {
			t.Errorf("%+v: from %s, want %s", q, got.From, want)
		}
	}
}

func TestREDDefaults(t *testing.T) {
	s := openREDStore(t)
	now := time.Now()
	traces := []*trace.Trace{
		newTraceMaker(3).make(now.Add(-30 * time.Minute)),
		newTraceMaker(4).make(now.Add(-2 * time.Hour)), // before the default hour
	}
	addAll(t, s, traces)
	got, err := s.RED(context.Background(), agentapi.REDQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if time.Duration(got.Step) != agentapi.DefaultREDStep || got.To.Before(now) || got.To.Sub(got.From) < time.Hour || got.To.Sub(got.From) > time.Hour+time.Minute {
		t.Errorf("defaults: from %s to %s by %s", got.From, got.To, got.Step)
	}
	sum := traces[0].Summary
	if len(got.Series) != 1 || got.Series[0].Endpoint != sum.Name() || got.Series[0].Pool != sum.Pool || got.Series[0].Points[0].Requests != 1 {
		t.Errorf("series %+v, want %s alone", got.Series, sum.Name())
	}
}

func TestREDRejectsInvalidQueries(t *testing.T) {
	s := openREDStore(t)
	for _, tc := range []struct {
		q    agentapi.REDQuery
		want string
	}{
		{agentapi.REDQuery{Step: time.Millisecond}, "step: want at least 1s"},
		{agentapi.REDQuery{Step: time.Second + time.Microsecond}, "step: want a whole number of milliseconds"},
		{agentapi.REDQuery{GroupBy: "path"}, "groupBy: want endpoint, pool, service or none"},
		{agentapi.REDQuery{Limit: -1}, "limit: want a whole number from 1 to 500"},
		{agentapi.REDQuery{Limit: agentapi.MaxREDLimit + 1}, "limit:"},
		{agentapi.REDQuery{From: redEnd, To: redEnd.Add(-time.Second)}, "to: 2026-11-25T11:59:59Z is before from"},
		{agentapi.REDQuery{From: redEnd.Add(-24 * time.Hour), To: redEnd, Step: time.Second}, "step: 1s from 2026-11-24T12:00:00Z to 2026-11-25T12:00:00Z makes 86400 points"},
		// To defaults to now: a month of the default minutes is too many.
		{agentapi.REDQuery{From: time.Now().Add(-30 * 24 * time.Hour)}, "points, more than 11000"},
	} {
		_, err := s.RED(context.Background(), tc.q)
		if !errors.Is(err, ErrInvalidQuery) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: got %v, want ErrInvalidQuery carrying %q", tc.q, err, tc.want)
		}
	}
}

func TestREDClosedAndCancelled(t *testing.T) {
	s := openREDStore(t)
	addAll(t, s, spreadTraces(5, 100, time.Hour, redEnd))
	q := agentapi.REDQuery{From: redEnd.Add(-time.Hour), To: redEnd}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.RED(ctx, q); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v, want context.Canceled", err)
	}
	s.Close()
	if _, err := s.RED(context.Background(), q); !errors.Is(err, ErrClosed) {
		t.Errorf("closed: %v, want ErrClosed", err)
	}
}

// BenchmarkRED is a dashboard panel's query over an hour of a busy agent:
// 100 000 requests (28 a second) over ~280 endpoints.
func BenchmarkRED(b *testing.B) {
	s := openTestStore(b, Options{MaxAge: 100 * 365 * 24 * time.Hour, Logger: slog.New(slog.DiscardHandler)})
	addAll(b, s, spreadTraces(42, 100_000, time.Hour, redEnd))
	for _, by := range []agentapi.REDGroupBy{agentapi.GroupByEndpoint, agentapi.GroupByNone} {
		b.Run(string(by), func(b *testing.B) {
			q := agentapi.REDQuery{From: redEnd.Add(-time.Hour), To: redEnd, GroupBy: by}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.RED(context.Background(), q); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
