//go:build integration

package integration

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tusk-php/tusk/pkg/trace"
	"github.com/tusk-php/tusk/tests/stack"
)

// jitOn runs PHP with opcache's tracing JIT, as production sites do.
var jitOn = []string{"opcache.enable=1", "opcache.jit=tracing", "opcache.jit_buffer_size=32M"}

// The request probes fire without USE_ZEND_DTRACE=1: this pool runs with
// opcache and its JIT on, and every request still gets its span.
func TestRequestSpansFromPHPFPM(t *testing.T) {
	s := startFixture(t, stack.StackOptions{FPMIniArgs: jitOn})
	a := startAgent(t, s)
	workers := s.FPM.WorkerPIDs(s.Pool)
	if _, body := get(t, s, "/opcache.php"); !strings.Contains(body, `"jit":true`) {
		t.Fatalf("the JIT is not on in the workers: %s", body)
	}

	before := time.Now()
	cases := []struct {
		request     string
		status      int
		path, query string
		script      string
		minDuration time.Duration
		err         bool
	}{
		{"/index.php?x=1", 200, "/index.php", "x=1", "index.php", 27 * time.Millisecond, false},
		// Not a file: nginx's front controller runs index.php, and the
		// span must still say what was asked for (FastCGI REQUEST_URI).
		{"/shop/cart?id=7&q=a%20b", 200, "/shop/cart", "id=7&q=a%20b", "index.php", 27 * time.Millisecond, false},
		{"/notfound.php", 404, "/notfound.php", "", "notfound.php", 0, false},
		{"/error.php", 500, "/error.php", "", "error.php", 0, true},
		{"/status.php?code=503", 503, "/status.php", "code=503", "status.php", 0, true},
	}
	for _, c := range cases {
		if code, _ := get(t, s, c.request); code != c.status {
			t.Fatalf("GET %s: status %d, want %d", c.request, code, c.status)
		}
	}
	after := time.Now()

	// +1: the /opcache.php check is a trace of the pool too; counting it as
	// one of the cases returned before the last request was stored.
	list := a.waitTraces(t, trace.Query{Pool: s.Pool}, len(cases)+1)
	for _, c := range cases {
		t.Run(strings.TrimPrefix(c.request, "/"), func(t *testing.T) {
			var sum *trace.Summary
			for i := range list {
				tr := a.fetch(t, list[i].TraceID)
				if tr.Path == c.path && tr.Root().Attributes[trace.AttrURLQuery] == nilIfEmpty(c.query) {
					sum = &list[i]
				}
			}
			if sum == nil {
				t.Fatalf("no trace for %s among %d", c.request, len(list))
			}
			tr := a.fetch(t, sum.TraceID)
			root := tr.Root()
			if tr.Method != "GET" || tr.StatusCode != c.status || tr.Error != c.err || tr.Incomplete {
				t.Errorf("summary %+v", tr.Summary)
			}
			if tr.Service != s.Pool || tr.Pool != s.Pool || root.Attributes[trace.AttrPHPPool] != s.Pool {
				t.Errorf("service %q pool %q", tr.Service, tr.Pool)
			}
			if got, _ := root.Attributes[trace.AttrPHPScript].(string); !strings.HasSuffix(got, "/tests/fixtures/app/"+c.script) {
				t.Errorf("php.script = %q", got)
			}
			pid, _ := root.Attributes[trace.AttrProcessPID].(int64)
			if !slices.Contains(workers, int(pid)) || root.Attributes[trace.AttrThreadID] != pid {
				t.Errorf("process.pid %d not one of the pool's workers %v", pid, workers)
			}
			if got := root.Attributes[trace.AttrServerAddress]; got != strings.TrimPrefix(s.URL(), "http://") {
				t.Errorf("server.address = %v, want the Host header", got)
			}
			// Wall-clock start converted from the kernel's monotonic clock.
			start := tr.Start()
			if start.Before(before.Add(-50*time.Millisecond)) || start.After(after) {
				t.Errorf("start %s outside the test's window [%s, %s]", start, before, after)
			}
			if d := tr.Duration(); d < c.minDuration || d > c.minDuration+500*time.Millisecond {
				t.Errorf("duration %s, want ≥ %s", d, c.minDuration)
			}
			if len(tr.TraceID.String()) != 32 || tr.TraceID.IsZero() || root.SpanID.IsZero() || !root.ParentSpanID.IsZero() {
				t.Errorf("ids: trace %s span %s parent %s", tr.TraceID, root.SpanID, root.ParentSpanID)
			}
			if root.Name != "GET "+c.path || root.Kind != trace.KindServer {
				t.Errorf("root span %q kind %s", root.Name, root.Kind)
			}
		})
	}
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func TestPOSTAndTraceContext(t *testing.T) {
	s := startFixture(t, stack.StackOptions{})
	a := startAgent(t, s)

	resp, err := http.Post(s.URL()+"/status.php?code=201", "application/x-www-form-urlencoded", strings.NewReader("a=1"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	const traceID, parentID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	get(t, s, "/status.php?code=200", "traceparent", fmt.Sprintf("00-%s-%s-01", traceID, parentID), "X-Request-ID", "req-42")

	list := a.waitTraces(t, trace.Query{Pool: s.Pool, PathPrefix: "/status.php"}, 2)
	var post, continued *trace.Trace
	for _, sum := range list {
		tr := a.fetch(t, sum.TraceID)
		switch tr.Method {
		case "POST":
			post = tr
		case "GET":
			continued = tr
		}
	}
	if post == nil || post.StatusCode != 201 || post.Root().Name != "POST /status.php" {
		t.Fatalf("POST trace: %+v", post)
	}
	if continued == nil || continued.TraceID.String() != traceID || continued.Root().ParentSpanID.String() != parentID {
		t.Fatalf("traceparent not continued: %+v", continued)
	}
	if got := continued.Root().Attributes["http.request.header.x-request-id"]; got != "req-42" {
		t.Fatalf("x-request-id = %v", got)
	}
	if _, err := a.client.Trace(context.Background(), continued.TraceID); err != nil {
		t.Fatalf("fetch by the caller's trace id: %v", err)
	}
}
