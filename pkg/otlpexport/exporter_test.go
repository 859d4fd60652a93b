package otlpexport

import (
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/tusk-php/tusk/pkg/trace"
)

// makeTrace returns a trace of n spans (the first is the request span).
func makeTrace(n int) *trace.Trace {
	t := &trace.Trace{Summary: trace.Summary{TraceID: trace.NewTraceID(), Service: "svc", StartUnixNano: time.Now().UnixNano()}}
	for i := range n {
		s := trace.Span{SpanID: trace.NewSpanID(), Name: fmt.Sprintf("span %d", i), Kind: trace.KindInternal,
			StartUnixNano: t.StartUnixNano, DurationNano: 1000}
		if i == 0 {
			s.Kind = trace.KindServer
		} else {
			s.ParentSpanID = t.Spans[0].SpanID
		}
		t.Spans = append(t.Spans, s)
	}
	t.SpanCount = n
	return t
}

// fastOptions make tests quick: short flush and backoff.
func fastOptions() Options {
	return Options{FlushInterval: 20 * time.Millisecond, InitialBackoff: 10 * time.Millisecond, MaxBackoff: 40 * time.Millisecond}
}

func testConfig(endpoint, protocol string) Config {
	c := DefaultConfig()
	c.Endpoint, c.Protocol = endpoint, protocol
	c.Timeout = 2 * time.Second
	c.RetryMaxElapsed = 5 * time.Second
	return c
}

func mustNew(t *testing.T, cfg Config, opts Options) *Exporter {
	t.Helper()
	e, err := New(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Shutdown(context.Background()) })
	return e
}

// checkBalance asserts that every trace and span is accounted for.
func checkBalance(t *testing.T, st Stats) {
	t.Helper()
	if st.EnqueuedTraces != st.ExportedTraces+st.DroppedTraces+st.FailedTraces+st.QueuedTraces ||
		st.EnqueuedSpans != st.ExportedSpans+st.DroppedSpans+st.FailedSpans+st.QueuedSpans {
		t.Errorf("counters do not add up: %+v", st)
	}
}

// waitFor polls until cond holds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// fakeCollector is an OTLP gRPC TraceService whose answers the test scripts.
type fakeCollector struct {
	coltracepb.UnimplementedTraceServiceServer
	mu       sync.Mutex
	answers  []error // consumed in order; nil or exhausted: OK
	partial  *coltracepb.ExportTracePartialSuccess
	calls    int
	spans    map[string]bool // span ids received
	requests int
	md       metadata.MD
}

func (f *fakeCollector) Export(ctx context.Context, req *coltracepb.ExportTraceServiceRequest) (*coltracepb.ExportTraceServiceResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	f.md, _ = metadata.FromIncomingContext(ctx)
	if len(f.answers) > 0 {
		err := f.answers[0]
		f.answers = f.answers[1:]
		if err != nil {
			return nil, err
		}
	}
	f.requests++
	if f.spans == nil {
		f.spans = map[string]bool{}
	}
	for _, rs := range req.ResourceSpans {
		for _, ss := range rs.ScopeSpans {
			for _, s := range ss.Spans {
				f.spans[fmt.Sprintf("%x", s.SpanId)] = true
			}
		}
	}
	return &coltracepb.ExportTraceServiceResponse{PartialSuccess: f.partial}, nil
}

func (f *fakeCollector) received() (calls, requests, spans int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls, f.requests, len(f.spans)
}

func startCollector(t *testing.T, f *fakeCollector) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	coltracepb.RegisterTraceServiceServer(srv, f)
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(srv.Stop)
	return l.Addr().String()
}

