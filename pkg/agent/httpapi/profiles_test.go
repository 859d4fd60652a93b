package httpapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	pprofile "github.com/google/pprof/profile"

	"github.com/tusk-php/tusk/pkg/agentapi"
	"github.com/tusk-php/tusk/pkg/profile"
	"github.com/tusk-php/tusk/pkg/trace"
)

var _ ProfileBackend = (*fakeProfiles)(nil)

// fakeProfiles answers range queries with one fixed profile and trace
// queries from a map, recording what it was asked.
type fakeProfiles struct {
	mu       sync.Mutex
	ranged   *profile.Profile
	traces   map[trace.TraceID]*profile.Profile
	last     agentapi.ProfileQuery
	failWith error
	// hot answers every function search; lastFunction is the last asked.
	hot          *agentapi.FunctionTracesResponse
	lastFunction agentapi.FunctionTracesQuery
}

func (f *fakeProfiles) Profile(_ context.Context, q agentapi.ProfileQuery) (*profile.Profile, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.last = q
	if f.failWith != nil {
		return nil, f.failWith
	}
	if !q.TraceID.IsZero() {
		return f.traces[q.TraceID], nil // nil for unknown: the server copes
	}
	return f.ranged, nil
}

func (f *fakeProfiles) FunctionTraces(_ context.Context, q agentapi.FunctionTracesQuery) (*agentapi.FunctionTracesResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastFunction = q
	return f.hot, f.failWith
}

func (f *fakeProfiles) lastFunctionQuery() agentapi.FunctionTracesQuery {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lastFunction
}

func (f *fakeProfiles) lastQuery() agentapi.ProfileQuery {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.last
}

var (
	hfMain   = profile.Frame{Function: "{main}", File: "/www/index.php", Line: 3}
	hfRun    = profile.Frame{Function: "run", Class: "A", File: "/www/A.php", Line: 10}
	hfQuery  = profile.Frame{Function: "db_query", File: "/www/db.php", Line: 5}
	hfRender = profile.Frame{Function: "render", File: "/www/view.php", Line: 1}
	profTID  = trace.TraceID{0xaa, 15: 1}
)

// handProfile: {main}→A::run→db_query ×4, {main}→A::run→render ×2,
// {main} ×2 (8 samples).
func handProfile() *profile.Profile {
	p := profile.NewProfile(0)
	p.PeriodNs = 10_101_010
	l := profile.Labels{Service: "php-fpm", Pool: "www", Endpoint: "GET /"}
	p.Add([]profile.Frame{hfMain, hfRun, hfQuery}, l, 4)
	p.Add([]profile.Frame{hfMain, hfRun, hfRender}, l, 2)
	p.Add([]profile.Frame{hfMain}, l, 2)
	return p
}

