//go:build integration

package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tusk-php/tusk/pkg/agentapi"
	"github.com/tusk-php/tusk/pkg/trace"
	"github.com/tusk-php/tusk/tests/stack"
)

// TestFlameGraphOfACPUBoundRequest samples php-fpm (opcache JIT on, no
// DTrace function probes) and expects burn() on top of the request's own
// flame graph and of the top-functions table for the pool.
func TestFlameGraphOfACPUBoundRequest(t *testing.T) {
	s := startFixture(t, stack.StackOptions{FPMIniArgs: jitOn})
	a := startAgent(t, s, "--profile-hz", "499")
	if code, body := get(t, s, "/opcache.php"); code != 200 || !strings.Contains(body, `"jit":true`) {
		t.Fatalf("opcache JIT is not on: %s", body)
	}
	start := time.Now()
	if code, _ := get(t, s, "/burn.php?ms=400"); code != 200 {
		t.Fatal("burn.php failed")
	}
	tr := a.onlyTrace(t, "/burn.php")

	var fg *agentapi.Flamegraph
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		var err error
		if fg, err = a.client.TraceProfile(t.Context(), tr.TraceID, 0); err == nil && fg.Total > 0 {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if fg == nil || fg.Total < 20 {
		t.Fatalf("trace flame graph: %+v", fg)
	}
	var burnSelf int64
	for _, n := range fg.Nodes {
		if n.Label == "burn" {
			burnSelf += n.Self
		}
	}
	if burnSelf*10 < fg.Total*7 {
		t.Errorf("burn() has %d of %d samples (self), want most: %+v", burnSelf, fg.Total, fg.Nodes)
	}

	// The minute profiles behind the pool-wide view arrive once the minute
	// is over; top functions over the range must name burn first.
	q := agentapi.ProfileQuery{From: start.Add(-time.Minute), To: time.Now().Add(2 * time.Minute), Pool: s.Pool}
	deadline = time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		top, err := a.client.TopFunctions(t.Context(), q, 5)
		if err == nil && len(top.Functions) > 0 {
			if top.Functions[0].Function != "burn" {
				t.Errorf("top function %+v, want burn", top.Functions[0])
			}
			checkPprofOpens(t, a, q)
			return
		}
		time.Sleep(time.Second)
	}
	t.Fatal("no pool profile within 90 s")
}

// checkPprofOpens fetches the pool's profile over the range as pprof, the
// form Pyroscope-style tools and `go tool pprof` read, and has the real
// `go tool pprof` print its top: burn first.
func checkPprofOpens(t *testing.T, a *agentProc, q agentapi.ProfileQuery) {
	t.Helper()
	raw, err := a.client.Pprof(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "php.pb.gz")
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "tool", "pprof", "-top", path).CombinedOutput()
	if err != nil {
		t.Fatalf("go tool pprof: %v\n%s", err, out)
	}
	lines := strings.Split(string(out), "\n")
	for i, l := range lines {
		if strings.Contains(l, "flat%") && i+1 < len(lines) {
			if !strings.Contains(lines[i+1], "burn") {
				t.Errorf("pprof's top function is not burn:\n%s", out)
			}
			return
		}
	}
	t.Errorf("go tool pprof printed no table:\n%s", out)
}

// TestFunctionSearchFindsTheRequestsThatBurn asks the real agent for the
// requests where burn() was hot: the two /burn.php requests, hottest
// first, and neither the CPU-bound /calls.php requests (sampled too, but
// never in burn) nor a sleeping one. The file narrows the search and a
// wrong file finds nothing.
func TestFunctionSearchFindsTheRequestsThatBurn(t *testing.T) {
	s := startFixture(t, stack.StackOptions{FPMIniArgs: jitOn})
	a := startAgent(t, s, "--profile-hz", "499")
	start := time.Now().Add(-time.Second)
	// With the JIT on, /calls.php (200k calls, its maximum) runs ~2 ms: one
	// sample period at 499 Hz. Eight of them make a PHP sample certain enough.
	paths := []string{"/burn.php?ms=150", "/burn.php?ms=300", "/sleep.php?ms=50"}
	for range 8 {
		paths = append(paths, "/calls.php?n=200000")
	}
	for _, path := range paths {
		if code, body := get(t, s, path); code != 200 {
			t.Fatalf("GET %s: HTTP %d %s", path, code, body)
		}
	}
	a.waitTraces(t, trace.Query{Start: start}, len(paths))
	q := agentapi.FunctionTracesQuery{Function: "burn", Traces: trace.Query{Start: start, End: time.Now().Add(time.Minute)}}

	resp := a.waitFunctionTraces(t, q, 2)
	if len(resp.Traces) != 2 || resp.Truncated {
		t.Fatalf("want the two /burn.php requests, got %+v", resp)
	}
	for _, h := range resp.Traces {
		if h.Path != "/burn.php" || h.FunctionSamples < 20 || h.FunctionSamples > h.Samples || h.FunctionCPUNs != h.FunctionSamples*(int64(time.Second)/499) {
			t.Errorf("hit %+v", h)
		}
	}
	if resp.Traces[0].FunctionSamples < resp.Traces[1].FunctionSamples || resp.Traces[0].DurationNano < resp.Traces[1].DurationNano {
		t.Errorf("the 300 ms request is not first: %+v", resp.Traces)
	}

	app, err := stack.FixtureAppDir()
	if err != nil {
		t.Fatal(err)
	}
	// /calls.php was sampled (it is in its own {main}), just never in burn.
	// A request's profile is stored a little after its trace: wait for both.
	calls := agentapi.FunctionTracesQuery{Function: "{main}", File: filepath.Join(app, "calls.php"), Traces: q.Traces}
	if got := a.waitFunctionTraces(t, calls, 1); len(got.Traces) == 0 ||
		slices.ContainsFunc(got.Traces, func(h agentapi.FunctionTrace) bool { return h.Path != "/calls.php" }) {
		t.Errorf("{main} of calls.php: %+v", got)
		for _, sum := range a.waitTraces(t, trace.Query{Start: start, PathPrefix: "/calls.php"}, 2) {
			fg, err := a.client.TraceProfile(t.Context(), sum.TraceID, 50)
			if err != nil {
				t.Errorf("profile of %s: %v", sum.TraceID, err)
				continue
			}
			for _, n := range fg.Nodes {
				t.Logf("  %s level %d %s (%s) %d", sum.TraceID, n.Level, n.Label, n.File, n.Value)
			}
		}
	}

	for file, want := range map[string]int{filepath.Join(app, "burn.php"): 2, filepath.Join(app, "nowhere.php"): 0} {
		fq := q
		fq.File = file
		got, err := a.client.FunctionTraces(t.Context(), fq)
		if err != nil || len(got.Traces) != want {
			t.Errorf("burn in %s: %+v %v, want %d requests", file, got, err, want)
		}
	}
}

// waitFunctionTraces polls a function search until it finds n requests, or
// 15 s have passed, and returns the last answer: a request's samples are
// stored once it had none for 2 s.
func (a *agentProc) waitFunctionTraces(t *testing.T, q agentapi.FunctionTracesQuery, n int) *agentapi.FunctionTracesResponse {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := a.client.FunctionTraces(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.Traces) >= n || time.Now().After(deadline) {
			return resp
		}
		time.Sleep(200 * time.Millisecond)
	}
}