func TestGRPCRetriesUnavailableThenExports(t *testing.T) {
	f := &fakeCollector{answers: []error{
		status.Error(codes.Unavailable, "down"), status.Error(codes.ResourceExhausted, "busy"),
	}}
	addr := startCollector(t, f)
	cfg := testConfig("http://"+addr, ProtocolGRPC)
	cfg.Headers = map[string]string{"Authorization": "Bearer s3cret", "x-scope-orgid": "acme"}
	e := mustNew(t, cfg, fastOptions())
	for range 3 {
		e.Enqueue(makeTrace(4))
	}
	waitFor(t, "export", func() bool { return e.Stats().ExportedTraces == 3 })
	st := e.Stats()
	if st.ExportedSpans != 12 || st.Retries != 2 || st.FailedSpans != 0 || st.QueuedTraces != 0 {
		t.Errorf("stats %+v", st)
	}
	if !strings.Contains(st.LastError, "Unavailable") && !strings.Contains(st.LastError, "ResourceExhausted") || st.LastErrorAt.IsZero() {
		t.Errorf("last error %q at %v", st.LastError, st.LastErrorAt)
	}
	checkBalance(t, st)
	calls, _, spans := f.received()
	if calls != 3 || spans != 12 {
		t.Errorf("collector saw %d calls, %d spans", calls, spans)
	}
	f.mu.Lock()
	md := f.md
	f.mu.Unlock()
	if got := md.Get("authorization"); len(got) != 1 || got[0] != "Bearer s3cret" || md.Get("x-scope-orgid")[0] != "acme" {
		t.Errorf("metadata %v", md)
	}
	if ua := md.Get("user-agent"); len(ua) == 0 || !strings.HasPrefix(ua[0], "tusk-agent/") {
		t.Errorf("user agent %v", ua)
	}
}

func TestGRPCNonRetryableFailsAtOnce(t *testing.T) {
	f := &fakeCollector{answers: []error{status.Error(codes.InvalidArgument, "bad data")}}
	e := mustNew(t, testConfig("http://"+startCollector(t, f), ProtocolGRPC), fastOptions())
	e.Enqueue(makeTrace(5))
	waitFor(t, "failure", func() bool { return e.Stats().FailedTraces == 1 })
	st := e.Stats()
	if st.Retries != 0 || st.FailedSpans != 5 || st.ExportedSpans != 0 || !strings.Contains(st.LastError, "bad data") {
		t.Errorf("stats %+v", st)
	}
	checkBalance(t, st)
	// The next batch goes through: one bad batch does not stop export.
	e.Enqueue(makeTrace(2))
	waitFor(t, "export", func() bool { return e.Stats().ExportedTraces == 1 })
}

func TestGRPCPartialSuccess(t *testing.T) {
	f := &fakeCollector{partial: &coltracepb.ExportTracePartialSuccess{RejectedSpans: 2, ErrorMessage: "2 spans too old"}}
	opts := fastOptions()
	opts.FlushInterval = time.Hour // one batch, sent when full
	cfg := testConfig("http://"+startCollector(t, f), ProtocolGRPC)
	cfg.MaxBatchSpans = 6
	e := mustNew(t, cfg, opts)
	e.Enqueue(makeTrace(3))
	e.Enqueue(makeTrace(3))
	waitFor(t, "answer", func() bool { return e.Stats().QueuedTraces == 0 })
	st := e.Stats()
	if st.ExportedTraces != 2 || st.ExportedSpans != 4 || st.FailedSpans != 2 || st.FailedTraces != 0 || st.Retries != 0 ||
		!strings.Contains(st.LastError, "rejected 2 of 6") {
		t.Errorf("stats %+v", st)
	}
	checkBalance(t, st)
}

func TestGRPCUnreachableGivesUpAfterMaxElapsed(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	cfg := testConfig("http://"+addr, ProtocolGRPC)
	cfg.RetryMaxElapsed = 300 * time.Millisecond
	e := mustNew(t, cfg, fastOptions())
	e.Enqueue(makeTrace(3))
	waitFor(t, "give up", func() bool { return e.Stats().FailedTraces == 1 })
	st := e.Stats()
	if st.Retries < 2 || st.FailedSpans != 3 || !strings.Contains(st.LastError, "gave up after") || !strings.Contains(st.LastError, "Unavailable") {
		t.Errorf("stats %+v", st)
	}
	checkBalance(t, st)
}

// stuckSender never answers until its context ends: a backend that hangs.
type stuckSender struct{ calls atomic.Int64 }

