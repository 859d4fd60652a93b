//go:build integration

package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tusk-php/tusk/pkg/agentapi"
	"github.com/tusk-php/tusk/pkg/trace"
	"github.com/tusk-php/tusk/tests/grafanashim"
	"github.com/tusk-php/tusk/tests/plugingrpc"
	"github.com/tusk-php/tusk/tests/stack"
)

const chromiumPath = "/usr/bin/chromium"

// TestGrafanaUIInChromium runs the plugin's pages in real Chromium against
// the real backend: WordPress traced by the agent (profiling on, one deep
// mode request), gpx_php behind the Grafana API shim (tests/grafanashim),
// and the browser runner of tests/browser, which drives the pages and
// exits non-zero when one fails. Screenshots go to tests/artifacts/screenshots
// ($TUSK_UI_OUT).
//
// Chromium missing fails the test (CI must run it) unless TUSK_UI_OPTIONAL=1.
// scripts/test.sh builds the harness first and sets TUSK_UI_HARNESS_BUILT=1;
// otherwise the test builds it (npm run build:harness).
func TestGrafanaUIInChromium(t *testing.T) {
	root := repoRoot()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("TUSK_UI_OPTIONAL") == "1" {
			t.Skipf("%s is missing (TUSK_UI_OPTIONAL=1): install it with scripts/install-deps.sh test", chromiumPath)
		}
		t.Fatalf("%s is missing: scripts/install-deps.sh test installs it (TUSK_UI_OPTIONAL=1 skips this test)", chromiumPath)
	}
	runner := filepath.Join(root, "tests", "browser", "run.mjs")
	if _, err := os.Stat(runner); err != nil {
		t.Skipf("the browser runner tests/browser/run.mjs is not there yet: nothing to drive Chromium with")
	}
	if !hasNPMScript(t, root, "build:harness") {
		t.Skipf(`package.json has no "build:harness" script: the browser harness (tests/browser) cannot be built`)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Minute)
	defer cancel()

	wpCtx, wpCancel := context.WithTimeout(ctx, 2*time.Minute)
	s, err := stack.StartWordPress(wpCtx, tempDir(t, "tusk-ui-wp-"), stack.StackOptions{FPMEnv: []string{"USE_ZEND_DTRACE=1"}})
	wpCancel()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop() })
	a := startAgent(t, s, "--profile-hz", "499")
	start := time.Now().Add(-time.Second)
	deepID := wordPressTraffic(t, s, a)
	traces := a.waitTraces(t, trace.Query{Pool: s.Pool, Start: start}, 9)
	t.Logf("%d WordPress traces stored (deep mode request %s)", len(traces), deepID)

	// Builds after the traffic: the agent keeps sampling meanwhile.
	exe, err := plugingrpc.Build(ctx, root)
	if err != nil {
		t.Fatal(err)
	}
	if os.Getenv("TUSK_UI_HARNESS_BUILT") != "1" {
		run(ctx, t, root, "harness build", "npm", "run", "--silent", "build:harness")
	}
	waitTraceProfile(t, a, traces)

	base := startShim(ctx, t, exe, a)
	out := os.Getenv("TUSK_UI_OUT")
	if out == "" {
		out = filepath.Join(root, "tests", "artifacts", "screenshots")
	}
	runCtx, runCancel := context.WithTimeout(ctx, 10*time.Minute)
	defer runCancel()
	run(runCtx, t, root, "browser", "node", runner, "--base", base, "--out", out)
	t.Logf("screenshots in %s", out)
}