func newProfileServer(t *testing.T) (*testServer, *fakeProfiles) {
	t.Helper()
	logs := &syncBuffer{}
	fp := &fakeProfiles{ranged: handProfile(), traces: map[trace.TraceID]*profile.Profile{profTID: handProfile()}}
	b := newFakeBackend()
	h := New(Options{
		Backend: b, Token: testToken, Profiles: fp,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	return &testServer{backend: b, handler: h, logs: logs}, fp
}

func TestProfileFlamegraph(t *testing.T) {
	ts, fp := newProfileServer(t)
	before := time.Now()
	rec := ts.do("GET", "/api/v1/profiles/flamegraph", "")
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	got := decodeJSON[agentapi.Flamegraph](t, rec)
	if want := profile.Flamegraph(handProfile(), 0); !reflect.DeepEqual(got, want) {
		t.Errorf("flame graph\n got %+v\nwant %+v", got, want)
	}
	if len(got.Nodes) != 5 || got.Nodes[0].Label != "total" || got.Nodes[0].Value != 8 || got.Nodes[1].Self != 2 {
		t.Errorf("nodes %+v", got.Nodes)
	}
	q := fp.lastQuery()
	if q.To.Before(before) || q.To.After(time.Now()) || !q.From.Equal(q.To.Add(-agentapi.DefaultProfileRange)) {
		t.Errorf("defaults not applied: %+v", q)
	}

	rec = ts.do("GET", "/api/v1/profiles/flamegraph?from=1764061200000&to=2026-11-25T10:00:00Z&service=php-fpm&pool=www&endpoint=GET+%2F&maxNodes=2", "")
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if got := decodeJSON[agentapi.Flamegraph](t, rec); len(got.Nodes) != 2 || got.Total != 8 || got.Nodes[1].Self != 8 {
		t.Errorf("maxNodes=2: %+v", got.Nodes)
	}
	want := agentapi.ProfileQuery{From: time.UnixMilli(1764061200000), To: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC),
		Service: "php-fpm", Pool: "www", Endpoint: "GET /"}
	if q := fp.lastQuery(); !q.From.Equal(want.From) || !q.To.Equal(want.To) || q.Service != want.Service || q.Pool != want.Pool || q.Endpoint != want.Endpoint {
		t.Errorf("backend got %+v, want %+v", q, want)
	}
}

func TestProfileFlamegraphOfNothingIsEmpty(t *testing.T) {
	ts, fp := newProfileServer(t)
	fp.ranged = nil
	rec := ts.do("GET", "/api/v1/profiles/flamegraph?pool=none", "")
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if got := strings.TrimSpace(rec.Body.String()); got != `{"unit":"samples","periodNs":0,"total":0,"nodes":[{"level":0,"label":"total","value":0,"self":0}]}` {
		t.Errorf("body %s", got)
	}
}

func TestProfileTop(t *testing.T) {
	ts, _ := newProfileServer(t)
	rec := ts.do("GET", "/api/v1/profiles/top?limit=2", "")
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	got := decodeJSON[agentapi.TopFunctionsResponse](t, rec)
	want := []agentapi.TopFunction{
		{Function: "db_query", File: "/www/db.php", Self: 4, Total: 4, SelfPercent: 50, TotalPercent: 50},
		// Ties on self go to the larger total.
		{Function: "{main}", File: "/www/index.php", Self: 2, Total: 8, SelfPercent: 25, TotalPercent: 100},
	}
	if got.Total != 8 || got.Unit != "samples" || !reflect.DeepEqual(got.Functions, want) {
		t.Errorf("top %+v", got)
	}
	if rec := ts.do("GET", "/api/v1/profiles/top?pool=x", ""); !strings.Contains(rec.Body.String(), `"functions":[{`) {
		t.Errorf("default limit: %s", rec.Body)
	}
}

func TestProfilePprof(t *testing.T) {
	ts, _ := newProfileServer(t)
	rec := ts.do("GET", "/api/v1/profiles/pprof?from=2026-11-25T09:00:00Z&to=2026-11-25T10:00:00Z", "")
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/octet-stream" {
		t.Errorf("Content-Type %q", ct)
	}
	pp, err := pprofile.Parse(bytes.NewReader(rec.Body.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, s := range pp.Sample {
		n += s.Value[0]
		if s.Label["pool"][0] != "www" || s.Label["endpoint"][0] != "GET /" {
			t.Errorf("labels %v", s.Label)
		}
	}
	if n != 8 || pp.DurationNanos != int64(time.Hour) || pp.TimeNanos != time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC).UnixNano() {
		t.Errorf("%d samples, time %d, duration %d", n, pp.TimeNanos, pp.DurationNanos)
	}
}

func TestTraceProfile(t *testing.T) {
	ts, fp := newProfileServer(t)
	rec := ts.do("GET", "/api/v1/traces/"+profTID.String()+"/profile?maxNodes=3", "")
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if got := decodeJSON[agentapi.Flamegraph](t, rec); len(got.Nodes) != 3 || got.Total != 8 {
		t.Errorf("%+v", got)
	}
	if q := fp.lastQuery(); q != (agentapi.ProfileQuery{TraceID: profTID}) {
		t.Errorf("backend got %+v: want the trace id alone, no time range", q)
	}
	rec = ts.do("GET", "/api/v1/traces/ffffffffffffffffffffffffffffffff/profile", "")
	if rec.Code != http.StatusNotFound {
		t.Fatalf("unknown trace: status %d", rec.Code)
	}
	if msg := errorBody(t, rec); !strings.HasPrefix(msg, "profile of trace ffffffffffffffffffffffffffffffff: not found") {
		t.Errorf("message %q", msg)
	}
	fp.traces[trace.TraceID{1}] = profile.NewProfile(0) // known, but no samples
	if rec := ts.do("GET", "/api/v1/traces/01000000000000000000000000000000/profile", ""); rec.Code != http.StatusNotFound {
		t.Errorf("empty trace profile: status %d", rec.Code)
	}
	for target, want := range map[string]string{
		"/api/v1/traces/123/profile":                                 "trace id",
		"/api/v1/traces/" + profTID.String() + "/profile?from=1":     `unknown parameter "from"`,
		"/api/v1/traces/" + profTID.String() + "/profile?maxNodes=0": "maxNodes",
	} {
		rec := ts.do("GET", target, "")
		if rec.Code != http.StatusBadRequest || !strings.Contains(errorBody(t, rec), want) {
			t.Errorf("%s: %d %s, want 400 with %q", target, rec.Code, rec.Body, want)
		}
	}
}

func TestProfileBadParams(t *testing.T) {
	ts, _ := newProfileServer(t)
	for target, want := range map[string]string{
		"/api/v1/profiles/flamegraph?limit=3":                                      `unknown parameter "limit"`,
		"/api/v1/profiles/flamegraph?maxNodes=x":                                   "maxNodes: want a whole number",
		"/api/v1/profiles/top?maxNodes=3":                                          `unknown parameter "maxNodes"`,
		"/api/v1/profiles/top?limit=0":                                             "limit: want a whole number from 1 to 5000",
		"/api/v1/profiles/pprof?from=2026-11-25T10:00:00Z&to=2026-11-25T09:00:00Z": "is before from",
		"/api/v1/profiles/pprof?traceId=xyz":                                       "traceId:",
		"/api/v1/profiles/top?pool=%zz":                                            "query string:",
	} {
		rec := ts.do("GET", target, "")
		if rec.Code != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", target, rec.Code)
			continue
		}
		if msg := errorBody(t, rec); !strings.Contains(msg, want) {
			t.Errorf("%s: message %q, want %q", target, msg, want)
		}
	}
}