func (s *stuckSender) send(ctx context.Context, _ *coltracepb.ExportTraceServiceRequest) (*coltracepb.ExportTracePartialSuccess, error) {
	s.calls.Add(1)
	<-ctx.Done()
	return nil, &exportError{retryable: true, err: ctx.Err()}
}
func (s *stuckSender) close() error { return nil }

func TestEnqueueNeverBlocksWithStuckBackend(t *testing.T) {
	cfg := testConfig("127.0.0.1:1", ProtocolGRPC)
	cfg.QueueSize = 8
	cfg.Timeout = time.Hour
	cfg.RetryMaxElapsed = time.Hour
	s := &stuckSender{}
	e := newExporter(cfg, fastOptions(), s)
	traces := make([]*trace.Trace, 5000)
	for i := range traces {
		traces[i] = makeTrace(3)
	}
	e.Enqueue(traces[0])
	waitFor(t, "the worker to be stuck in a send", func() bool { return s.calls.Load() == 1 })

	var worst time.Duration
	start := time.Now()
	accepted := 1
	for _, tr := range traces[1:] {
		t0 := time.Now()
		if e.Enqueue(tr) {
			accepted++
		}
		worst = max(worst, time.Since(t0))
	}
	total := time.Since(start)
	perCall := total / time.Duration(len(traces)-1)
	t.Logf("%d Enqueue calls with a stuck backend: %s each on average, worst %s", len(traces)-1, perCall, worst)
	if perCall > 20*time.Microsecond || worst > 5*time.Millisecond {
		t.Errorf("Enqueue took %s on average, worst %s: it must not wait", perCall, worst)
	}
	st := e.Stats()
	if accepted != 1+cfg.QueueSize || st.DroppedTraces != uint64(len(traces)-accepted) || st.DroppedSpans != 3*st.DroppedTraces ||
		st.QueuedTraces != uint64(accepted) {
		t.Errorf("accepted %d, stats %+v", accepted, st)
	}
	checkBalance(t, st)

	// Shutdown gives up at its deadline and counts what was left.
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	t0 := time.Now()
	if err := e.Shutdown(ctx); err == nil {
		t.Error("a flush that ran out of time must say so")
	}
	if d := time.Since(t0); d > 2*time.Second {
		t.Errorf("Shutdown took %s with a 100ms deadline", d)
	}
	st = e.Stats()
	if st.FailedTraces != uint64(accepted) || st.QueuedTraces != 0 || st.QueuedSpans != 0 {
		t.Errorf("after shutdown %+v", st)
	}
	checkBalance(t, st)
	if e.Enqueue(makeTrace(1)) {
		t.Error("Enqueue after Shutdown accepted a trace")
	}
	checkBalance(t, e.Stats())
}

