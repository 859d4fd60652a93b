//go:build integration

// Package integration runs the real agent binary, as root, against real
// php-fpm behind nginx: BPF programs load into this kernel, uprobes fire in
// PHP workers, traces come back through the HTTP API.
package integration

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tusk-php/tusk/pkg/agentapi"
	"github.com/tusk-php/tusk/pkg/trace"
	"github.com/tusk-php/tusk/tests/stack"
)

var agentBin string

func TestMain(m *testing.M) {
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "integration tests load BPF programs: run them as root")
		os.Exit(1)
	}
	dir, err := os.MkdirTemp("", "tusk-agent-bin-")
	if err != nil {
		panic(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil { // other users run it too
		panic(err)
	}
	agentBin = filepath.Join(dir, "tusk-agent")
	build := exec.Command("go", "build", "-o", agentBin, "./pkg/cmd/tusk-agent")
	build.Dir = repoRoot()
	// As shipped (go tool mage agent, the image): without cgo, so that the
	// agent can drop capabilities on all its threads.
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building tusk-agent: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// tempDir is a directory www-data can read (t.TempDir's parents are not).
func tempDir(t *testing.T, prefix string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// startFixture brings up php-fpm + nginx serving tests/fixtures/app.
func startFixture(t *testing.T, opts stack.StackOptions) *stack.Stack {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := stack.StartFixture(ctx, tempDir(t, "tusk-fixture-"), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop() })
	return s
}

// syncBuffer collects a child's output safely.
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

// agentProc is a running tusk-agent.
type agentProc struct {
	cmd    *exec.Cmd
	dir    string
	url    string
	token  string
	client *agentapi.Client
	log    *syncBuffer
	done   chan error
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// launchAgent starts tusk-agent run with args; it does not wait for it.
func launchAgent(t *testing.T, dir string, args ...string) *agentProc {
	t.Helper()
	return launchAgentVia(t, dir, func(argv []string) *exec.Cmd { return exec.Command(agentBin, argv...) }, args...)
}

// launchAgentVia starts the agent with the command wrap makes of the
// agent's arguments (a wrapper such as unshare or setpriv may come first).
func launchAgentVia(t *testing.T, dir string, wrap func(agentArgs []string) *exec.Cmd, args ...string) *agentProc {
	t.Helper()
	addr := freeAddr(t)
	a := &agentProc{dir: dir, url: "http://" + addr, token: "test-token-" + t.Name(), log: &syncBuffer{}, done: make(chan error, 1)}
	full := append([]string{"run", "--listen", addr, "--db", filepath.Join(dir, "traces.db"), "--log-level", "debug"}, args...)
	a.cmd = wrap(full)
	a.cmd.Env = append(os.Environ(), "TUSK_TOKEN="+a.token)
	a.cmd.Stdout, a.cmd.Stderr = a.log, a.log
	if err := a.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { a.done <- a.cmd.Wait() }()
	a.client = agentapi.NewClient(a.url, a.token)
	t.Cleanup(func() {
		if a.cmd.ProcessState == nil {
			start := time.Now()
			err := a.stop()
			t.Logf("agent stop (SIGTERM to exit) took %v, err %v", time.Since(start).Round(time.Millisecond), err)
		}
		if t.Failed() {
			t.Logf("agent log:\n%s", a.log.String())
		}
	})
	return a
}

// startAgent starts the agent and waits until it traces the fixture's
// php-fpm (found through --pid of its master).
func startAgent(t *testing.T, s *stack.Stack, args ...string) *agentProc {
	t.Helper()
	dir := tempDir(t, "tusk-agent-")
	a := launchAgent(t, dir, append([]string{"--pid", fmt.Sprint(s.FPM.MasterPID)}, args...)...)
	a.waitTracing(t, s)
	return a
}

// waitTracing waits until the agent reports the stack's workers attached.
func (a *agentProc) waitTracing(t *testing.T, s *stack.Stack) {
	t.Helper()
	want := len(s.FPM.WorkerPIDs(s.Pool))
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-a.done:
			t.Fatalf("agent exited while starting: %v\n%s", err, a.log.String())
		default:
		}
		st, err := a.client.Status(context.Background())
		if err == nil {
			for _, b := range st.Binaries {
				for _, p := range b.Pools {
					if b.Mode == "usdt" && p.Name == s.Pool && len(p.WorkerPIDs) >= want {
						return
					}
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("agent did not attach to pool %q within 20s\n%s", s.Pool, a.log.String())
}

// stop ends the agent with SIGTERM (a clean shutdown) and waits.
func (a *agentProc) stop() error {
	if a.cmd.ProcessState != nil {
		return nil
	}
	_ = a.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-a.done:
		a.done <- err
		return err
	case <-time.After(15 * time.Second):
		_ = a.cmd.Process.Kill()
		return fmt.Errorf("agent did not stop within 15s")
	}
}

// get requests path on the stack and returns status and body.
func get(t *testing.T, s *stack.Stack, path string, header ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.URL()+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// waitTraces polls the agent until q matches at least n traces.
func (a *agentProc) waitTraces(t *testing.T, q trace.Query, n int) []trace.Summary {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	var got []trace.Summary
	for time.Now().Before(deadline) {
		var err error
		got, err = a.client.Search(context.Background(), q)
		if err == nil && len(got) >= n {
			return got
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("want %d traces for %+v, got %d: %+v", n, q, len(got), got)
	return nil
}

// fetch returns one full trace.
func (a *agentProc) fetch(t *testing.T, id trace.TraceID) *trace.Trace {
	t.Helper()
	tr, err := a.client.Trace(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// onlyTrace waits for the single trace of path and fetches it.
func (a *agentProc) onlyTrace(t *testing.T, path string) *trace.Trace {
	t.Helper()
	list := a.waitTraces(t, trace.Query{PathPrefix: path}, 1)
	for _, s := range list {
		if s.Path == path {
			return a.fetch(t, s.TraceID)
		}
	}
	t.Fatalf("no trace with path exactly %q among %+v", path, list)
	return nil
}

// spanNamed finds a span by name.
func spanNamed(t *testing.T, tr *trace.Trace, name string) *trace.Span {
	t.Helper()
	for i := range tr.Spans {
		if tr.Spans[i].Name == name {
			return &tr.Spans[i]
		}
	}
	var names []string
	for _, s := range tr.Spans {
		names = append(names, s.Name)
	}
	t.Fatalf("no span %q in %s", name, strings.Join(names, ", "))
	return nil
}

func hasSpan(tr *trace.Trace, name string) bool {
	for _, s := range tr.Spans {
		if s.Name == name {
			return true
		}
	}
	return false
}

// httpGet fetches url and returns its status.
func httpGet(url string) (int, error) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}
