//go:build integration

package integration

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/tusk-php/tusk/pkg/agentapi"
	"github.com/tusk-php/tusk/pkg/trace"
	"github.com/tusk-php/tusk/tests/stack"
)

// Killing the agent with SIGKILL in the middle of load must not fail a
// single PHP request, and must leave no probe behind: the kernel drops the
// uprobes with the agent's file descriptors and lowers the semaphores.
func TestAgentKilledUnderLoad(t *testing.T) {
	s := dtraceStack(t, 2)
	a := startAgent(t, s)
	enableDeep(t, a, agentapi.DeepModeRequest{Pool: s.Pool, For: agentapi.Duration(time.Minute)})
	if len(ourPrograms(t)) == 0 {
		t.Fatal("no Tusk BPF program loaded while the agent runs")
	}

	const clients, perClient = 4, 100
	var done, failed atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	// Kill once a third of the load is through and the store has committed
	// some traces: those must survive.
	killed := make(chan struct{})
	var committed int64
	go func() {
		defer close(killed)
		for {
			select {
			case err := <-a.done:
				// A crash must fail the test, not leave it polling forever.
				t.Errorf("the agent exited (%v) before it was killed:\n%s", err, a.log.String())
				a.done <- err // for the wait below
				return
			default:
			}
			st, err := a.client.Status(context.Background())
			if err == nil && st.Store.Written > 0 && done.Load() >= clients*perClient/3 {
				committed = int64(st.Store.Written)
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		a.cmd.Process.Kill()
	}()
	client := &http.Client{Timeout: 10 * time.Second}
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perClient; i++ {
				resp, err := client.Get(s.URL() + "/status.php?code=200")
				if err == nil {
					resp.Body.Close()
					if resp.StatusCode != 200 {
						err = fmt.Errorf("status %d", resp.StatusCode)
					}
				}
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
				}
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	<-killed
	<-a.done
	if n := failed.Load(); n != 0 {
		t.Fatalf("%d of %d PHP requests failed after the agent was killed (first: %v)", n, clients*perClient, firstErr.Load())
	}
	// The kernel releases perf events and programs asynchronously (RCU):
	// give it a moment, then everything must be gone.
	var left []string
	var raised []string
	for deadline := time.Now().Add(3 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		left, raised = ourPrograms(t), nil
		for _, pid := range s.FPM.WorkerPIDs(s.Pool) {
			for _, probe := range []string{"request__startup", "request__shutdown", "function__entry", "function__return"} {
				if got := semaphore(t, pid, probe); got != 0 {
					raised = append(raised, fmt.Sprintf("worker %d: %s semaphore %d", pid, probe, got))
				}
			}
		}
		if (len(left) == 0 && len(raised) == 0) || time.Now().After(deadline) {
			break
		}
	}
	if len(left) != 0 || len(raised) != 0 {
		t.Fatalf("after the agent died: programs still loaded %v; semaphores still raised %v", left, raised)
	}

	// Restarted on the same store, the agent keeps what was written and
	// traces again.
	b := launchAgent(t, a.dir, "--pid", fmt.Sprint(s.FPM.MasterPID))
	b.waitTracing(t, s)
	before, err := b.client.Search(context.Background(), trace.Query{Pool: s.Pool, Limit: trace.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(before)) < committed {
		t.Fatalf("%d traces in the store after the kill, but %d were committed before it", len(before), committed)
	}
	get(t, s, "/index.php?after=restart")
	b.waitTraces(t, trace.Query{Pool: s.Pool, Limit: trace.MaxLimit}, len(before)+1)
	t.Logf("%d traces committed before the kill -9, %d in the store after it", committed, len(before))
}

// runAgentExpectingFailure runs the agent and returns its exit code and output.
func runAgentExpectingFailure(t *testing.T, cred *syscall.Credential, args ...string) (int, string) {
	t.Helper()
	dir := tempDir(t, "tusk-agent-fail-")
	full := append([]string{"run", "--listen", freeAddr(t), "--db", filepath.Join(dir, "traces.db")}, args...)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, agentBin, full...)
	cmd.Env = append(os.Environ(), "TUSK_TOKEN=x")
	if cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	}
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("agent did not exit: %s", out)
	}
	if err == nil {
		return 0, string(out)
	}
	ee, ok := err.(*exec.ExitError)
	if !ok {
		t.Fatal(err)
	}
	return ee.ExitCode(), string(out)
}