func TestShutdownFlushesTheQueue(t *testing.T) {
	f := &fakeCollector{}
	opts := fastOptions()
	opts.FlushInterval = time.Hour // only Shutdown makes it send
	e, err := New(testConfig("http://"+startCollector(t, f), ProtocolGRPC), opts)
	if err != nil {
		t.Fatal(err)
	}
	for range 10 {
		e.Enqueue(makeTrace(2))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := e.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	st := e.Stats()
	if st.ExportedTraces != 10 || st.ExportedSpans != 20 || st.QueuedTraces != 0 {
		t.Errorf("stats %+v", st)
	}
	if _, _, spans := f.received(); spans != 20 {
		t.Errorf("collector has %d spans", spans)
	}
	if err := e.Shutdown(ctx); err == nil {
		t.Error("second Shutdown should report it was closed")
	}
}

func TestLargeTraceIsSplitAcrossRequests(t *testing.T) {
	f := &fakeCollector{}
	cfg := testConfig("http://"+startCollector(t, f), ProtocolGRPC)
	cfg.MaxBatchSpans = 3
	e := mustNew(t, cfg, fastOptions())
	e.Enqueue(makeTrace(7))
	e.Enqueue(makeTrace(2))
	waitFor(t, "export", func() bool { return e.Stats().QueuedTraces == 0 })
	st := e.Stats()
	_, requests, spans := f.received()
	if st.ExportedTraces != 2 || st.ExportedSpans != 9 || spans != 9 || requests != 3 {
		t.Errorf("stats %+v; collector: %d requests, %d spans", st, requests, spans)
	}
	checkBalance(t, st)
}

func TestSplitTraceWithAFailedPartCountsAsFailed(t *testing.T) {
	f := &fakeCollector{answers: []error{nil, status.Error(codes.InvalidArgument, "no")}}
	cfg := testConfig("http://"+startCollector(t, f), ProtocolGRPC)
	cfg.MaxBatchSpans = 4
	e := mustNew(t, cfg, fastOptions())
	e.Enqueue(makeTrace(6))
	waitFor(t, "answers", func() bool { return e.Stats().QueuedTraces == 0 })
	st := e.Stats()
	if st.FailedTraces != 1 || st.ExportedTraces != 0 || st.ExportedSpans != 4 || st.FailedSpans != 2 {
		t.Errorf("stats %+v", st)
	}
	checkBalance(t, st)
}

// httpCollector is an OTLP/HTTP endpoint answering with scripted statuses.
type httpCollector struct {
	mu      sync.Mutex
	answers []int // status codes consumed in order; exhausted: 200
	retryIn string
	calls   int
	spans   int
	header  http.Header
	path    string
}

func (h *httpCollector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.calls++
	h.header, h.path = r.Header.Clone(), r.URL.Path
	body, _ := io.ReadAll(r.Body)
	code := http.StatusOK
	if len(h.answers) > 0 {
		code, h.answers = h.answers[0], h.answers[1:]
	}
	if code != http.StatusOK {
		if h.retryIn != "" {
			w.Header().Set("Retry-After", h.retryIn)
		}
		http.Error(w, "not now", code)
		return
	}
	var req coltracepb.ExportTraceServiceRequest
	if err := proto.Unmarshal(body, &req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	for _, rs := range req.ResourceSpans {
		for _, ss := range rs.ScopeSpans {
			h.spans += len(ss.Spans)
		}
	}
	out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(out)
}

func TestHTTPRetries503ThenExports(t *testing.T) {
	h := &httpCollector{answers: []int{503, 502, 429}, retryIn: "0"}
	srv := httptest.NewServer(h)
	defer srv.Close()
	cfg := testConfig(srv.URL, ProtocolHTTP)
	cfg.Headers = map[string]string{"Authorization": "Basic eDp5"}
	e := mustNew(t, cfg, fastOptions())
	e.Enqueue(makeTrace(3))
	waitFor(t, "export", func() bool { return e.Stats().ExportedTraces == 1 })
	st := e.Stats()
	h.mu.Lock()
	defer h.mu.Unlock()
	if st.Retries != 3 || st.ExportedSpans != 3 || h.calls != 4 || h.spans != 3 || !strings.Contains(st.LastError, "HTTP 429") {
		t.Errorf("stats %+v, %d calls", st, h.calls)
	}
	if h.path != "/v1/traces" || h.header.Get("Content-Type") != "application/x-protobuf" ||
		h.header.Get("Authorization") != "Basic eDp5" || !strings.HasPrefix(h.header.Get("User-Agent"), "tusk-agent/") {
		t.Errorf("request %s %v", h.path, h.header)
	}
	checkBalance(t, st)
}

func TestHTTP400FailsWithoutRetry(t *testing.T) {
	h := &httpCollector{answers: []int{400}}
	srv := httptest.NewServer(h)
	defer srv.Close()
	e := mustNew(t, testConfig(srv.URL+"/custom/traces", ProtocolHTTP), fastOptions())
	e.Enqueue(makeTrace(2))
	waitFor(t, "failure", func() bool { return e.Stats().FailedTraces == 1 })
	st := e.Stats()
	h.mu.Lock()
	defer h.mu.Unlock()
	if st.Retries != 0 || h.calls != 1 || st.FailedSpans != 2 || !strings.Contains(st.LastError, "HTTP 400: not now") || h.path != "/custom/traces" {
		t.Errorf("stats %+v, %d calls to %s", st, h.calls, h.path)
	}
	checkBalance(t, st)
}

func TestHTTPRetryAfterIsHonoured(t *testing.T) {
	h := &httpCollector{answers: []int{503}, retryIn: "1"}
	srv := httptest.NewServer(h)
	defer srv.Close()
	e := mustNew(t, testConfig(srv.URL, ProtocolHTTP), fastOptions())
	t0 := time.Now()
	e.Enqueue(makeTrace(1))
	waitFor(t, "export", func() bool { return e.Stats().ExportedTraces == 1 })
	if d := time.Since(t0); d < time.Second {
		t.Errorf("exported after %s; the backend asked for 1s", d)
	}
	// A Retry-After beyond the retry budget gives up at once.
	h.mu.Lock()
	h.answers, h.retryIn = []int{503}, "60"
	h.mu.Unlock()
	e.Enqueue(makeTrace(1))
	waitFor(t, "give up", func() bool { return e.Stats().FailedTraces == 1 })
}

func TestHTTPSWithCAFile(t *testing.T) {
	h := &httpCollector{}
	srv := httptest.NewTLSServer(h)
	defer srv.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	cert := srv.Certificate()
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(strings.TrimPrefix(srv.URL, "https://"), ProtocolHTTP) // no scheme: TLS
	cfg.CAFile = ca
	e := mustNew(t, cfg, fastOptions())
	e.Enqueue(makeTrace(2))
	waitFor(t, "export", func() bool { return e.Stats().ExportedTraces == 1 })

	// Without the CA the certificate is not trusted, and retrying does
	// not change that.
	cfg.CAFile = ""
	e2 := mustNew(t, cfg, fastOptions())
	e2.Enqueue(makeTrace(1))
	waitFor(t, "failure", func() bool { return e2.Stats().FailedTraces == 1 })
	if st := e2.Stats(); !strings.Contains(st.LastError, "certificate") || st.Retries != 0 {
		t.Errorf("untrusted certificate: %+v", st)
	}
	if _, err := New(Config{Endpoint: "x:1", Protocol: ProtocolGRPC, Timeout: time.Second, QueueSize: 1, MaxBatchSpans: 1, CAFile: filepath.Join(t.TempDir(), "none.pem")}, Options{}); err == nil ||
		!strings.Contains(err.Error(), "export.otlp.ca_file") {
		t.Errorf("missing CA file: %v", err)
	}
}

func TestRetryAfterHeader(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"": 0, "3": 3 * time.Second, " 0 ": 0, "-1": 0, "soon": 0,
		now.Add(10 * time.Second).Format(http.TimeFormat): 10 * time.Second,
		now.Add(-time.Hour).Format(http.TimeFormat):       0,
	} {
		if got := retryAfter(v, now); got != want {
			t.Errorf("Retry-After %q: %s, want %s", v, got, want)
		}
	}
}

func TestClassifyGRPCCodes(t *testing.T) {
	for code, want := range map[codes.Code]bool{
		codes.Unavailable: true, codes.ResourceExhausted: true, codes.DeadlineExceeded: true, codes.Aborted: true,
		codes.InvalidArgument: false, codes.Unauthenticated: false, codes.PermissionDenied: false, codes.Unimplemented: false,
	} {
		if got, _ := classify(grpcError(status.Error(code, "x"))); got != want {
			t.Errorf("%s: retryable %v", code, got)
		}
	}
	if got, _ := classify(errors.New("plain")); got {
		t.Error("an unknown error is not retryable")
	}
}

func TestConfigValidate(t *testing.T) {
	ok := func(mut func(*Config)) Config { c := DefaultConfig(); mut(&c); return c }
	for name, c := range map[string]Config{
		"protocol":          ok(func(c *Config) { c.Protocol = "thrift" }),
		"timeout":           ok(func(c *Config) { c.Timeout = 0 }),
		"queue_size":        ok(func(c *Config) { c.QueueSize = 0 }),
		"max_batch_spans":   ok(func(c *Config) { c.MaxBatchSpans = -1 }),
		"retry_max_elapsed": ok(func(c *Config) { c.RetryMaxElapsed = -time.Second }),
		"headers":           ok(func(c *Config) { c.Headers = map[string]string{"bad name": "x"} }),
		"endpoint":          ok(func(c *Config) { c.Endpoint = "collector" }), // gRPC needs a port
	} {
		if err := c.Validate(); err == nil || !strings.HasPrefix(err.Error(), name) {
			t.Errorf("%s: %v", name, err)
		}
	}
	d := DefaultConfig()
	if err := d.Validate(); err != nil || d.Enabled() {
		t.Errorf("default: %v, enabled %v", err, d.Enabled())
	}
}

func TestEndpointResolution(t *testing.T) {
	for _, c := range []struct {
		endpoint, protocol string
		insecure           bool
		ca                 string
		want               target
		err                string
	}{
		{endpoint: "collector:4317", protocol: "grpc", want: target{grpcAddr: "collector:4317", tls: true}},
		{endpoint: "collector:4317", protocol: "grpc", insecure: true, want: target{grpcAddr: "collector:4317"}},
		{endpoint: "http://127.0.0.1:4317", protocol: "grpc", want: target{grpcAddr: "127.0.0.1:4317"}},
		{endpoint: "https://otlp.example.com:443/", protocol: "grpc", want: target{grpcAddr: "otlp.example.com:443", tls: true}},
		{endpoint: "[::1]:4317", protocol: "grpc", insecure: true, want: target{grpcAddr: "[::1]:4317"}},
		{endpoint: "http://127.0.0.1:4318", protocol: "http", want: target{url: "http://127.0.0.1:4318/v1/traces"}},
		{endpoint: "https://tempo.example.com/otlp/v1/traces", protocol: "http", want: target{url: "https://tempo.example.com/otlp/v1/traces", tls: true}},
		{endpoint: "collector:4318", protocol: "http", want: target{url: "https://collector:4318/v1/traces", tls: true}},
		{endpoint: "collector:4318", protocol: "http", insecure: true, want: target{url: "http://collector:4318/v1/traces"}},
		{endpoint: "collector", protocol: "grpc", err: "no port"},
		{endpoint: "http://c:4317/x", protocol: "grpc", err: "no path"},
		{endpoint: "ftp://c:1", protocol: "http", err: "scheme"},
		{endpoint: "https://c:1", protocol: "http", insecure: true, err: "insecure"},
		{endpoint: "http://c:1", protocol: "http", ca: "/ca.pem", err: "ca_file"},
		{endpoint: "c:1", protocol: "http", insecure: true, ca: "/ca.pem", err: "contradict"},
		{endpoint: "http://c:99999", protocol: "http", err: "port"},
		{endpoint: "http://c:1/?a=b", protocol: "http", err: "query"},
		{endpoint: "http://:1", protocol: "http", err: "no host"},
		{endpoint: "https://u:p@c:1", protocol: "grpc", err: "user info"},
	} {
		cfg := DefaultConfig()
		cfg.Endpoint, cfg.Protocol, cfg.Insecure, cfg.CAFile = c.endpoint, c.protocol, c.insecure, c.ca
		got, err := cfg.target()
		switch {
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err) || !strings.HasPrefix(err.Error(), "endpoint")):
			t.Errorf("%s %s: error %v, want one about %q", c.protocol, c.endpoint, err, c.err)
		case c.err == "" && (err != nil || got != c.want):
			t.Errorf("%s %s: %+v %v, want %+v", c.protocol, c.endpoint, got, err, c.want)
		}
	}
	if got := redact("https://user:pw@c:1"); strings.Contains(got, "pw") {
		t.Errorf("redact: %s", got)
	}
}

func TestGRPCRetryInfoDelayIsHonoured(t *testing.T) {
	st, err := status.New(codes.ResourceExhausted, "slow down").WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(1500 * time.Millisecond)})
	if err != nil {
		t.Fatal(err)
	}
	retryable, after := classify(grpcError(st.Err()))
	if !retryable || after != 1500*time.Millisecond {
		t.Errorf("retryable %v after %s", retryable, after)
	}
}
