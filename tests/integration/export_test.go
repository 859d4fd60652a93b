//go:build integration

package integration

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tusk-php/tusk/pkg/agentapi"
	"github.com/tusk-php/tusk/pkg/trace"
	"github.com/tusk-php/tusk/tests/jaegertest"
	"github.com/tusk-php/tusk/tests/stack"
)

// sameValue compares a model attribute with the value Jaeger's JSON gave.
func sameValue(local, remote any) bool {
	switch v := local.(type) {
	case int64:
		f, ok := remote.(float64)
		return ok && (math.Abs(float64(v)) > 1<<53 || f == float64(v))
	case float64:
		f, ok := remote.(float64)
		return ok && f == v
	default:
		return local == remote
	}
}

// compareWithJaeger checks that Jaeger holds the trace the agent stored:
// ids, parents, names, service, kinds, status, events and every attribute
// (the request span's process attributes as the process's tags).
func compareWithJaeger(t *testing.T, local *trace.Trace, remote *jaegertest.Trace) {
	t.Helper()
	name := local.Name()
	if got := jaegertest.NormalizeID(remote.TraceID); got != local.TraceID.String() {
		t.Errorf("%s: Jaeger trace id %s, agent %s", name, got, local.TraceID)
	}
	if len(remote.Spans) != len(local.Spans) {
		t.Errorf("%s: Jaeger has %d spans, the agent %d", name, len(remote.Spans), len(local.Spans))
	}
	for i := range local.Spans {
		ls := &local.Spans[i]
		js := remote.Span(ls.SpanID.String())
		if js == nil {
			t.Errorf("%s: span %s %q is not in Jaeger", name, ls.SpanID, ls.Name)
			continue
		}
		wantParent := ""
		if !ls.ParentSpanID.IsZero() {
			wantParent = ls.ParentSpanID.String()
		}
		if js.ParentSpanID() != wantParent || js.OperationName != ls.Name || remote.Service(js) != local.Service {
			t.Errorf("%s: span %s: parent %q name %q service %q; agent: %q %q %q", name, ls.SpanID,
				js.ParentSpanID(), js.OperationName, remote.Service(js), wantParent, ls.Name, local.Service)
		}
		if kind, _ := js.Tag("span.kind"); kind != string(ls.Kind) {
			t.Errorf("%s: span %q kind %v, agent %s", name, ls.Name, kind, ls.Kind)
		}
		isErr, _ := js.Tag("error")
		if (isErr == true) != (ls.Status.Code == trace.StatusError) {
			t.Errorf("%s: span %q error tag %v, agent status %v", name, ls.Name, isErr, ls.Status)
		}
		if ls.Status.Code == trace.StatusError && ls.Status.Message != "" {
			if msg, _ := js.Tag("otel.status_description"); msg != ls.Status.Message {
				t.Errorf("%s: span %q status message %v, agent %q", name, ls.Name, msg, ls.Status.Message)
			}
		}
		if scope, _ := js.Tag("otel.scope.name"); scope != "tusk" {
			t.Errorf("%s: span %q scope %v", name, ls.Name, scope)
		}
		process := remote.Processes[js.ProcessID]
		for k, v := range ls.Attributes {
			if i == 0 && trace.IsResourceAttribute(k) {
				if k == trace.AttrServiceName {
					continue // the process's serviceName
				}
				if got, ok := jaegertest.Tag(process.Tags, k); !ok || !sameValue(v, got) {
					t.Errorf("%s: process tag %s = %v, agent %v", name, k, got, v)
				}
				continue
			}
			if got, ok := js.Tag(k); !ok || !sameValue(v, got) {
				t.Errorf("%s: span %q tag %s = %#v, agent %#v", name, ls.Name, k, got, v)
			}
		}
		if len(js.Logs) != len(ls.Events) {
			t.Errorf("%s: span %q has %d logs in Jaeger, %d events in the agent", name, ls.Name, len(js.Logs), len(ls.Events))
			continue
		}
		for k, e := range ls.Events {
			if ev, _ := jaegertest.Tag(js.Logs[k].Fields, "event"); ev != e.Name {
				t.Errorf("%s: event %d is %v, agent %q", name, k, ev, e.Name)
			}
			for ak, av := range e.Attributes {
				if got, ok := jaegertest.Tag(js.Logs[k].Fields, ak); !ok || !sameValue(av, got) {
					t.Errorf("%s: event %q field %s = %v, agent %v", name, e.Name, ak, got, av)
				}
			}
		}
	}
	if root := remote.Span(local.Spans[0].SpanID.String()); root != nil {
		tags := remote.Processes[root.ProcessID].Tags
		if v, _ := jaegertest.Tag(tags, "telemetry.sdk.name"); v != "tusk" {
			t.Errorf("%s: telemetry.sdk.name %v", name, v)
		}
	}
}

