//go:build integration

package main

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tusk-php/tusk/tests/stack"
)

// TestUpStatusDown drives the built command like the demo script does: the services must outlive `up`.
func TestUpStatusDown(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	for _, b := range []string{"php-fpm8.2", "nginx"} {
		if _, err := exec.LookPath(b); err != nil {
			t.Skipf("%s not installed", b)
		}
	}
	bin := filepath.Join(t.TempDir(), "tusk-stack")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dir, err := os.MkdirTemp("", "tusk-stack-cli-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	t.Cleanup(func() { stack.StopDir(t.Context(), dir); os.RemoveAll(dir) })

	run := func(wantCode int, args ...string) string {
		t.Helper()
		out, err := exec.Command(bin, args...).CombinedOutput()
		code := 0
		if exitErr, ok := err.(*exec.ExitError); ok {
			code = exitErr.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if code != wantCode {
			t.Fatalf("tusk-stack %s: exit %d, want %d\n%s", strings.Join(args, " "), code, wantCode, out)
		}
		return string(out)
	}

	run(0, "up", "fixture", "--dir", dir, "--fpm-env", "USE_ZEND_DTRACE=1")
	st, err := stack.LoadState(dir)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(st.URL + "/env.php?name=USE_ZEND_DTRACE")
	if err != nil {
		t.Fatalf("stack gone after up returned: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /env.php = %d", resp.StatusCode)
	}
	if out := run(1, "up", "fixture", "--dir", dir); !strings.Contains(out, "already running") {
		t.Errorf("second up: %s", out)
	}
	if out := run(0, "status", "--dir", dir); !strings.Contains(out, "running") || strings.Contains(out, "NOT RUNNING") {
		t.Errorf("status: %s", out)
	}
	run(0, "down", "--dir", dir)
	for _, p := range st.Processes {
		if p.Alive() {
			t.Errorf("%s (pid %d) survived down", p.Name, p.PID)
		}
	}
	run(0, "down", "--dir", dir)
	run(3, "status", "--dir", dir)
}
