// Package jaegertest runs a real Jaeger v2 (an OpenTelemetry Collector
// distribution) for tests: built once from tools/jaeger (a module of its own
// that pins the version), started on free loopback ports with in-memory
// storage, with a small client for its HTTP query API.
//
//	j := jaegertest.Start(ctx, t)         // builds on first use (minutes), then cached
//	export to j.OTLPGRPC or j.OTLPHTTP
//	tr, err := j.Client().Trace(ctx, id)  // GET /api/traces/{id}
//	j.Kill(); j.Restart(ctx)              // same ports; memory storage starts empty
package jaegertest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
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
)

// CacheDir is where built binaries are kept, one per tools/jaeger/go.sum.
// TUSK_JAEGER_CACHE overrides it.
const CacheDir = "/var/cache/tusk/jaeger"

// toolsDir is tools/jaeger of this repository.
func toolsDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "tools", "jaeger")
}

func cacheDir() string {
	if d := os.Getenv("TUSK_JAEGER_CACHE"); d != "" {
		return d
	}
	return CacheDir
}

// BinaryPath is where Build puts the binary for the current go.sum.
func BinaryPath() (string, error) {
	sum, err := os.ReadFile(filepath.Join(toolsDir(), "go.sum"))
	if err != nil {
		return "", fmt.Errorf("jaegertest: %w", err)
	}
	mod, err := os.ReadFile(filepath.Join(toolsDir(), "go.mod"))
	if err != nil {
		return "", fmt.Errorf("jaegertest: %w", err)
	}
	h := sha256.Sum256(append(sum, mod...))
	return filepath.Join(cacheDir(), "jaeger-"+hex.EncodeToString(h[:8])), nil
}

