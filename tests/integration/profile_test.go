//go:build integration

package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/tusk-php/tusk/pkg/agentapi"
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
