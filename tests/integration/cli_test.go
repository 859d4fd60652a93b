//go:build integration

package integration

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/tusk-php/tusk/pkg/agentapi"
)

// The terminal view, for people without Grafana at hand: the real CLI
// against the real agent.
func TestTerminalView(t *testing.T) {
	s := dtraceStack(t, 1)
	a := startAgent(t, s)
	enableDeep(t, a, agentapi.DeepModeRequest{Pool: s.Pool, Threshold: agentapi.Duration(time.Millisecond), For: agentapi.Duration(time.Minute)})
	get(t, s, "/index.php")
	get(t, s, "/error.php")
	a.onlyTrace(t, "/index.php")
	a.onlyTrace(t, "/error.php")

	cli := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(agentBin, args...)
		cmd.Env = append(os.Environ(), "TUSK_AGENT_URL="+a.url, "TUSK_TOKEN="+a.token)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("tusk-agent %v: %v\n%s", args, err, out)
		}
		return string(out)
	}

	top := cli("top")
	lines := strings.Split(strings.TrimSpace(top), "\n")
	if len(lines) != 3 || !strings.Contains(lines[1], "/index.php") || !strings.Contains(lines[2], "/error.php") || !strings.Contains(lines[2], "ERR") {
		t.Fatalf("top, slowest first, with the failed request flagged:\n%s", top)
	}
	tree := cli("trace", "slowest")
	for _, want := range []string{"GET /index.php 200", "└─ {main}", "├─ a", "│  ├─ b", "│  └─ c", `└─ Shop\Cart::total`, "index.php:30"} {
		if !strings.Contains(tree, want) {
			t.Errorf("trace tree lacks %q:\n%s", want, tree)
		}
	}
	status := cli("status")
	if !strings.Contains(status, "mode=usdt") || !strings.Contains(status, "pool "+s.Pool) || !strings.Contains(status, "deep-1") {
		t.Errorf("status:\n%s", status)
	}
}
