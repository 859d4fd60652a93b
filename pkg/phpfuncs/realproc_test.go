package phpfuncs

import (
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/tusk-php/tusk/pkg/phpbin"
	"github.com/tusk-php/tusk/pkg/phpoffsets"
	"github.com/tusk-php/tusk/pkg/procmem"
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
	got, refused, err := Resolve("/proc", pid, info, offs, names)
	elapsed := time.Since(start)
	if err != nil || len(refused) > 0 {
		t.Fatal(err, refused)
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

// TestForgedTablesInARealPHPAreRefused does to a running php-cli what PHP
// code with FFI, or a memory-safety bug, can do to a worker: it rewrites
// mysqli_query's zend_function so that its handler is libc's getpid,
// PDOStatement::execute's so that it points one byte into its real handler
// in pdo.so, and the http:// stream wrapper's opener to getpid too. Resolve
// refuses the three, and still returns the untouched handlers
// (mysqli::query has its own zend_function).
func TestForgedTablesInARealPHPAreRefused(t *testing.T) {
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
	names := []string{"mysqli_query", "mysqli::query", "pdo::query", "pdostatement::execute", "fread"}
	before, refused, err := Resolve("/proc", pid, info, offs, names)
	if err != nil || len(refused) > 0 || len(before) != len(names) {
		t.Fatalf("before forging: %v, refused %+v, %d of %d found", err, refused, len(before), len(names))
	}
	libc, err := ResolveLibrarySymbols("/proc", pid, "libc.so", []string{"getpid"})
	if err != nil || libc["getpid"].Addr == 0 {
		t.Fatalf("libc getpid: %+v, %v", libc, err)
	}
	getpid := libc["getpid"]

	// Find mysqli_query's zend_function as Resolve does, and overwrite its
	// handler in the process.
	l, err := newLayout(offs)
	if err != nil {
		t.Fatal(err)
	}
	bias, err := procmem.LoadBias("/proc", pid, info.LinkBase())
	if err != nil {
		t.Fatal(err)
	}
	w := &walker{mem: procMem{"/proc", pid}, l: l}
	functions, classes, err := w.tables(globals{eg: info.Symbols["executor_globals"].Value + bias, cg: info.Symbols["compiler_globals"].Value + bias})
	if err != nil {
		t.Fatal(err)
	}
	bs, err := w.buckets(functions, "function table")
	if err != nil {
		t.Fatal(err)
	}
	ptrs, err := w.lookup(bs, []string{"mysqli_query"})
	if err != nil || ptrs["mysqli_query"] == 0 {
		t.Fatalf("mysqli_query's zend_function: %v, %v", ptrs, err)
	}
	mem, err := os.OpenFile(fmt.Sprintf("/proc/%d/mem", pid), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer mem.Close()
	forge := func(addr, value uint64) {
		t.Helper()
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], value)
		if _, err := mem.WriteAt(b[:], int64(addr)); err != nil {
			t.Fatalf("write %#x at %#x: %v", value, addr, err)
		}
	}
	forge(ptrs["mysqli_query"]+l.fnHandler, getpid.Addr)
	// PDOStatement::execute one byte into its real handler, in pdo.so: an
	// extension, but the middle of an instruction.
	cbs, err := w.buckets(classes, "class table")
	if err != nil {
		t.Fatal(err)
	}
	ce, err := w.lookup(cbs, []string{"pdostatement"})
	if err != nil || ce["pdostatement"] == 0 {
		t.Fatalf("pdostatement: %v, %v", ce, err)
	}
	mbs, err := w.buckets(ce["pdostatement"]+l.ceFunctionTable, "methods")
	if err != nil {
		t.Fatal(err)
	}
	execute, err := w.lookup(mbs, []string{"execute"})
	if err != nil || execute["execute"] == 0 {
		t.Fatalf("pdostatement::execute: %v, %v", execute, err)
	}
	forge(execute["execute"]+l.fnHandler, before["pdostatement::execute"].Addr+1)
	// php_stream_http_wrapper.wops->create_stream (the opener): wops is in
	// relro, which /proc/<pid>/mem writes all the same.
	wops, err := w.readPtr(info.Symbols["php_stream_http_wrapper"].Value + bias)
	if err != nil {
		t.Fatal(err)
	}
	forge(wops, getpid.Addr)

	got, refused, err := Resolve("/proc", pid, info, offs, names)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range refused {
		t.Logf("refused: %v", r.Error())
	}
	if len(refused) != 2 || refused[0].Name != "mysqli_query" || refused[0].Addr != getpid.Addr ||
		refused[0].Module != getpid.Module || !strings.Contains(refused[0].Reason, "get_module") {
		t.Fatalf("refused %+v, want mysqli_query in %s and pdostatement::execute", refused, getpid.Module)
	}
	if r := refused[1]; r.Name != "pdostatement::execute" || r.Module != before[r.Name].Module ||
		!strings.Contains(r.Reason, "not where a function starts") {
		t.Errorf("refused %+v, want pdostatement::execute one byte into its handler", r)
	}
	for _, n := range []string{"mysqli_query", "pdostatement::execute"} {
		if _, ok := got[n]; ok {
			t.Errorf("the forged %s was returned", n)
		}
	}
	for _, n := range []string{"mysqli::query", "pdo::query", "fread"} {
		if got[n] != before[n] {
			t.Errorf("%s: %+v, before forging %+v", n, got[n], before[n])
		}
	}
	_, err = ResolveStreamOpener("/proc", pid, info, "php_stream_http_wrapper", "http")
	var r *Rejected
	if !errors.As(err, &r) || r.Addr != getpid.Addr || r.Module != getpid.Module {
		t.Errorf("forged stream opener: %v", err)
	}
	t.Logf("stream opener: %v", err)
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
	// A uprobe already on the function (another tracer, or an agent running
	// beside this test) shows as int3 at its first byte, and one on the
	// next function (zim_Memcached_getByKey follows memcached::get's 16
	// bytes) as int3 further on.
	const int3 = 0xcc
	for i := range mem {
		if mem[i] == int3 && runtime.GOARCH == "amd64" {
			mem[i] = file[i]
		}
	}
	if string(mem) != string(file) {
		t.Errorf("%s: memory at %#x is % x, %s at %#x is % x", h.Name, h.Addr, mem, h.OpenPath, h.FileOffset, file)
	}
}
