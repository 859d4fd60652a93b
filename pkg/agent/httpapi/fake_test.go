package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tusk-php/tusk/pkg/agentapi"
	"github.com/tusk-php/tusk/pkg/trace"
)

const testToken = "correct-horse-battery-staple"

var _ Backend = (*fakeBackend)(nil)

// fakeBackend keeps traces and deep-mode grants in memory and behaves as the
// Backend contract says; panicIn and failWith let tests break it.
type fakeBackend struct {
	mu        sync.Mutex
	summaries []trace.Summary
	traces    map[trace.TraceID]*trace.Trace
	deep      map[string]agentapi.DeepMode
	nextID    int
	lastQuery trace.Query
	panicIn   string // name of the method that panics
	failWith  error  // returned by Status
	redAnswer *agentapi.REDResponse
	redErr    error // returned by RED
	lastRED   agentapi.REDQuery
}

func newFakeBackend() *fakeBackend {
	b := &fakeBackend{traces: map[trace.TraceID]*trace.Trace{}, deep: map[string]agentapi.DeepMode{}}
	for i, sum := range []trace.Summary{
		{Service: "shop", Pool: "www", Method: "GET", Path: "/", StatusCode: 200, DurationNano: 12e6},
		{Service: "shop", Pool: "www", Method: "POST", Path: "/checkout/", StatusCode: 500, DurationNano: 842e6, Error: true},
		{Service: "shop", Pool: "admin", Method: "GET", Path: "/wp-admin/", StatusCode: 200, DurationNano: 95e6, Incomplete: true},
	} {
		sum.TraceID = trace.TraceID{byte(i + 1)}
		sum.StartUnixNano = time.Date(2026, 11, 25, 9, 0, i, 0, time.UTC).UnixNano()
		sum.SpanCount = 1
		b.summaries = append(b.summaries, sum)
		b.traces[sum.TraceID] = &trace.Trace{Summary: sum, Spans: []trace.Span{{
			SpanID: trace.SpanID{byte(i + 1)}, Name: sum.Name(), Kind: trace.KindServer,
			StartUnixNano: sum.StartUnixNano, DurationNano: sum.DurationNano,
			Attributes: trace.Attributes{trace.AttrProcessPID: int64(4321), trace.AttrURLPath: sum.Path},
			Status:     trace.Status{Code: trace.StatusUnset},
		}}}
	}
	return b
}

func (b *fakeBackend) maybePanic(method string) {
	if b.panicIn == method {
		panic("fake backend: " + method + " exploded")
	}
}

func (b *fakeBackend) Search(_ context.Context, q trace.Query) ([]trace.Summary, error) {
	b.maybePanic("Search")
	b.mu.Lock()
	defer b.mu.Unlock()
	b.lastQuery = q
	var out []trace.Summary
	for _, s := range b.summaries {
		if q.Matches(&s) && len(out) < q.EffectiveLimit() {
			out = append(out, s)
		}
	}
	return out, nil
}

func (b *fakeBackend) Trace(_ context.Context, id trace.TraceID) (*trace.Trace, error) {
	b.maybePanic("Trace")
	b.mu.Lock()
	defer b.mu.Unlock()
	if t, ok := b.traces[id]; ok {
		return t, nil
	}
	return nil, fmt.Errorf("trace %s: %w", id, agentapi.ErrNotFound)
}

func (b *fakeBackend) Status(context.Context) (*agentapi.Status, error) {
	b.maybePanic("Status")
	if b.failWith != nil {
		return nil, b.failWith
	}
	return &agentapi.Status{Version: "v0.1.0-test", Host: "node-1", StartedAt: time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC),
		Binaries: []agentapi.Binary{}, Probes: []agentapi.Probe{}, DeepModes: []agentapi.DeepMode{}}, nil
}

func (b *fakeBackend) DeepModes(context.Context) ([]agentapi.DeepMode, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []agentapi.DeepMode
	for i := 1; i <= b.nextID; i++ {
		if dm, ok := b.deep[fmt.Sprintf("dm-%d", i)]; ok {
			out = append(out, dm)
		}
	}
	return out, nil
}

func (b *fakeBackend) EnableDeepMode(_ context.Context, req agentapi.DeepModeRequest) (*agentapi.DeepMode, error) {
	if (req.Pool == "") == (len(req.PIDs) == 0) {
		return nil, fmt.Errorf("%w: set exactly one of pool or pids", agentapi.ErrBadRequest)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.nextID++
	dm := agentapi.DeepMode{
		ID: fmt.Sprintf("dm-%d", b.nextID), Pool: req.Pool, PIDs: req.PIDs,
		Threshold: req.Threshold, MaxDepth: agentapi.DefaultDeepMaxDepth,
		ExpiresAt:    time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC),
		AttachedPIDs: []int{101, 102},
	}
	b.deep[dm.ID] = dm
	return &dm, nil
}

func (b *fakeBackend) DisableDeepMode(_ context.Context, id string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.deep[id]; !ok {
		return fmt.Errorf("deep mode %q: %w", id, agentapi.ErrNotFound)
	}
	delete(b.deep, id)
	return nil
}

// RED answers redAnswer whatever the query, recording it.
func (b *fakeBackend) RED(_ context.Context, q agentapi.REDQuery) (*agentapi.REDResponse, error) {
	b.maybePanic("RED")
	b.mu.Lock()
	defer b.mu.Unlock()
	b.lastRED = q
	return b.redAnswer, b.redErr
}

// testServer is the real handler over a fake backend, logging into a buffer.
type testServer struct {
	backend *fakeBackend
	handler http.Handler
	logs    *syncBuffer
}

func newTestServer(t *testing.T, metrics http.Handler) *testServer {
	t.Helper()
	logs := &syncBuffer{}
	b := newFakeBackend()
	h := New(Options{
		Backend: b, Token: testToken, Metrics: metrics,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	return &testServer{backend: b, handler: h, logs: logs}
}

// do sends one request with the right token; use doAuth to choose the
// Authorization header.
func (ts *testServer) do(method, target, body string) *httptest.ResponseRecorder {
	return ts.doAuth(method, target, body, "Bearer "+testToken)
}

func (ts *testServer) doAuth(method, target, body, auth string) *httptest.ResponseRecorder {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, target, r)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	rec := httptest.NewRecorder()
	ts.handler.ServeHTTP(rec, req)
	return rec
}

// errorBody decodes an agentapi.Error answer, failing the test if the body
// is anything else.
func errorBody(t *testing.T, rec *httptest.ResponseRecorder) string {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json; body %q", ct, rec.Body)
	}
	var e agentapi.Error
	dec := json.NewDecoder(bytes.NewReader(rec.Body.Bytes()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil || e.Error == "" {
		t.Errorf("body %q is not an agentapi.Error: %v", rec.Body, err)
	}
	return e.Error
}

func decodeJSON[T any](t *testing.T, rec *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatalf("body %q: %v", rec.Body, err)
	}
	return v
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