// wordPressTraffic makes the requests the pages show: the front page a few
// times, a post, a 404, the login page, a search, and one front page in deep
// mode (function spans). It returns the deep request's trace id.
func wordPressTraffic(t *testing.T, s *stack.Stack, a *agentProc) trace.TraceID {
	t.Helper()
	for _, r := range []struct {
		path string
		code int
	}{{"/", 200}, {"/", 200}, {"/", 200}, {"/?p=1", 200}, {"/no-such-page/", 404}, {"/wp-login.php", 200}, {"/?s=hello", 200}, {"/?s=tusk", 200}} {
		if code, _ := get(t, s, r.path); code != r.code {
			t.Fatalf("GET %s: %d, want %d", r.path, code, r.code)
		}
	}
	d := enableDeep(t, a, agentapi.DeepModeRequest{Pool: s.Pool, Threshold: agentapi.Duration(time.Millisecond), For: agentapi.Duration(2 * time.Minute)})
	before := time.Now()
	if code, _ := get(t, s, "/?deep=1"); code != 200 {
		t.Fatalf("GET /?deep=1: %d", code)
	}
	var deep *trace.Trace
	deadline := time.Now().Add(10 * time.Second)
	for deep == nil && time.Now().Before(deadline) {
		for _, sum := range a.waitTraces(t, trace.Query{Pool: s.Pool, Start: before}, 1) {
			if tr := a.fetch(t, sum.TraceID); tr.Root().Attributes[trace.AttrURLQuery] == "deep=1" {
				deep = tr
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	if deep == nil || len(deep.Spans) < 3 {
		t.Fatalf("the deep mode request has no function spans: %+v", deep)
	}
	if err := a.client.DisableDeepMode(t.Context(), d.ID); err != nil {
		t.Fatal(err)
	}
	return deep.TraceID
}

// waitTraceProfile waits until one of the traces has its own profile
// (stack samples of its worker while it ran), for the flame graph pages.
func waitTraceProfile(t *testing.T, a *agentProc, traces []trace.Summary) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		for _, sum := range traces {
			if fg, err := a.client.TraceProfile(t.Context(), sum.TraceID, 0); err == nil && fg.Total > 0 {
				t.Logf("trace %s %s has a profile of %d samples", sum.TraceID, sum.Path, fg.Total)
				return
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatal("no trace has a profile within 20 s")
}

// startShim starts gpx_php and the Grafana API shim over it, configured for
// the agent, serving the harness; it returns the shim's base URL.
func startShim(ctx context.Context, t *testing.T, exe string, a *agentProc) string {
	t.Helper()
	startCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	p, err := plugingrpc.Start(startCtx, exe)
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("plugin output:\n%s", p.Stderr())
		}
		if err := p.Close(); err != nil {
			t.Errorf("plugin: %v", err)
		}
	})
	jsonData, _ := json.Marshal(map[string]any{"agents": []map[string]string{{"name": "local", "url": a.url}}})
	secure := map[string]string{"token.local": a.token}
	h, err := grafanashim.New(grafanashim.Options{
		Plugin:      p,
		App:         grafanashim.Settings{JSONData: jsonData, Secure: secure},
		Datasources: []grafanashim.Datasource{{UID: "tusk", Name: "Tusk", JSONData: jsonData, Secure: secure}},
		StaticDir:   filepath.Join(repoRoot(), "tests", "browser", "dist"),
		Logf:        t.Logf,
	})
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return "http://" + l.Addr().String()
}

// run runs a command in dir with its output in the test log as it comes,
// and fails the test if it fails. The command and its children (node starts
// Chromium) are one process group, killed when ctx ends.
func run(ctx context.Context, t *testing.T, dir, label, name string, args ...string) {
	t.Helper()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	w := &lineLog{t: t, prefix: label + ": "}
	cmd.Stdout, cmd.Stderr = w, w
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	start := time.Now()
	err := cmd.Run()
	w.flush()
	if ctx.Err() != nil {
		t.Fatalf("%s: %s %v did not finish in time (%v)", label, name, args, ctx.Err())
	}
	if err != nil {
		t.Fatalf("%s: %s %v: %v", label, name, args, err)
	}
	t.Logf("%s: done in %s", label, time.Since(start).Round(time.Second))
}

// lineLog writes a child's output to the test log line by line.
type lineLog struct {
	t      *testing.T
	prefix string
	mu     sync.Mutex
	buf    []byte
}

func (l *lineLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		l.t.Log(l.prefix + string(l.buf[:i]))
		l.buf = l.buf[i+1:]
	}
}

func (l *lineLog) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buf) > 0 {
		l.t.Log(l.prefix + string(l.buf))
		l.buf = nil
	}
}

// hasNPMScript reports whether package.json defines the script.
func hasNPMScript(t *testing.T, root, name string) bool {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "package.json"))
	if err != nil {
		t.Fatal(err)
	}
	var pkg struct {
		Scripts map[string]string `json:"scripts"`
	}
	if err := json.Unmarshal(b, &pkg); err != nil {
		t.Fatal(errors.Join(errors.New("package.json"), err))
	}
	_, ok := pkg.Scripts[name]
	return ok
}
