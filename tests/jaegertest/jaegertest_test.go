package jaegertest

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tusk-php/tusk/pkg/otlpexport"
	"github.com/tusk-php/tusk/pkg/trace"
)

// What Jaeger's query API answers, trimmed.
const traceJSON = `{"data":[{"traceID":"af7651916cd43dd8448eb211c80319c","spans":[
 {"traceID":"af7651916cd43dd8448eb211c80319c","spanID":"00f067aa0ba902b7","operationName":"GET /cart",
  "references":[],"startTime":1700000000000000,"duration":5000,
  "tags":[{"key":"span.kind","type":"string","value":"server"},{"key":"error","type":"bool","value":true}],
  "logs":[{"timestamp":1700000000004000,"fields":[{"key":"event","type":"string","value":"exception"}]}],
  "processID":"p1","warnings":null},
 {"traceID":"af7651916cd43dd8448eb211c80319c","spanID":"1111111111111111","operationName":"SELECT posts",
  "references":[{"refType":"CHILD_OF","traceID":"af7651916cd43dd8448eb211c80319c","spanID":"00f067aa0ba902b7"}],
  "startTime":1700000000001000,"duration":2000,"tags":[{"key":"code.line.number","type":"int64","value":14}],
  "logs":[],"processID":"p1","warnings":null}],
 "processes":{"p1":{"serviceName":"shop","tags":[{"key":"host.name","type":"string","value":"web-1"}]}},"warnings":null}],
 "total":0,"limit":0,"offset":0,"errors":null}`