func TestProfileBackendErrors(t *testing.T) {
	ts, fp := newProfileServer(t)
	fp.failWith = errors.New("disk on fire")
	if rec := ts.do("GET", "/api/v1/profiles/top", ""); rec.Code != http.StatusInternalServerError || errorBody(t, rec) != "disk on fire" {
		t.Errorf("failing backend: %d %s", rec.Code, rec.Body)
	}
	fp.failWith = fmt.Errorf("%w: range too wide", agentapi.ErrBadRequest)
	if rec := ts.do("GET", "/api/v1/profiles/pprof", ""); rec.Code != http.StatusBadRequest {
		t.Errorf("bad request from backend: %d %s", rec.Code, rec.Body)
	}
}

func TestProfilesDisabled(t *testing.T) {
	ts := newTestServer(t, nil) // its backend does not profile
	for _, target := range []string{
		"/api/v1/profiles/flamegraph", "/api/v1/profiles/top", "/api/v1/profiles/pprof",
		"/api/v1/traces/" + profTID.String() + "/profile", "/api/v1/profiles/traces?function=burn",
	} {
		rec := ts.do("GET", target, "")
		if rec.Code != http.StatusNotFound || errorBody(t, rec) != profilesDisabled {
			t.Errorf("%s: %d %s, want 404 %q", target, rec.Code, rec.Body, profilesDisabled)
		}
	}
}

// profilingBackend is a Backend that also profiles: New finds the
// ProfileBackend without Options.Profiles.
type profilingBackend struct {
	*fakeBackend
	*fakeProfiles
}

func TestClientServerProfileRoundTrip(t *testing.T) {
	fp := &fakeProfiles{ranged: handProfile(), traces: map[trace.TraceID]*profile.Profile{profTID: handProfile()}}
	srv := httptest.NewServer(New(Options{Backend: profilingBackend{newFakeBackend(), fp}, Token: testToken}))
	defer srv.Close()
	c := agentapi.NewClient(srv.URL, testToken)
	ctx := context.Background()
	q := agentapi.ProfileQuery{From: time.Date(2026, 11, 25, 9, 0, 0, 1, time.UTC), To: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC),
		Service: "php-fpm", Pool: "www", Endpoint: "POST /wp-admin/admin-ajax.php?x=1&y=ü"}

	fg, err := c.Flamegraph(ctx, q, 4)
	if err != nil {
		t.Fatal(err)
	}
	if want := profile.Flamegraph(handProfile(), 4); !reflect.DeepEqual(*fg, want) {
		t.Errorf("flame graph\n got %+v\nwant %+v", *fg, want)
	}
	if got := fp.lastQuery(); !got.From.Equal(q.From) || !got.To.Equal(q.To) || got.Endpoint != q.Endpoint || got.Pool != q.Pool || got.Service != q.Service {
		t.Errorf("backend got %+v, want %+v", got, q)
	}
	top, err := c.TopFunctions(ctx, q, 1)
	if err != nil || len(top.Functions) != 1 || top.Functions[0].Function != "db_query" || top.Total != 8 {
		t.Errorf("top %+v %v", top, err)
	}
	b, err := c.Pprof(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if pp, err := pprofile.ParseData(b); err != nil || len(pp.Sample) != 3 {
		t.Errorf("pprof: %v", err)
	}
	tfg, err := c.TraceProfile(ctx, profTID, 0)
	if err != nil || tfg.Total != 8 {
		t.Errorf("trace profile %+v %v", tfg, err)
	}
	if _, err := c.TraceProfile(ctx, trace.TraceID{0xee}, 0); !agentapi.IsNotFound(err) {
		t.Errorf("unknown trace profile: %v", err)
	}
	if _, err := c.Flamegraph(ctx, agentapi.ProfileQuery{From: q.To, To: q.From}, 0); !errors.Is(err, agentapi.ErrBadRequest) {
		t.Errorf("to before from: %v", err)
	}
	if _, err := agentapi.NewClient(srv.URL, "nope").Pprof(ctx, q); !strings.Contains(fmt.Sprint(err), "401") {
		t.Errorf("wrong token: %v", err)
	}
}
