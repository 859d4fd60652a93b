package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tusk-php/tusk/pkg/agentapi"
	"github.com/tusk-php/tusk/pkg/profile"
	"github.com/tusk-php/tusk/pkg/trace"
)

var (
	ftBurn      = profile.Frame{Function: "burn", File: "/www/burn.php", Line: 5}
	ftBurnOther = profile.Frame{Function: "burn", File: "/www/lib/burn.php", Line: 9}
	ftSleep     = profile.Frame{Function: "usleep", Line: 0}
)

// functionFixture is requests traced and profiled a second apart from
// pfMinute on, each with its trace in the traces table.
type functionFixture struct {
	t     *testing.T
	s     *Store
	maker *traceMaker
	next  time.Time
}

func newFunctionFixture(t *testing.T) *functionFixture {
	return &functionFixture{t: t, s: openTestStore(t, Options{}), maker: newTraceMaker(7), next: pfMinute}
}

// request stores a GET /burn.php trace starting a second after the one
// before, and its profile as parts: each part is n samples of a stack,
// first sampled 10 ms after the request started.
func (f *functionFixture) request(method string, parts ...profile.Bucket) trace.TraceID {
	f.t.Helper()
	tr := f.maker.make(f.next)
	tr.Method, tr.Path, tr.Service, tr.Pool = method, "/burn.php", "php-fpm", "www"
	f.s.Add(tr)
	for i, b := range parts {
		b.TraceID = tr.TraceID
		b.Time = f.next.Add(10*time.Millisecond + time.Duration(i)*time.Millisecond)
		f.s.AddProfile(b)
	}
	f.next = f.next.Add(time.Second)
	if err := f.s.Flush(context.Background()); err != nil {
		f.t.Fatal(err)
	}
	if err := f.s.FlushProfiles(context.Background()); err != nil {
		f.t.Fatal(err)
	}
	return tr.TraceID
}

// part is n samples of stack, as one profile of a request.
func part(n int64, stack ...profile.Frame) profile.Bucket {
	return traceBucket(trace.TraceID{}, time.Time{}, n, stack...)
}

func (f *functionFixture) search(q agentapi.FunctionTracesQuery, maxProfiles int) *agentapi.FunctionTracesResponse {
	f.t.Helper()
	resp, err := f.s.functionTraces(context.Background(), q, maxProfiles)
	if err != nil {
		f.t.Fatalf("functionTraces(%+v): %v", q, err)
	}
	return resp
}

// hits is "id:functionSamples/samples" per trace, in the answer's order.
func hits(resp *agentapi.FunctionTracesResponse, names map[trace.TraceID]string) string {
	var out []string
	for _, h := range resp.Traces {
		out = append(out, fmt.Sprintf("%s:%d/%d", names[h.TraceID], h.FunctionSamples, h.Samples))
	}
	return strings.Join(out, " ")
}

func TestFunctionTracesRanksByTheFunctionsSamples(t *testing.T) {
	f := newFunctionFixture(t)
	names := map[trace.TraceID]string{}
	names[f.request("GET", part(5, pfMain, ftBurn), part(3, pfMain, ftSleep))] = "five"
	names[f.request("GET", part(9, pfMain, ftBurn))] = "nine"
	// burn → burn → burn: each sample counts once, not three times.
	names[f.request("GET", part(4, pfMain, ftBurn, ftBurn, ftBurn), part(2, pfMain, ftBurn, pfRun, ftBurn))] = "recursive"
	names[f.request("GET", part(20, pfMain, ftSleep))] = "none"
	// A long request handed on in two parts: they add up.
	names[f.request("POST", part(2, pfMain, ftBurn), part(3, pfMain, ftBurn))] = "parts"
	names[f.request("GET", part(7, pfMain, ftBurnOther))] = "other-file"

	q := agentapi.FunctionTracesQuery{Function: "burn"}
	resp := f.search(q, MaxFunctionSearchProfiles)
	// parts and five tie: the newer first.
	if got, want := hits(resp, names), "nine:9/9 other-file:7/7 recursive:6/6 parts:5/5 five:5/8"; got != want {
		t.Errorf("any file: %s, want %s", got, want)
	}
	if resp.Scanned != 9 || resp.Truncated {
		t.Errorf("scanned %d truncated %v, want all 9 profiles", resp.Scanned, resp.Truncated)
	}
	top := resp.Traces[0]
	if top.FunctionCPUNs != 9*10_101_010 || top.Path != "/burn.php" || top.Service != "php-fpm" || top.SpanCount == 0 {
		t.Errorf("top hit %+v", top)
	}

	q.File = ftBurn.File
	if got, want := hits(f.search(q, MaxFunctionSearchProfiles), names), "nine:9/9 recursive:6/6 parts:5/5 five:5/8"; got != want {
		t.Errorf("in %s: %s, want %s", q.File, got, want)
	}
	q.File = "/www/nowhere.php"
	if resp := f.search(q, MaxFunctionSearchProfiles); len(resp.Traces) != 0 || resp.Scanned != 9 {
		t.Errorf("unknown file: %+v", resp)
	}

	// Filters of the trace and of the profile, and the limit.
	q = agentapi.FunctionTracesQuery{Function: "burn", Traces: trace.Query{Method: "POST"}}
	if got := hits(f.search(q, MaxFunctionSearchProfiles), names); got != "parts:5/5" {
		t.Errorf("POST: %s", got)
	}
	q = agentapi.FunctionTracesQuery{Function: "burn", Endpoint: "GET /elsewhere"}
	if resp := f.search(q, MaxFunctionSearchProfiles); len(resp.Traces) != 0 || resp.Scanned != 0 {
		t.Errorf("other endpoint: %+v", resp)
	}
	q = agentapi.FunctionTracesQuery{Function: "burn", Traces: trace.Query{Limit: 2}}
	if got := hits(f.search(q, MaxFunctionSearchProfiles), names); got != "nine:9/9 other-file:7/7" {
		t.Errorf("limit 2: %s", got)
	}
}

