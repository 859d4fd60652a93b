package procmem

import (
	"os"
	"os/exec"
	"strings"
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

const sampleMaps = `55d0c0a00000-55d0c0b00000 r--p 00000000 fe:00 1234   /usr/sbin/php-fpm8.2
55d0c0b00000-55d0c1000000 r-xp 00100000 fe:00 1234   /usr/sbin/php-fpm8.2
7f0000000000-7f0000001000 rw-p 00000000 00:00 0 
7ffc00000000-7ffc00021000 rw-p 00000000 00:00 0      [stack]
`

func TestLoadBiasFromMaps(t *testing.T) {
	bias, err := loadBias(strings.NewReader(sampleMaps), "/usr/sbin/php-fpm8.2", 0)
	if err != nil || bias != 0x55d0c0a00000 {
		t.Fatalf("bias %#x, %v", bias, err)
	}
	if _, err := loadBias(strings.NewReader(sampleMaps), "/usr/sbin/php-fpm8.2", 0x55d0c0b00000); err == nil {
		t.Fatal("a mapping below the link address gave a bias")
	}
	if _, err := loadBias(strings.NewReader(sampleMaps), "/usr/bin/php", 0); err == nil {
		t.Fatal("an executable that is not mapped gave a bias")
	}
	long := "1000-2000 r--p 00000000 fe:00 1 /" + strings.Repeat("a", 2<<20) + "\n" + sampleMaps
	if _, err := loadBias(strings.NewReader(long), "/usr/sbin/php-fpm8.2", 0); err == nil {
		t.Fatal("a 2 MiB line was read through")
	}
}

// FuzzLoadBias: whatever a maps file holds (a process names its own
// mappings' files), loadBias returns a bias from one of its lines or an
// error, never a wrapped-around address.
func FuzzLoadBias(f *testing.F) {
	for _, seed := range loadBiasSeeds() {
		f.Add(seed[0].(string), seed[1].(string), seed[2].(uint64))
	}
	f.Fuzz(func(t *testing.T, maps, exe string, firstVaddr uint64) {
		bias, err := loadBias(strings.NewReader(maps), exe, firstVaddr)
		if err != nil {
			return
		}
		if bias+firstVaddr < firstVaddr {
			t.Fatalf("bias %#x wraps around with first vaddr %#x", bias, firstVaddr)
		}
		if exe == "" || !strings.Contains(maps, exe) {
			t.Fatalf("bias %#x for %q, which the maps do not name", bias, exe)
		}
	})
}
