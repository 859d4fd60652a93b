package procmem

import (
	"os"
	"os/exec"
	"testing"

	"github.com/tusk-php/tusk/pkg/phpbin"
)

const phpCLI = "/usr/bin/php8.2"

// readDTraceFlag starts php-cli with env and reads zend_dtrace_enabled from
// its memory, which PHP sets at engine start-up from USE_ZEND_DTRACE.
func readDTraceFlag(t *testing.T, env ...string) byte {
	t.Helper()
	info, err := phpbin.Inspect(phpCLI)
	if err != nil {
		t.Skipf("needs %s: %v", phpCLI, err)
	}
	sym, ok := info.Symbols["zend_dtrace_enabled"]
	if !ok {
		t.Skip("this PHP has no zend_dtrace_enabled symbol")
	}
	cmd := exec.Command(phpCLI, "-r", "fwrite(STDOUT, 'up'); sleep(5);")
	cmd.Env = append(os.Environ(), env...)
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	buf := make([]byte, 2)
	if _, err := out.Read(buf); err != nil { // PHP is past engine start-up
		t.Fatal(err)
	}
	bias, err := LoadBias("/proc", cmd.Process.Pid, 0) // PIE: first PT_LOAD at 0
	if err != nil {
		t.Fatal(err)
	}
	val := make([]byte, 1)
	if err := Read("/proc", cmd.Process.Pid, sym.Value+bias, val); err != nil {
		t.Fatal(err)
	}
	return val[0]
}

func TestReadsAGlobalOfARunningPHP(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("reading another process's memory needs root (or CAP_SYS_PTRACE)")
	}
	if v := readDTraceFlag(t, "USE_ZEND_DTRACE=1"); v != 1 {
		t.Fatalf("with USE_ZEND_DTRACE=1, zend_dtrace_enabled = %d, want 1", v)
	}
	if v := readDTraceFlag(t); v != 0 {
		t.Fatalf("without USE_ZEND_DTRACE, zend_dtrace_enabled = %d, want 0", v)
	}
}

func TestErrorsNameThePID(t *testing.T) {
	if _, err := LoadBias("/proc", 1<<30, 0); err == nil {
		t.Fatal("want an error for a PID that does not exist")
	}
	if err := Read("/proc", 1<<30, 0, make([]byte, 1)); err == nil {
		t.Fatal("want an error for a PID that does not exist")
	}
}
