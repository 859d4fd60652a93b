package phpfuncs

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/tusk-php/tusk/pkg/phpbin"
	"github.com/tusk-php/tusk/pkg/phpoffsets"
)

const phpCLI = "/usr/bin/php8.2"

// startPHPCLI runs php-cli until the test ends and returns its PID once the
// engine is up (every extension loaded).
func startPHPCLI(t *testing.T) int {
	t.Helper()
	cmd := exec.Command(phpCLI, "-r", "fwrite(STDOUT, 'up'); sleep(30);")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	buf := make([]byte, 2)
	if _, err := out.Read(buf); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("reading another process's memory needs root (or CAP_SYS_PTRACE)")
	}
}

// TestResolvesInARealPHP walks the tables of a php-cli process, the same
// engine as php-fpm's, and checks the handlers the binary exports a symbol
// for against that symbol.
func TestResolvesInARealPHP(t *testing.T) {
	needRoot(t)
	info, err := phpbin.Inspect(phpCLI)
	if err != nil {
		t.Skipf("needs %s: %v", phpCLI, err)
	}
	offs, err := phpoffsets.Lookup(info.MajorMinor(), info.Machine)
	if err != nil {
		t.Skip(err)
	}
	pid := startPHPCLI(t)
	names := []string{"fread", "fwrite", "file_get_contents", "strlen", "pdo::query", "pdostatement::execute", "mysqli_query", "mysqli::query", "nosuchfunction", "nosuchclass::query", "pdo::nosuchmethod"}
	start := time.Now()
	got, err := Resolve("/proc", pid, info, offs, names)
	elapsed := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Resolve of %d names in php-cli: %v", len(names), elapsed)
	for _, n := range names {
		t.Logf("%-22s %+v", n, got[n])
	}
	for _, n := range []string{"nosuchfunction", "nosuchclass::query", "pdo::nosuchmethod"} {
		if _, ok := got[n]; ok {
			t.Errorf("%s resolved", n)
		}
	}
	// fread and fwrite are exported as zif_fread / zif_fwrite.
	f, err := elf.Open(phpCLI)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	syms, _ := f.DynamicSymbols()
	for _, fn := range []string{"fread", "fwrite"} {
		h, ok := got[fn]
		if !ok {
			t.Errorf("%s not resolved", fn)
			continue
		}
		for _, s := range syms {
			if s.Name == "zif_"+fn {
				off, err := info.FileOffset(s.Value)
				if err != nil {
					t.Fatal(err)
				}
				if h.FileOffset != off || h.Module != phpCLI {
					t.Errorf("%s: %s+%#x, want %s+%#x (zif_%s)", fn, h.Module, h.FileOffset, phpCLI, off, fn)
				}
			}
		}
	}
	for name, lib := range map[string]string{"pdo::query": "pdo.so", "mysqli_query": "mysqli.so"} {
		if h, ok := got[name]; ok && filepath.Base(h.Module) != lib {
			t.Errorf("%s in %s, want %s", name, h.Module, lib)
		}
	}
	for _, h := range got {
		checkCodeMatchesFile(t, pid, h)
	}
	if got["mysqli::query"].Addr != got["mysqli_query"].Addr {
		t.Errorf("mysqli::query at %#x, mysqli_query at %#x: want the same handler", got["mysqli::query"].Addr, got["mysqli_query"].Addr)
	}
}

func TestResolvesLibrarySymbols(t *testing.T) {
	cmd := exec.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Skip(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	var got map[string]Handler
	var err error
	for range 100 { // until the dynamic loader has mapped libc
		got, err = ResolveLibrarySymbols("/proc", cmd.Process.Pid, "libc.so", []string{"getpid", "nanosleep", "no_such_symbol"})
		if err != nil || len(got) == 2 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := got["no_such_symbol"]; ok || len(got) != 2 {
		t.Fatalf("got %+v", got)
	}
	for name, h := range got {
		t.Logf("%+v", h)
		if !strings.HasPrefix(filepath.Base(h.Module), "libc.so") || h.Name != name {
			t.Errorf("%s: %+v", name, h)
		}
		// The offset as cilium/ebpf would compute it from the symbol.
		f, err := elf.Open(h.OpenPath)
		if err != nil {
			t.Fatal(err)
		}
		syms, _ := f.DynamicSymbols()
		found := false
		for _, s := range syms {
			if s.Name != name || elf.ST_TYPE(s.Info) != elf.STT_FUNC {
				continue
			}
			for _, p := range f.Progs {
				if p.Type == elf.PT_LOAD && p.Flags&elf.PF_X != 0 && p.Vaddr <= s.Value && s.Value < p.Vaddr+p.Memsz {
					found = h.FileOffset == s.Value-p.Vaddr+p.Off
				}
			}
		}
		f.Close()
		if !found {
			t.Errorf("%s: file offset %#x does not match the symbol", name, h.FileOffset)
		}
		if os.Geteuid() == 0 {
			checkCodeMatchesFile(t, cmd.Process.Pid, h)
		}
	}
}

// checkCodeMatchesFile checks that the process has, at h.Addr, the bytes
// h.OpenPath has at h.FileOffset: the place a uprobe would patch.
func checkCodeMatchesFile(t *testing.T, pid int, h Handler) {
	t.Helper()
	mem := make([]byte, 32)
	file := make([]byte, 32)
	if err := (procMem{"/proc", pid}).ReadAt(h.Addr, mem); err != nil {
		t.Fatal(err)
	}
	fd, err := os.Open(h.OpenPath)
	if err != nil {
		t.Fatal(err)
	}
	defer fd.Close()
	if _, err := fd.ReadAt(file, int64(h.FileOffset)); err != nil {
		t.Fatal(err)
	}
	// A uprobe already on the function (another tracer, or the agent in a
	// test running beside this one) shows as int3 at its first byte.
	const int3 = 0xcc
	if mem[0] == int3 && runtime.GOARCH == "amd64" {
		mem[0] = file[0]
	}
	if string(mem) != string(file) {
		t.Errorf("%s: memory at %#x is % x, %s at %#x is % x", h.Name, h.Addr, mem, h.OpenPath, h.FileOffset, file)
	}
}
