//go:build integration

package integration

import (
	"bufio"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tusk-php/tusk/pkg/agentapi"
	"github.com/tusk-php/tusk/pkg/phpoffsets"
	"github.com/tusk-php/tusk/tests/stack"
)

// TestIOHandlersAreReadFromTheMaster points the agent at one php-fpm worker
// only (--pid of the worker): the worker is what it traces, but the engine's
// function tables, which a worker running hostile PHP could forge, are read
// in the worker's master, which never runs a request. The agent's log says
// which process it read.
func TestIOHandlersAreReadFromTheMaster(t *testing.T) {
	s := startFixture(t, stack.StackOptions{Workers: 1})
	workers := s.FPM.WorkerPIDs(s.Pool)
	if len(workers) != 1 {
		t.Fatalf("workers %v", workers)
	}
	dir := tempDir(t, "tusk-agent-")
	a := launchAgent(t, dir, "--pid", fmt.Sprint(workers[0]))
	a.waitTracing(t, s)

	line := regexp.MustCompile(`msg="I/O hooks" .*`)
	var got string
	for deadline := time.Now().Add(10 * time.Second); got == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		got = line.FindString(a.log.String())
	}
	t.Logf("worker %d, master %d: %s", workers[0], s.FPM.MasterPID, got)
	if want := fmt.Sprintf(" pid=%d role=fpm-master ", s.FPM.MasterPID); !strings.Contains(got, want) {
		t.Fatalf("the agent did not read the master's tables (%q):\n%s", want, a.log.String())
	}
	st, err := a.client.Status(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range st.Binaries {
		for _, p := range b.Pools {
			if p.Name != s.Pool {
				continue
			}
			if len(p.WorkerPIDs) != 1 || p.WorkerPIDs[0] != workers[0] {
				t.Errorf("traced workers %v, want only %d", p.WorkerPIDs, workers[0])
			}
			if len(b.IOHooks) < 10 || strings.Contains(b.IOReason, "refused") {
				t.Errorf("I/O hooks %v (%s)", b.IOHooks, b.IOReason)
			}
		}
	}
	if strings.Contains(a.log.String(), "I/O hooks refused") {
		t.Errorf("a real php-fpm's handlers were refused:\n%s", a.log.String())
	}
	// The terminal status shows the hooks (and would show a refusal).
	cmd := exec.Command(agentBin, "status")
	cmd.Env = append(os.Environ(), "TUSK_AGENT_URL="+a.url, "TUSK_TOKEN="+a.token)
	out, err := cmd.CombinedOutput()
	if err != nil || !regexp.MustCompile(`\n  I/O hooks: [1-9][0-9]*\n`).Match(out) {
		t.Errorf("tusk-agent status: %v\n%s", err, out)
	}
}

// forgeScript is what a hostile PHP script can do with FFI (on by default
// in php-cli): point mysqli_query's C handler, in the engine's function
// table, at libc's getpid. An agent that believed it would put its uprobe
// on getpid, in libc, for every process on the host.
const forgeScript = `<?php
$ffi = FFI::cdef('
  char *zend_fetch_function_str(const char *name, size_t len);
  int getpid(void);
');
$fn = $ffi->zend_fetch_function_str("mysqli_query", 12);
$handler = FFI::cast("uintptr_t *", $fn + %d); // zend_internal_function.handler
$handler[0] = FFI::cast("uintptr_t", $ffi->getpid)->cdata;
printf("forged %%x\n", $handler[0]);
sleep(60);
`

// TestForgedHandlerIsRefusedAndReported runs that script under php-cli and
// points the agent at it: the agent reads the forged table (a CLI process
// has no master), refuses the handler, says so in its log and in the
// binary's status, and hooks the rest.
func TestForgedHandlerIsRefusedAndReported(t *testing.T) {
	offs, err := phpoffsets.Lookup("8.2", elf.EM_X86_64)
	if err != nil || runtime.GOARCH != "amd64" {
		t.Skipf("x86-64 PHP 8.2 offsets: %v", err)
	}
	dir := tempDir(t, "tusk-forge-")
	script := filepath.Join(dir, "forge.php")
	if err := os.WriteFile(script, []byte(fmt.Sprintf(forgeScript, offs.Tables.InternalHandler)), 0o644); err != nil {
		t.Fatal(err)
	}
	php := exec.Command("/usr/bin/php8.2", script)
	stdout, err := php.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	php.Stderr = os.Stderr
	if err := php.Start(); err != nil {
		t.Skipf("needs php8.2-cli: %v", err)
	}
	t.Cleanup(func() { php.Process.Kill(); php.Wait() })
	forged, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || !strings.HasPrefix(forged, "forged 7f") {
		t.Fatalf("the script did not forge: %q, %v", forged, err)
	}

	a := launchAgent(t, dir, "--cli", "--pid", fmt.Sprint(php.Process.Pid))
	// The binary shows once attached, its I/O hooks with it.
	var bin agentapi.Binary
	for deadline := time.Now().Add(20 * time.Second); bin.Mode == "" || bin.Mode == "none"; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("php-cli not traced within 20s\n%s", a.log.String())
		}
		st, err := a.client.Status(t.Context())
		if err != nil {
			continue
		}
		for _, b := range st.Binaries {
			if b.SAPI == "cli" {
				bin = b
			}
		}
	}
	t.Logf("php-cli %s: %d I/O hooks; %s", strings.TrimSpace(forged), len(bin.IOHooks), bin.IOReason)
	for _, want := range []string{"refused 1 handler", fmt.Sprintf("PID %d (cli)", php.Process.Pid), "mysqli_query: refused handler 0x" + strings.TrimPrefix(strings.TrimSpace(forged), "forged "), "libc.so", "get_module"} {
		if !strings.Contains(bin.IOReason, want) {
			t.Errorf("I/O status lacks %q: %s", want, bin.IOReason)
		}
	}
	if slices.Contains(bin.IOHooks, "mysqli_query") || !slices.Contains(bin.IOHooks, "mysqli_prepare") || !slices.Contains(bin.IOHooks, "pdo::query") {
		t.Errorf("I/O hooks %v: want mysqli_prepare and pdo::query, not mysqli_query", bin.IOHooks)
	}
	if !regexp.MustCompile(`level=WARN msg="I/O hooks refused" .*refused="mysqli_query: refused handler`).MatchString(a.log.String()) {
		t.Errorf("no warning in the log:\n%s", a.log.String())
	}
	cmd := exec.Command(agentBin, "status")
	cmd.Env = append(os.Environ(), "TUSK_AGENT_URL="+a.url, "TUSK_TOKEN="+a.token)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "mysqli_query: refused handler") {
		t.Errorf("tusk-agent status: %v\n%s", err, out)
	}
}
