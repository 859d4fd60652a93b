//go:build integration

package integration

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tusk-php/tusk/pkg/agentapi"
	"github.com/tusk-php/tusk/pkg/trace"
	"github.com/tusk-php/tusk/tests/stack"
)

// dtraceStack is a fixture whose php-fpm master runs with USE_ZEND_DTRACE=1,
// so function probes can fire.
func dtraceStack(t *testing.T, workers int) *stack.Stack {
	return startFixture(t, stack.StackOptions{FPMEnv: []string{"USE_ZEND_DTRACE=1"}, Workers: workers})
}

func enableDeep(t *testing.T, a *agentProc, req agentapi.DeepModeRequest) *agentapi.DeepMode {
	t.Helper()
	d, err := a.client.EnableDeepMode(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// childOf asserts span c hangs from p and lies within p's time.
func childOf(t *testing.T, c, p *trace.Span) {
	t.Helper()
	if c.ParentSpanID != p.SpanID {
		t.Errorf("%s: parent is %s, want %s", c.Name, c.ParentSpanID, p.Name)
	}
	if c.StartUnixNano < p.StartUnixNano || c.StartUnixNano+c.DurationNano > p.StartUnixNano+p.DurationNano {
		t.Errorf("%s [%d+%d] is not within %s [%d+%d]", c.Name, c.StartUnixNano, c.DurationNano, p.Name, p.StartUnixNano, p.DurationNano)
	}
}

// callSite asserts a span's code.* attributes (lines: tests/fixtures/app/README.md).
func callSite(t *testing.T, s *trace.Span, file string, line int64) {
	t.Helper()
	if got, _ := s.Attributes[trace.AttrCodeFilePath].(string); !strings.HasSuffix(got, "/tests/fixtures/app/"+file) {
		t.Errorf("%s: code.file.path = %q, want …/%s", s.Name, got, file)
	}
	if got := s.Attributes[trace.AttrCodeLineNumber]; got != line {
		t.Errorf("%s: code.line.number = %v, want %d", s.Name, got, line)
	}
}

func within(t *testing.T, s *trace.Span, min, slack time.Duration) {
	t.Helper()
	if d := s.Duration(); d < min || d > min+slack {
		t.Errorf("%s took %s, want %s (+%s)", s.Name, d, min, slack)
	}
}

func TestDeepModeNestedFunctionSpans(t *testing.T) {
	s := dtraceStack(t, 2)
	a := startAgent(t, s)
	d := enableDeep(t, a, agentapi.DeepModeRequest{Pool: s.Pool, Threshold: agentapi.Duration(time.Millisecond), For: agentapi.Duration(time.Minute)})
	if len(d.AttachedPIDs) != 2 {
		t.Fatalf("deep mode attached to %v, want both workers", d.AttachedPIDs)
	}

	get(t, s, "/index.php")
	tr := a.onlyTrace(t, "/index.php")
	root := tr.Root()
	main := spanNamed(t, tr, "{main}")
	fa, fb, fc := spanNamed(t, tr, "a"), spanNamed(t, tr, "b"), spanNamed(t, tr, "c")
	total, tax := spanNamed(t, tr, `Shop\Cart::total`), spanNamed(t, tr, `Shop\Cart::tax`)
	if len(tr.Spans) != 7 {
		var names []string
		for _, s := range tr.Spans {
			names = append(names, s.Name)
		}
		t.Fatalf("want request + 6 function spans (quick() is under the 1ms threshold), got %v", names)
	}
	childOf(t, main, root)
	childOf(t, fa, main)
	childOf(t, fb, fa)
	childOf(t, fc, fa)
	childOf(t, total, main)
	childOf(t, tax, total)
	callSite(t, main, "index.php", 44)
	callSite(t, fa, "index.php", 23)
	callSite(t, fb, "index.php", 30)
	callSite(t, fc, "index.php", 35)
	callSite(t, total, "index.php", 9)
	callSite(t, tax, "index.php", 12)
	within(t, fb, 20*time.Millisecond, 15*time.Millisecond)
	within(t, fc, 5*time.Millisecond, 10*time.Millisecond)
	within(t, tax, 2*time.Millisecond, 10*time.Millisecond)
	if got := tax.Attributes[trace.AttrCodeFunction]; got != `Shop\Cart::tax` {
		t.Errorf("code.function.name = %v", got)
	}
	// quick()'s time stayed in the kernel but counts in a(): a's own time
	// (without b and c) is small, and a covers b + c.
	if self, _ := fa.Attributes[trace.AttrPHPSelfTime].(int64); self < 0 || time.Duration(self) > 5*time.Millisecond {
		t.Errorf("a() self time %v", self)
	}

	// The threshold is live: lower it and the 0.1 ms quick() shows up.
	enableDeep(t, a, agentapi.DeepModeRequest{Pool: s.Pool, Threshold: agentapi.Duration(time.Nanosecond), For: agentapi.Duration(time.Minute)})
	get(t, s, "/index.php?again=1")
	var again *trace.Trace
	for _, sum := range a.waitTraces(t, trace.Query{PathPrefix: "/index.php"}, 2) {
		if cand := a.fetch(t, sum.TraceID); cand.Root().Attributes[trace.AttrURLQuery] == "again=1" {
			again = cand
		}
	}
	if again == nil {
		t.Fatal("second request not traced")
	}
	childOf(t, spanNamed(t, again, "quick"), spanNamed(t, again, "a"))
	callSite(t, spanNamed(t, again, "quick"), "index.php", 40)
}

func TestDeepModeExceptionsAndRecursion(t *testing.T) {
	s := dtraceStack(t, 2)
	a := startAgent(t, s)
	enableDeep(t, a, agentapi.DeepModeRequest{Pool: s.Pool, Threshold: agentapi.Duration(time.Nanosecond), For: agentapi.Duration(time.Minute)})

	get(t, s, "/error.php")
	get(t, s, "/caught.php")
	get(t, s, "/recursion.php?n=5")

	// Uncaught: the function that threw and the request both fail.
	failed := a.onlyTrace(t, "/error.php")
	boom := spanNamed(t, failed, "boom")
	if boom.Status.Code != trace.StatusError || len(boom.Events) != 1 || boom.Events[0].Attributes[trace.AttrExceptionType] != "RuntimeException" {
		t.Errorf("boom span: status %+v events %+v", boom.Status, boom.Events)
	}
	callSite(t, boom, "error.php", 6)
	if !failed.Error || failed.StatusCode != 500 || failed.Root().Status.Code != trace.StatusError {
		t.Errorf("request: error=%v status=%d", failed.Error, failed.StatusCode)
	}

	// Caught: the thrower is marked, the request is fine.
	caught := a.onlyTrace(t, "/caught.php")
	risky := spanNamed(t, caught, "risky")
	if risky.Status.Code != trace.StatusError || len(risky.Events) != 1 || risky.Events[0].Attributes[trace.AttrExceptionType] != "DomainException" {
		t.Errorf("risky span: status %+v events %+v", risky.Status, risky.Events)
	}
	childOf(t, risky, spanNamed(t, caught, "handle"))
	if caught.Error || caught.StatusCode != 200 {
		t.Errorf("a caught exception failed the request: error=%v status=%d", caught.Error, caught.StatusCode)
	}

	// fib(5) makes 15 calls; each fib's parent is a fib one level up, or {main}.
	rec := a.onlyTrace(t, "/recursion.php")
	byID := map[trace.SpanID]*trace.Span{}
	for i := range rec.Spans {
		byID[rec.Spans[i].SpanID] = &rec.Spans[i]
	}
	fibs, maxDepth := 0, int64(0)
	for i := range rec.Spans {
		sp := &rec.Spans[i]
		if sp.Name != "fib" {
			continue
		}
		fibs++
		depth := sp.Attributes[trace.AttrPHPDepth].(int64)
		maxDepth = max(maxDepth, depth)
		parent := byID[sp.ParentSpanID]
		if parent == nil || (parent.Name != "fib" && parent.Name != "{main}") {
			t.Fatalf("fib at depth %d has parent %v", depth, parent)
		}
		if parent.Name == "fib" && parent.Attributes[trace.AttrPHPDepth].(int64) != depth-1 {
			t.Errorf("fib depth %d under fib depth %v", depth, parent.Attributes[trace.AttrPHPDepth])
		}
		childOf(t, sp, parent)
	}
	if fibs != 15 || maxDepth != 6 { // {main} is depth 1, fib(5) depth 2 … fib(1) depth 6
		t.Errorf("fib spans %d (want 15), deepest %d (want 6)", fibs, maxDepth)
	}
}

func TestDeepModeDepthCap(t *testing.T) {
	s := dtraceStack(t, 1)
	a := startAgent(t, s)
	enableDeep(t, a, agentapi.DeepModeRequest{Pool: s.Pool, Threshold: agentapi.Duration(time.Nanosecond), MaxDepth: 3, For: agentapi.Duration(time.Minute)})
	get(t, s, "/recursion.php?n=5")
	rec := a.onlyTrace(t, "/recursion.php")
	fibs := 0
	for _, sp := range rec.Spans[1:] {
		if d := sp.Attributes[trace.AttrPHPDepth].(int64); d > 3 {
			t.Errorf("%s at depth %d, over the cap of 3", sp.Name, d)
		}
		if sp.Name == "fib" {
			fibs++
		}
	}
	if fibs != 3 { // fib(5) at depth 2, fib(4) and fib(3) at depth 3
		t.Errorf("%d fib spans within depth 3, want 3", fibs)
	}
	// The deeper calls' time still counts in their callers.
	top := rec.Spans[1]
	if child, _ := top.Attributes[trace.AttrPHPSelfTime].(int64); time.Duration(child) > top.Duration() {
		t.Errorf("self time %d larger than the span", child)
	}
}

func TestDeepModeRefusedWithoutUSEZENDDTRACE(t *testing.T) {
	s := startFixture(t, stack.StackOptions{})
	a := startAgent(t, s)
	_, err := a.client.EnableDeepMode(context.Background(), agentapi.DeepModeRequest{Pool: s.Pool})
	if !errors.Is(err, agentapi.ErrBadRequest) || !strings.Contains(err.Error(), "USE_ZEND_DTRACE=1") {
		t.Fatalf("want a 400 that tells to set USE_ZEND_DTRACE=1, got %v", err)
	}
	_, err = a.client.EnableDeepMode(context.Background(), agentapi.DeepModeRequest{Pool: "no-such-pool"})
	if !errors.Is(err, agentapi.ErrBadRequest) || !strings.Contains(err.Error(), s.Pool) {
		t.Fatalf("unknown pool: want a 400 listing the pools, got %v", err)
	}
}

// niceOf is a process's nice value, field 19 of /proc/<pid>/stat.
func niceOf(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	// The fields after the command name, which ends at the last ')'.
	fields := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	n, err := strconv.Atoi(fields[16]) // field 19: state is field 3
	if err != nil {
		t.Fatalf("/proc/%d/stat: %v", pid, err)
	}
	return n
}

// Deep mode on one worker runs it at nice 10 so that its extra CPU comes
// out of what its pool-mates leave; turned off, or after a crashed agent
// restarts, the worker gets its old value back.
func TestDeepModeOnOneWorkerLowersItsPriority(t *testing.T) {
	s := dtraceStack(t, 2)
	a := startAgent(t, s)
	workers := s.FPM.WorkerPIDs(s.Pool)
	deep, other := workers[0], workers[1]
	if niceOf(t, deep) != 0 || niceOf(t, other) != 0 {
		t.Fatalf("workers start at nice %d and %d, want 0", niceOf(t, deep), niceOf(t, other))
	}

	if _, err := a.client.EnableDeepMode(context.Background(), agentapi.DeepModeRequest{PIDs: []int{deep}, Nice: new(20)}); !errors.Is(err, agentapi.ErrBadRequest) {
		t.Fatalf("nice 20: err %v, want a bad request", err)
	}
	d := enableDeep(t, a, agentapi.DeepModeRequest{PIDs: []int{deep}, For: agentapi.Duration(time.Minute)})
	if d.Nice != agentapi.DefaultDeepNice || d.NiceError != "" {
		t.Fatalf("deep mode on one PID: nice %d, error %q; want %d", d.Nice, d.NiceError, agentapi.DefaultDeepNice)
	}
	if got := niceOf(t, deep); got != agentapi.DefaultDeepNice {
		t.Fatalf("the deep worker runs at nice %d, want %d", got, agentapi.DefaultDeepNice)
	}
	if got := niceOf(t, other); got != 0 {
		t.Fatalf("the other worker runs at nice %d, want 0", got)
	}
	// Both workers serve, none fails; the deep worker's requests say how it
	// ran, since on a busy host its spans include waits for a CPU.
	seen := map[int64]bool{}
	for i := 0; i < 40 && len(seen) < 2; i++ {
		if code, _ := get(t, s, fmt.Sprintf("/status.php?code=200&i=%d", i)); code != 200 {
			t.Fatalf("status %d", code)
		}
		for _, sum := range a.waitTraces(t, trace.Query{PathPrefix: "/status.php"}, i+1) {
			root := a.fetch(t, sum.TraceID).Root()
			pid, _ := root.Attributes[trace.AttrProcessPID].(int64)
			want := map[bool]any{true: int64(agentapi.DefaultDeepNice), false: nil}[pid == int64(deep)]
			if got := root.Attributes[trace.AttrTuskDeepNice]; got != want {
				t.Fatalf("request served by pid %d (deep worker %d): %s = %v, want %v", pid, deep, trace.AttrTuskDeepNice, got, want)
			}
			seen[pid] = true
		}
	}
	if len(seen) < 2 {
		t.Fatalf("40 requests were all served by %v", seen)
	}
	if err := a.client.DisableDeepMode(context.Background(), d.ID); err != nil {
		t.Fatal(err)
	}
	if got := niceOf(t, deep); got != 0 {
		t.Fatalf("after deep mode: nice %d, want 0 back", got)
	}

	// A pool keeps its priority unless asked; asked, every worker gets it.
	p := enableDeep(t, a, agentapi.DeepModeRequest{Pool: s.Pool, For: agentapi.Duration(time.Minute)})
	if p.Nice != 0 || niceOf(t, deep) != 0 || niceOf(t, other) != 0 {
		t.Fatalf("deep mode on the pool: nice %d, workers at %d and %d; want all 0", p.Nice, niceOf(t, deep), niceOf(t, other))
	}
	p = enableDeep(t, a, agentapi.DeepModeRequest{Pool: s.Pool, For: agentapi.Duration(time.Minute), Nice: new(5)})
	if p.Nice != 5 || niceOf(t, deep) != 5 || niceOf(t, other) != 5 {
		t.Fatalf("deep mode on the pool at nice 5: nice %d, workers at %d and %d", p.Nice, niceOf(t, deep), niceOf(t, other))
	}
	if err := a.client.DisableDeepMode(context.Background(), p.ID); err != nil {
		t.Fatal(err)
	}

	// Killed with deep mode on, the agent cannot put the value back; the
	// next one does, from the record next to the store.
	enableDeep(t, a, agentapi.DeepModeRequest{PIDs: []int{deep}, For: agentapi.Duration(time.Minute)})
	a.cmd.Process.Kill()
	<-a.done
	a.done <- nil
	if got := niceOf(t, deep); got != agentapi.DefaultDeepNice {
		t.Fatalf("after kill -9: nice %d, want still %d", got, agentapi.DefaultDeepNice)
	}
	b := launchAgent(t, a.dir, "--pid", fmt.Sprint(s.FPM.MasterPID))
	b.waitTracing(t, s)
	if got := niceOf(t, deep); got != 0 {
		t.Fatalf("the restarted agent left the worker at nice %d, want 0 back", got)
	}
	if !strings.Contains(b.log.String(), "put back the nice value a previous agent raised") {
		t.Errorf("the restarted agent did not log what it put back:\n%s", b.log.String())
	}
}