// exportStatus returns the agent's exporter counters.
func (a *agentProc) exportStatus(t *testing.T) *agentapi.ExportStatus {
	t.Helper()
	st, err := a.client.Status(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if st.Export == nil {
		t.Fatal("status has no export section: is export on?")
	}
	return st.Export
}

// checkExportBalance asserts that every trace and span handed to the
// exporter is accounted for.
func checkExportBalance(t *testing.T, e *agentapi.ExportStatus) {
	t.Helper()
	if e.EnqueuedTraces != e.ExportedTraces+e.DroppedTraces+e.FailedTraces+e.QueuedTraces ||
		e.EnqueuedSpans != e.ExportedSpans+e.DroppedSpans+e.FailedSpans+e.QueuedSpans {
		t.Errorf("export counters do not add up: %+v", e)
	}
}

// metricsText fetches the agent's Prometheus metrics.
func (a *agentProc) metricsText(t *testing.T) string {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, a.url+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+a.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// TestOTLPExportToJaeger: requests to real php-fpm and MariaDB, traced by
// the agent, exported over OTLP gRPC and then HTTP to a real Jaeger v2;
// Jaeger's query API returns each trace as the agent stored it.
func TestOTLPExportToJaeger(t *testing.T) {
	j := jaegertest.Start(t.Context(), t)
	s := startFixture(t, stack.StackOptions{WithMariaDB: true, Workers: 2})
	pages := map[string]int{"/io/sql.php": 200, "/error.php": 500, "/caught.php": 200, "/index.php": 200}
	for _, c := range []struct{ protocol, endpoint string }{
		{"grpc", "http://" + j.OTLPGRPC},
		{"http", j.OTLPHTTP},
	} {
		t.Run(c.protocol, func(t *testing.T) {
			a := startAgent(t, s, "--otlp-endpoint", c.endpoint, "--otlp-protocol", c.protocol)
			for page, want := range pages {
				if code, body := get(t, s, page); code != want {
					t.Fatalf("%s: HTTP %d %s", page, code, body)
				}
			}
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			var sqlChecked bool
			for page := range pages {
				local := a.onlyTrace(t, page)
				remote, err := j.Client().WaitTrace(ctx, local.TraceID.String(), len(local.Spans))
				if err != nil {
					t.Fatalf("%s: %v; exporter %+v", page, err, a.exportStatus(t))
				}
				compareWithJaeger(t, local, remote)
				if page != "/io/sql.php" {
					continue
				}
				// The SQL span with its statement and PHP call site.
				count := ioSpan(t, local, trace.AttrDBQueryText, "SELECT COUNT(*) FROM posts")
				js := remote.Span(count.SpanID.String())
				if js == nil {
					t.Fatal("SQL span missing in Jaeger")
				}
				q, _ := js.Tag(trace.AttrDBQueryText)
				fn, _ := js.Tag(trace.AttrCodeFunction)
				kind, _ := js.Tag("span.kind")
				if q != "SELECT COUNT(*) FROM posts" || fn != "count_posts" || kind != "client" {
					t.Errorf("SQL span in Jaeger: %v %v %v", q, fn, kind)
				}
				broken := ioSpan(t, local, trace.AttrDBQueryText, "no_such_table")
				if e, _ := remote.Span(broken.SpanID.String()).Tag("error"); e != true {
					t.Errorf("failing SQL span has no error tag in Jaeger")
				}
				sqlChecked = true
			}
			if !sqlChecked {
				t.Error("no SQL trace checked")
			}
			services, err := j.Client().Services(ctx)
			if err != nil || !strings.Contains(","+strings.Join(services, ",")+",", ","+s.Pool+",") {
				t.Errorf("Jaeger services %v (%v), want %s", services, err, s.Pool)
			}

			// Everything the agent stored was exported (at least our pages:
			// a stray request from a concurrent test run may add some).
			e := a.exportStatus(t)
			if e.Protocol != c.protocol || e.Endpoint != c.endpoint || e.ExportedTraces < uint64(len(pages)) ||
				e.ExportedTraces != e.EnqueuedTraces || e.DroppedTraces != 0 || e.FailedTraces != 0 || e.QueuedTraces != 0 {
				t.Errorf("export status %+v", e)
			}
			checkExportBalance(t, e)
			m := a.metricsText(t)
			for _, want := range []string{
				fmt.Sprintf(`tusk_export_spans_total{result="exported"} %d`, e.ExportedSpans),
				`tusk_export_spans_total{result="dropped_queue_full"} 0`,
				`tusk_export_spans_total{result="failed"} 0`,
				"tusk_export_retries_total ", "tusk_export_queue_traces 0",
			} {
				if !strings.Contains(m, want) {
					t.Errorf("/metrics lacks %q", want)
				}
			}
		})
	}
}

// TestOTLPExportSurvivesJaegerRestart: Jaeger is killed (-9) in the middle
// of a load and restarted; PHP never notices, the agent keeps every trace
// locally, retries, exports what it held once Jaeger is back, and its
// counters account for every trace.
func TestOTLPExportSurvivesJaegerRestart(t *testing.T) {
	j := jaegertest.Start(t.Context(), t)
	s := startFixture(t, stack.StackOptions{WithMariaDB: true, Workers: 4})
	a := startAgent(t, s, "--otlp-endpoint", "http://"+j.OTLPGRPC)

	const (
		total     = 300
		killAt    = 100 // requests sent before Jaeger is killed
		restartAt = 200 // and before it is started again
		pace      = 20 * time.Millisecond
	)
	type result struct {
		id    trace.TraceID
		phase int32 // 0 before the kill, 1 Jaeger down, 2 after the restart
		code  int
		err   error
	}
	results := make([]result, total)
	var phase atomic.Int32
	work := make(chan int)
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 10 * time.Second}
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				r := &results[i]
				r.id = trace.NewTraceID()
				r.phase = phase.Load()
				page := "/index.php"
				if i%2 == 0 {
					page = "/io/sql.php"
				}
				req, _ := http.NewRequest(http.MethodGet, s.URL()+page, nil)
				req.Header.Set("traceparent", fmt.Sprintf("00-%s-%s-01", r.id, trace.NewSpanID()))
				resp, err := client.Do(req)
				if err != nil {
					r.err = err
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				r.code = resp.StatusCode
			}
		}()
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	restarted := make(chan error, 1)
	var backAt time.Time
	tick := time.NewTicker(pace)
	start := time.Now()
	var killedAt time.Time
	for i := range total {
		<-tick.C
		switch i {
		case killAt:
			j.Kill()
			killedAt = time.Now()
			phase.Store(1)
		case restartAt:
			go func() { // the load goes on while Jaeger starts
				err := j.Restart(ctx)
				backAt = time.Now()
				phase.Store(2)
				restarted <- err
			}()
		}
		work <- i
	}
	tick.Stop()
	close(work)
	wg.Wait()
	if err := <-restarted; err != nil {
		t.Fatal(err)
	}
	t.Logf("%d requests in %s; Jaeger down for %s", total, time.Since(start).Round(time.Millisecond), backAt.Sub(killedAt).Round(time.Millisecond))

	// PHP saw nothing.
	byPhase := [3]int{}
	for i, r := range results {
		if r.err != nil || r.code != 200 {
			t.Errorf("request %d: HTTP %d %v", i, r.code, r.err)
		}
		byPhase[r.phase]++
	}
	// The agent is healthy and stored every request.
	if err := a.client.Health(ctx); err != nil {
		t.Fatalf("agent health: %v", err)
	}
	stored := a.waitTraces(t, trace.Query{Limit: 5000}, total)
	local := map[trace.TraceID]*trace.Trace{}
	for _, r := range results {
		tr, err := a.client.Trace(ctx, r.id)
		if err != nil {
			t.Fatalf("trace %s of a request is not in the local store: %v", r.id, err)
		}
		local[r.id] = tr
	}
	// What the exporter was handed is what the store has (our requests,
	// and any stray one from a concurrent test run).
	spans := uint64(0)
	for _, sum := range stored {
		if local[sum.TraceID] == nil {
			t.Logf("a trace we did not make: %s %s", sum.Method, sum.Path)
			local[sum.TraceID] = a.fetch(t, sum.TraceID)
		}
		spans += uint64(len(local[sum.TraceID].Spans))
	}

	// Every trace is accounted for once the queue has drained.
	var e *agentapi.ExportStatus
	deadline := time.Now().Add(45 * time.Second)
	for {
		e = a.exportStatus(t)
		if e.QueuedTraces == 0 && e.EnqueuedTraces >= total || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("export counters: enqueued %d traces / %d spans; exported %d / %d; dropped (queue full) %d / %d; failed %d / %d; queued %d / %d; retries %d; last error %q at %s",
		e.EnqueuedTraces, e.EnqueuedSpans, e.ExportedTraces, e.ExportedSpans, e.DroppedTraces, e.DroppedSpans,
		e.FailedTraces, e.FailedSpans, e.QueuedTraces, e.QueuedSpans, e.Retries, e.LastError, e.LastErrorAt.Format(time.RFC3339Nano))
	t.Logf("requests before the kill %d, while Jaeger was down %d, after the restart %d", byPhase[0], byPhase[1], byPhase[2])
	checkExportBalance(t, e)
	if e.EnqueuedTraces != uint64(len(stored)) || e.EnqueuedSpans != spans || e.QueuedTraces != 0 {
		t.Errorf("the exporter got %d traces / %d spans (%d still queued); the store has %d / %d", e.EnqueuedTraces, e.EnqueuedSpans, e.QueuedTraces, len(stored), spans)
	}
	if e.ExportedTraces+e.DroppedTraces+e.FailedTraces != uint64(len(stored)) {
		t.Errorf("exported + dropped + failed = %d, want %d", e.ExportedTraces+e.DroppedTraces+e.FailedTraces, len(stored))
	}
	if e.Retries == 0 {
		t.Error("no retries while Jaeger was down")
	}
	if e.DroppedTraces != 0 {
		t.Errorf("%d traces dropped: the queue (2048) should hold a %d-request load", e.DroppedTraces, total)
	}

	// What was exported after the restart is in Jaeger: every request made
	// once it was back, and — nothing having failed — every request made
	// while it was down (held and retried).
	c := j.Client()
	inJaeger := [3]int{}
	for _, r := range results {
		must := r.phase == 2 || (r.phase == 1 && e.FailedTraces == 0)
		wait := 100 * time.Millisecond
		if must {
			wait = 20 * time.Second
		}
		wctx, wcancel := context.WithTimeout(ctx, wait)
		remote, err := c.WaitTrace(wctx, r.id.String(), len(local[r.id].Spans))
		wcancel()
		switch {
		case err == nil:
			inJaeger[r.phase]++
			if r.phase > 0 {
				compareWithJaeger(t, local[r.id], remote)
			}
		case must:
			t.Errorf("trace %s (phase %d) not in Jaeger: %v", r.id, r.phase, err)
		}
	}
	t.Logf("in Jaeger after its restart: %d of %d from before the kill (lost with its memory unless still queued), %d of %d from the outage, %d of %d from after",
		inJaeger[0], byPhase[0], inJaeger[1], byPhase[1], inJaeger[2], byPhase[2])

	st, err := a.client.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Store.Dropped != 0 || st.Events.Lost != 0 {
		t.Errorf("agent store dropped %d, ring buffer lost %d", st.Store.Dropped, st.Events.Lost)
	}
	select {
	case err := <-a.done:
		t.Fatalf("agent exited: %v", err)
	default:
	}
}