func TestFunctionTracesTimeRangeAndBound(t *testing.T) {
	f := newFunctionFixture(t)
	names := map[trace.TraceID]string{}
	for i := range 5 {
		names[f.request("GET", part(int64(1+i), pfMain, ftBurn))] = fmt.Sprint(i)
	}
	// Requests 1..3 started in [pfMinute+1s, pfMinute+4s).
	q := agentapi.FunctionTracesQuery{Function: "burn", Traces: trace.Query{Start: pfMinute.Add(time.Second), End: pfMinute.Add(4 * time.Second)}}
	resp := f.search(q, MaxFunctionSearchProfiles)
	if got := hits(resp, names); got != "3:4/4 2:3/3 1:2/2" || resp.Truncated || resp.Scanned != 3 {
		t.Errorf("range: %s, scanned %d, truncated %v", got, resp.Scanned, resp.Truncated)
	}
	// The bound reads the newest profiles and says it stopped.
	resp = f.search(q, 2)
	if got := hits(resp, names); got != "3:4/4 2:3/3" || !resp.Truncated || resp.Scanned != 2 {
		t.Errorf("bound 2: %s, scanned %d, truncated %v", got, resp.Scanned, resp.Truncated)
	}
	if resp := f.search(q, 3); resp.Truncated || resp.Scanned != 3 {
		t.Errorf("bound 3, exactly the range's profiles: scanned %d, truncated %v", resp.Scanned, resp.Truncated)
	}
	// A request whose first sample came after the range's end is not read.
	q.Traces.End = pfMinute.Add(3*time.Second + 5*time.Millisecond)
	if got := hits(f.search(q, MaxFunctionSearchProfiles), names); got != "2:3/3 1:2/2" {
		t.Errorf("first sample after the end: %s", got)
	}
}

// TestFunctionTracesPlanWalksProfilesNewestFirst: whatever filters there
// are, SQLite walks trace_profiles by its time index and looks each trace
// up by key, and never sorts (a sort would read every blob in the range).
func TestFunctionTracesPlanWalksProfilesNewestFirst(t *testing.T) {
	s := openTestStore(t, Options{})
	for _, q := range []agentapi.FunctionTracesQuery{
		{Function: "f"},
		{Function: "f", Traces: trace.Query{Start: pfMinute, End: pfMinute.Add(time.Hour)}},
		{Function: "f", Endpoint: "GET /", Traces: trace.Query{Start: pfMinute, Service: "shop", Pool: "www", StatusCode: 500,
			PathPrefix: "/cart", ErrorsOnly: true, MinDuration: time.Second}},
	} {
		query, args := functionTracesSQL(&q, 11)
		plan, err := s.plan(context.Background(), query, args)
		if err != nil {
			t.Fatal(err)
		}
		text := strings.Join(plan, "\n")
		if !strings.Contains(plan[0], "trace_profiles") || !strings.Contains(text, "trace_profiles_start") ||
			!strings.Contains(text, "traces USING INDEX sqlite_autoindex_traces_1 (trace_id=?)") || strings.Contains(text, "TEMP B-TREE") {
			t.Errorf("%+v:\n%s", q, text)
		}
	}
}

func TestFunctionTracesSkipsCorruptProfilesAndRefusesBadQueries(t *testing.T) {
	f := newFunctionFixture(t)
	id := f.request("GET", part(4, pfMain, ftBurn))
	db, err := sql.Open("sqlite", dsn(f.s.Path(), f.s.opts.MaxBytes))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`INSERT INTO trace_profiles (trace_id, start_ns, service, pool, endpoint, samples, profile)
		VALUES (?, ?, 'php-fpm', 'www', 'GET /burn.php', 1, X'02FFFF')`, id[:], pfMinute.Add(time.Second).UnixNano()); err != nil {
		t.Fatal(err)
	}
	resp := f.search(agentapi.FunctionTracesQuery{Function: "burn"}, MaxFunctionSearchProfiles)
	if len(resp.Traces) != 1 || resp.Traces[0].FunctionSamples != 4 || resp.Scanned != 2 {
		t.Errorf("with a corrupt part: %+v", resp)
	}
	if got := f.s.ProfileStats().Corrupt; got != 1 {
		t.Errorf("Corrupt = %d, want 1", got)
	}
	for _, q := range []agentapi.FunctionTracesQuery{
		{},
		{Function: "f", Traces: trace.Query{Start: pfMinute, End: pfMinute.Add(-time.Second)}},
	} {
		if _, err := f.s.FunctionTraces(context.Background(), q); !errors.Is(err, ErrInvalidQuery) {
			t.Errorf("%+v: %v, want ErrInvalidQuery", q, err)
		}
	}
}