func TestClientDecodesQueryAPI(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.URL.RequestURI())
		switch {
		case r.URL.Path == "/api/services":
			w.Write([]byte(`{"data":["shop","jaeger"],"errors":null}`))
		case r.URL.Path == "/api/traces/0af7651916cd43dd8448eb211c80319c", r.URL.Path == "/api/traces":
			w.Write([]byte(traceJSON))
		case strings.HasPrefix(r.URL.Path, "/api/traces/"):
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"data":null,"errors":[{"code":404,"msg":"trace not found"}]}`))
		default:
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(`{"data":null,"errors":[{"code":400,"msg":"bad"}]}`))
		}
	}))
	defer srv.Close()
	c := &Client{URL: srv.URL}
	ctx := context.Background()

	services, err := c.Services(ctx)
	if err != nil || len(services) != 2 || services[0] != "shop" {
		t.Fatalf("services %v %v", services, err)
	}
	tr, err := c.Trace(ctx, "0af7651916cd43dd8448eb211c80319c")
	if err != nil {
		t.Fatal(err)
	}
	if NormalizeID(tr.TraceID) != "0af7651916cd43dd8448eb211c80319c" || len(tr.Spans) != 2 {
		t.Fatalf("trace %+v", tr)
	}
	root, sql := tr.Span("00f067aa0ba902b7"), tr.Span("1111111111111111")
	if root == nil || sql == nil || root.ParentSpanID() != "" || sql.ParentSpanID() != root.SpanID || tr.Service(sql) != "shop" {
		t.Fatalf("spans %+v", tr.Spans)
	}
	if v, _ := root.Tag("span.kind"); v != "server" {
		t.Errorf("span.kind %v", v)
	}
	if v, _ := sql.Tag("code.line.number"); v != float64(14) {
		t.Errorf("line %v", v)
	}
	if v, ok := Tag(tr.Processes["p1"].Tags, "host.name"); !ok || v != "web-1" {
		t.Errorf("process tags %v", tr.Processes)
	}
	if _, err := c.Trace(ctx, "00000000000000000000000000000001"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown trace: %v", err)
	}
	list, err := c.FindTraces(ctx, Query{Service: "shop", Start: time.UnixMicro(1), End: time.UnixMicro(2), Limit: 5})
	if err != nil || len(list) != 1 {
		t.Fatalf("find %v %v", list, err)
	}
	if last := got[len(got)-1]; last != "/api/traces?end=2&limit=5&service=shop&start=1" {
		t.Errorf("search URL %s", last)
	}
}

func TestConfigUsesItsPorts(t *testing.T) {
	c := Config(1001, 1002, 1003, 1004)
	for _, want := range []string{"127.0.0.1:1001", "127.0.0.1:1002", "127.0.0.1:1003", "127.0.0.1:1004", "memory:", "level: none"} {
		if !strings.Contains(c, want) {
			t.Errorf("config lacks %q:\n%s", want, c)
		}
	}
}

// startBuilt starts Jaeger when its binary is built (scripts/test.sh builds
// it first; `go run ./tests/jaegertest/cmd/jaeger-build` by hand), so that
// a plain `go test ./...` does not spend minutes building it.
func startBuilt(t *testing.T) *Jaeger {
	t.Helper()
	path, err := BinaryPath()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil && os.Getenv("TUSK_JAEGER_BUILD") != "1" {
		t.Skipf("Jaeger is not built (%s): run go run ./tests/jaegertest/cmd/jaeger-build, or set TUSK_JAEGER_BUILD=1", path)
	}
	return Start(t.Context(), t)
}

func exportTrace(spans int) *trace.Trace {
	t := &trace.Trace{Summary: trace.Summary{TraceID: trace.NewTraceID(), Service: "jaegertest", Host: "h", StartUnixNano: time.Now().UnixNano()}}
	for i := range spans {
		s := trace.Span{SpanID: trace.NewSpanID(), Name: "op", Kind: trace.KindClient, StartUnixNano: t.StartUnixNano, DurationNano: 1000,
			Attributes: trace.Attributes{"i": int64(i)}}
		if i == 0 {
			s.Kind, s.Name = trace.KindServer, "GET /"
			s.Status = trace.Status{Code: trace.StatusError, Message: "HTTP 500"}
		} else {
			s.ParentSpanID = t.Spans[0].SpanID
		}
		t.Spans = append(t.Spans, s)
	}
	return t
}

// TestRealJaegerTakesOTLPAndRestarts checks the helper itself against the
// real Jaeger: both receivers, the query API, Kill and Restart on the same
// ports with empty storage.
func TestRealJaegerTakesOTLPAndRestarts(t *testing.T) {
	j := startBuilt(t)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	c := j.Client()
	send := func(endpoint, protocol string, tr *trace.Trace) *otlpexport.Exporter {
		cfg := otlpexport.DefaultConfig()
		cfg.Endpoint, cfg.Protocol, cfg.RetryMaxElapsed = endpoint, protocol, time.Minute
		e, err := otlpexport.New(cfg, otlpexport.Options{FlushInterval: 10 * time.Millisecond, Info: otlpexport.Info{Version: "test"}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = e.Shutdown(context.Background()) })
		e.Enqueue(tr)
		return e
	}
	for _, p := range []struct{ endpoint, protocol string }{{"http://" + j.OTLPGRPC, "grpc"}, {j.OTLPHTTP, "http"}} {
		tr := exportTrace(3)
		send(p.endpoint, p.protocol, tr)
		got, err := c.WaitTrace(ctx, tr.TraceID.String(), 3)
		if err != nil {
			t.Fatalf("%s: %v\n%s", p.protocol, err, j.LogTail(2000))
		}
		root := got.Span(tr.Spans[0].SpanID.String())
		if root == nil || got.Service(root) != "jaegertest" || root.OperationName != "GET /" {
			t.Fatalf("%s: %+v", p.protocol, got)
		}
		if v, _ := root.Tag("error"); v != true {
			t.Errorf("%s: error tag %v in %+v", p.protocol, v, root.Tags)
		}
	}
	if services, err := c.Services(ctx); err != nil || !strings.Contains(strings.Join(services, ","), "jaegertest") {
		t.Errorf("services %v %v", services, err)
	}
	found, err := c.FindTraces(ctx, Query{Service: "jaegertest", Limit: 10})
	if err != nil || len(found) != 2 {
		t.Errorf("search: %d traces, %v", len(found), err)
	}

	j.Kill()
	if j.Running() {
		t.Fatal("still running after Kill")
	}
	tr := exportTrace(2)
	e := send("http://"+j.OTLPGRPC, "grpc", tr)
	time.Sleep(500 * time.Millisecond) // a few failed attempts
	if err := j.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.WaitTrace(ctx, tr.TraceID.String(), 2); err != nil {
		t.Fatal(err)
	}
	if found, err := c.FindTraces(ctx, Query{Service: "jaegertest"}); err != nil || len(found) != 1 {
		t.Errorf("after a restart only the new trace: %d, %v", len(found), err)
	}
	if st := e.Stats(); st.Retries == 0 || st.ExportedTraces != 1 {
		t.Errorf("exporter %+v", st)
	}
}