// Build returns the Jaeger binary, building it first when the cache does
// not have it for the pinned version (go build, ~3 minutes cold; Go's build
// cache makes later builds fast). Concurrent callers, in this process or
// others, build it once.
func Build(ctx context.Context) (string, error) {
	path, err := BinaryPath()
	if err != nil {
		return "", err
	}
	if isExecutable(path) {
		return path, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", fmt.Errorf("jaegertest: %w", err)
	}
	lock, err := os.OpenFile(filepath.Join(filepath.Dir(path), ".build.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", fmt.Errorf("jaegertest: %w", err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", fmt.Errorf("jaegertest: lock: %w", err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	if isExecutable(path) { // built while we waited
		return path, nil
	}
	tmp := fmt.Sprintf("%s.tmp%d", path, os.Getpid())
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", tmp, "github.com/jaegertracing/jaeger/cmd/jaeger")
	cmd.Dir = toolsDir()
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=readonly")
	out, err := cmd.CombinedOutput()
	if err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("jaegertest: building jaeger in %s: %v\n%s", cmd.Dir, err, out)
	}
	if err := os.Rename(tmp, path); err != nil {
		return "", fmt.Errorf("jaegertest: %w", err)
	}
	return path, nil
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}

// Jaeger is a running (or stopped) Jaeger v2.
type Jaeger struct {
	// OTLPGRPC is host:port of the OTLP gRPC receiver, OTLPHTTP its HTTP
	// base URL (POST /v1/traces), QueryURL the query service's base URL.
	OTLPGRPC string
	OTLPHTTP string
	QueryURL string

	bin, config, logPath string
	tb                   testing.TB

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// Start builds (if needed) and starts Jaeger, waits until it accepts OTLP
// and answers queries, and stops it when the test ends.
func Start(ctx context.Context, tb testing.TB) *Jaeger {
	tb.Helper()
	bin, err := Build(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	dir := tb.TempDir()
	ports, err := freePorts(4)
	if err != nil {
		tb.Fatal(err)
	}
	j := &Jaeger{
		OTLPGRPC: fmt.Sprintf("127.0.0.1:%d", ports[0]),
		OTLPHTTP: fmt.Sprintf("http://127.0.0.1:%d", ports[1]),
		QueryURL: fmt.Sprintf("http://127.0.0.1:%d", ports[2]),
		bin:      bin,
		config:   filepath.Join(dir, "jaeger.yaml"),
		logPath:  filepath.Join(dir, "jaeger.log"),
		tb:       tb,
	}
	if err := os.WriteFile(j.config, []byte(Config(ports[0], ports[1], ports[2], ports[3])), 0o644); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		j.Stop()
		if tb.Failed() {
			tb.Logf("jaeger log (last 4 KiB):\n%s", j.LogTail(4096))
		}
	})
	if err := j.start(ctx); err != nil {
		tb.Fatal(err)
	}
	return j
}

// Config is the Jaeger v2 configuration the tests run: OTLP gRPC and HTTP
// receivers, in-memory storage, the query service (HTTP API and gRPC), no
// self-telemetry (no metrics listener, no traces of its own); everything on
// 127.0.0.1.
func Config(otlpGRPC, otlpHTTP, queryHTTP, queryGRPC int) string {
	return fmt.Sprintf(`service:
  extensions: [jaeger_storage, jaeger_query]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    resource:
      service.name: jaeger
    metrics:
      level: none
    logs:
      level: info

extensions:
  jaeger_storage:
    backends:
      memstore:
        memory:
          max_traces: 100000
  jaeger_query:
    # No self-tracing: it would send Jaeger's own spans to localhost:4317
    # (someone else's collector) and wait for it at exit.
    enable_tracing: false
    storage:
      traces: memstore
    http:
      endpoint: 127.0.0.1:%[3]d
    grpc:
      endpoint: 127.0.0.1:%[4]d

receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:%[1]d
      http:
        endpoint: 127.0.0.1:%[2]d

processors:
  batch:
    timeout: 100ms

exporters:
  jaeger_storage_exporter:
    trace_storage: memstore
`, otlpGRPC, otlpHTTP, queryHTTP, queryGRPC)
}

func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func (j *Jaeger) start(ctx context.Context) error {
	logf, err := os.OpenFile(j.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	fmt.Fprintf(logf, "---- starting jaeger %s\n", time.Now().Format(time.RFC3339Nano))
	cmd := exec.Command(j.bin, "--config", "file:"+j.config)
	cmd.Dir = filepath.Dir(j.config)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("jaegertest: start: %w", err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(done)
	}()
	j.mu.Lock()
	j.cmd, j.done = cmd, done
	j.mu.Unlock()
	return j.waitReady(ctx, done)
}

// waitReady waits until the receivers accept connections and the query API
// answers (the collector starts them all before it says it is ready).
func (j *Jaeger) waitReady(ctx context.Context, done <-chan struct{}) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	c := j.Client()
	for {
		select {
		case <-done:
			return fmt.Errorf("jaegertest: jaeger exited while starting:\n%s", j.LogTail(4096))
		default:
		}
		if dial(j.OTLPGRPC) && dial(strings.TrimPrefix(j.OTLPHTTP, "http://")) {
			if _, err := c.Services(ctx); err == nil {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			j.Kill()
			return fmt.Errorf("jaegertest: jaeger not ready: %w\n%s", ctx.Err(), j.LogTail(4096))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func dial(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// Running tells whether the process is alive.
func (j *Jaeger) Running() bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.done == nil {
		return false
	}
	select {
	case <-j.done:
		return false
	default:
		return true
	}
}

// Stop ends Jaeger with SIGTERM (SIGKILL after 10s) and waits for it.
func (j *Jaeger) Stop() { j.signal(syscall.SIGTERM, 10*time.Second) }

// Kill ends Jaeger with SIGKILL, as a crash would, and waits for it.
func (j *Jaeger) Kill() { j.signal(syscall.SIGKILL, 0) }

func (j *Jaeger) signal(sig syscall.Signal, grace time.Duration) {
	j.mu.Lock()
	cmd, done := j.cmd, j.done
	j.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = syscall.Kill(-cmd.Process.Pid, sig)
	if grace > 0 {
		select {
		case <-done:
			return
		case <-time.After(grace):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		}
	}
	<-done
}

// Restart stops Jaeger if it runs and starts it again on the same ports.
// Its in-memory storage starts empty.
func (j *Jaeger) Restart(ctx context.Context) error {
	j.Stop()
	return j.start(ctx)
}

// LogTail returns the last n bytes of Jaeger's output.
func (j *Jaeger) LogTail(n int) string {
	b, err := os.ReadFile(j.logPath)
	if err != nil {
		return err.Error()
	}
	if len(b) > n {
		b = b[len(b)-n:]
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[i+1:]
		}
	}
	return string(b)
}

// Client returns a client of this Jaeger's query API.
func (j *Jaeger) Client() *Client {
	return &Client{URL: j.QueryURL, HTTP: &http.Client{Timeout: 10 * time.Second}}
}

// ErrNotFound is returned for a trace Jaeger does not have.
var ErrNotFound = errors.New("jaeger: trace not found")

// readBody reads at most 64 MiB of an answer.
func readBody(r io.Reader) ([]byte, error) { return io.ReadAll(io.LimitReader(r, 64<<20)) }