func TestAgentWithoutPrivilegesSaysSo(t *testing.T) {
	code, out := runAgentExpectingFailure(t, &syscall.Credential{Uid: 65534, Gid: 65534})
	if code == 0 || !strings.Contains(out, "CAP_BPF") || strings.Count(strings.TrimSpace(out), "\n") > 2 {
		t.Fatalf("exit %d, want one clear line about privileges:\n%s", code, out)
	}
}

func TestAgentPointedAtANonPHPProcess(t *testing.T) {
	sleeper := exec.Command("sleep", "30")
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	defer sleeper.Process.Kill()
	code, out := runAgentExpectingFailure(t, nil, "--pid", fmt.Sprint(sleeper.Process.Pid))
	if code == 0 || !strings.Contains(out, fmt.Sprintf("pid %d (sleep): not a PHP process", sleeper.Process.Pid)) {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	code, out = runAgentExpectingFailure(t, nil, "--pid", "999999999")
	if code == 0 || !strings.Contains(out, "no such process") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

// A PHP built without --enable-dtrace has no USDT notes; we make one from
// Debian's binary by removing the notes section.
func noDTraceFPM(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(tempDir(t, "tusk-nodtrace-"), "php-fpm-nodtrace")
	if out, err := exec.Command("objcopy", "--remove-section", ".note.stapsdt", fpmBinary, bin).CombinedOutput(); err != nil {
		t.Fatalf("objcopy: %v %s", err, out)
	}
	return bin
}

// TestAgentOnPHPWithoutDTrace: official container images build PHP without
// DTrace. Asked for USDT probes only, the agent refuses such a binary with
// one clear message; by default it traces it through uprobes on
// php_request_startup/shutdown, with the same request spans.
func TestAgentOnPHPWithoutDTrace(t *testing.T) {
	bin := noDTraceFPM(t)
	s := startFixture(t, stack.StackOptions{FPMBinary: bin, FPMIniArgs: jitOn, WithMariaDB: true})

	code, out := runAgentExpectingFailure(t, nil, "--pid", fmt.Sprint(s.FPM.MasterPID), "--request-probes", "usdt")
	if code == 0 || !strings.Contains(out, "built without DTrace") {
		t.Fatalf("exit %d:\n%s", code, out)
	}

	a := launchAgent(t, tempDir(t, "tusk-agent-"), "--pid", fmt.Sprint(s.FPM.MasterPID), "--profile-hz", "499")
	b := waitAttached(t, a, s)
	if b.Path != bin || b.Mode != "uprobe" || b.DTrace || !strings.Contains(b.ModeReason, "without DTrace") {
		t.Fatalf("status of %s: %+v", bin, *b)
	}
	if code, body := get(t, s, "/shop/cart?id=7"); code != 200 {
		t.Fatalf("GET: %d %s", code, body)
	}
	tr := a.onlyTrace(t, "/shop/cart")
	root := tr.Root()
	if tr.Method != "GET" || tr.StatusCode != 200 || root.Attributes[trace.AttrURLQuery] != "id=7" ||
		root.Attributes[trace.AttrPHPProbeMode] != "uprobe" || !strings.HasSuffix(attrString(*root, trace.AttrPHPScript), "/index.php") {
		t.Errorf("request span %q %v", root.Name, root.Attributes)
	}
	checkSQLAndFlameGraph(t, a, s)
}

func TestAgentAPIRefusesAWrongToken(t *testing.T) {
	s := startFixture(t, stack.StackOptions{})
	a := startAgent(t, s)
	bad := agentapi.NewClient(a.url, "not-the-token")
	if _, err := bad.Status(context.Background()); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("wrong token: %v", err)
	}
	resp, err := http.Get(a.url + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz without token: %v %v", resp, err)
	}
	resp.Body.Close()
	resp, err = http.Get(a.url + "/metrics")
	if err != nil || resp.StatusCode != 401 {
		t.Fatalf("metrics without token: %v %v", resp, err)
	}
	resp.Body.Close()
}

// TestMetricsScrape: after real requests, GET /metrics has RED metrics per
// endpoint (ids normalised, no query string), errors for the 500 and 503
// pages, and endpoints past metrics.max_endpoints counted as "other".
func TestMetricsScrape(t *testing.T) {
	s := startFixture(t, stack.StackOptions{})
	a := startAgent(t, s, "--config", writeConfig(t, "metrics: { max_endpoints: 4 }\n"))
	for _, path := range []string{
		"/index.php",
		"/status.php?code=200", "/status.php?code=200", "/status.php?code=503",
		"/error.php",
		"/shop/cart/123", "/shop/cart/456", // index.php as front controller
	} {
		get(t, s, path)
	}
	a.waitTraces(t, trace.Query{Pool: s.Pool}, 7)
	// The pool has its 4 endpoints now: a fifth one is "other".
	get(t, s, "/caught.php")
	a.waitTraces(t, trace.Query{Pool: s.Pool}, 8)

	const pool = `pool="fixture",service="fixture"`
	want := []string{
		`tusk_php_requests_total{endpoint="GET /index.php",` + pool + `,status_class="2xx"} 1`,
		`tusk_php_requests_total{endpoint="GET /status.php",` + pool + `,status_class="2xx"} 2`,
		`tusk_php_requests_total{endpoint="GET /status.php",` + pool + `,status_class="5xx"} 1`,
		`tusk_php_requests_total{endpoint="GET /error.php",` + pool + `,status_class="5xx"} 1`,
		`tusk_php_requests_total{endpoint="GET /shop/cart/:id",` + pool + `,status_class="2xx"} 2`,
		`tusk_php_requests_total{endpoint="other",` + pool + `,status_class="2xx"} 1`,
		`tusk_php_request_errors_total{endpoint="GET /error.php",` + pool + `} 1`,
		`tusk_php_request_errors_total{endpoint="GET /status.php",` + pool + `} 1`,
		`tusk_php_request_errors_total{endpoint="GET /index.php",` + pool + `} 0`,
		`tusk_php_request_duration_seconds_count{endpoint="GET /status.php",` + pool + `} 3`,
		`tusk_php_request_duration_seconds_bucket{endpoint="GET /status.php",` + pool + `,le="+Inf"} 3`,
		`tusk_php_endpoints_overflow_total{` + pool + `} 1`,
		"tusk_events_lost_total 0",
		"tusk_traces_total 8",
		"tusk_store_written_total 8",
	}
	// Counters follow the store's flush: poll until they are all there.
	var text string
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		text = scrapeMetrics(t, a)
		missing := 0
		for _, w := range want {
			if !strings.Contains(text, w+"\n") {
				missing++
			}
		}
		if missing == 0 || time.Now().After(deadline) {
			break
		}
	}
	for _, w := range want {
		if !strings.Contains(text, w+"\n") {
			t.Errorf("metrics lack %q", w)
		}
	}
	for _, never := range []string{"code=", "/shop/cart/123", `endpoint="GET /caught.php"`} {
		if strings.Contains(text, never) {
			t.Errorf("metrics have %q", never)
		}
	}
	if t.Failed() {
		t.Logf("metrics:\n%s", text)
	}
}

// scrapeMetrics reads GET /metrics as Prometheus would (text format).
func scrapeMetrics(t *testing.T, a *agentProc) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, a.url+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+a.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", resp.StatusCode, body)
	}
	return string(body)
}
