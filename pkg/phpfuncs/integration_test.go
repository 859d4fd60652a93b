//go:build integration

package phpfuncs

import (
	"bufio"
	"bytes"
	"context"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/rlimit"

	"github.com/tusk-php/tusk/pkg/phpbin"
	"github.com/tusk-php/tusk/pkg/phpoffsets"
	"github.com/tusk-php/tusk/tests/stack"
)

const fpmBinary = "php-fpm8.2"

// wwwDir is a temporary directory www-data can read (t.TempDir's parents
// are 0700).
func wwwDir(t *testing.T, prefix string) string {
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

// fpmModules lists the extensions php-fpm loads ("mysqli", "pdo", …).
func fpmModules(t *testing.T) map[string]bool {
	t.Helper()
	out, err := exec.Command(fpmBinary, "-m").Output()
	if err != nil {
		t.Skipf("needs %s: %v", fpmBinary, err)
	}
	mods := map[string]bool{}
	for _, l := range strings.Split(string(out), "\n") {
		mods[strings.ToLower(strings.TrimSpace(l))] = true
	}
	return mods
}

// startFPM runs one php-fpm master with a single-worker pool serving dir.
func startFPM(t *testing.T) (*stack.FPM, string) {
	t.Helper()
	base := wwwDir(t, "tusk-phpfuncs-")
	www := filepath.Join(base, "www")
	if err := os.Mkdir(www, 0o755); err != nil {
		t.Fatal(err)
	}
	scripts := map[string]string{
		"fgc.php":  "<?php $s = file_get_contents(__FILE__); echo 'fgc-ok ', strlen($s), \"\\n\";",
		"curl.php": "<?php $c = curl_init($_GET['u']); curl_setopt($c, CURLOPT_RETURNTRANSFER, true); $r = curl_exec($c); echo 'curl-ok ', $r, \"\\n\";",
	}
	for name, src := range scripts {
		if err := os.WriteFile(filepath.Join(www, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	fpm, err := stack.StartFPM(ctx, stack.FPMOptions{
		Dir:   filepath.Join(base, "fpm"),
		Pools: []stack.Pool{{Name: "phpfuncs", Workers: 1}},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fpm.Stop() })
	return fpm, www
}

func TestResolvesAndProbesAPHPFPMWorker(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: reads php-fpm's memory and loads BPF programs")
	}
	mods := fpmModules(t)
	fpm, www := startFPM(t)
	workers := fpm.WorkerPIDs("phpfuncs")
	if len(workers) != 1 {
		t.Fatalf("workers: %v", workers)
	}
	pid := workers[0]
	info, err := phpbin.Inspect(fmt.Sprintf("/proc/%d/exe", pid))
	if err != nil {
		t.Fatal(err)
	}
	offs, err := phpoffsets.Lookup(info.MajorMinor(), info.Machine)
	if err != nil {
		t.Fatal(err)
	}

	names := []string{"mysqli_query", "mysqli_prepare", "mysqli_stmt_execute", "pdo::query", "pdo::prepare", "pdo::exec",
		"pdostatement::execute", "redis::get", "memcached::get", "curl_exec", "file_get_contents", "fread", "nosuchfunction",
		"mysqli::query", "PDO::Query"}
	var got map[string]Handler
	var times []time.Duration
	for range 5 {
		start := time.Now()
		var refused []Rejected
		got, refused, err = Resolve("/proc", pid, info, offs, names)
		times = append(times, time.Since(start))
		if err != nil || len(refused) > 0 {
			t.Fatal(err, refused)
		}
	}
	t.Logf("Resolve of %d names on php-fpm worker %d: first %v, then %v", len(names), pid, times[0], times[1:])
	if times[0] > 50*time.Millisecond {
		t.Errorf("Resolve took %v, want well under 50 ms", times[0])
	}
	for _, n := range names {
		t.Logf("%-22s %+v", n, got[n])
	}

	// Each handler lives in the extension that defines it. Phar (on by
	// default) replaces file_get_contents' handler with its own wrapper,
	// which calls the original: both are fine to probe.
	fpmExe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	fpmBase := filepath.Base(fpmExe)
	wantModule := map[string]struct {
		ext  string // as php-fpm -m lists it
		libs []string
	}{
		"mysqli_query":          {"mysqli", []string{"mysqli.so"}},
		"mysqli_prepare":        {"mysqli", []string{"mysqli.so"}},
		"mysqli_stmt_execute":   {"mysqli", []string{"mysqli.so"}},
		"mysqli::query":         {"mysqli", []string{"mysqli.so"}},
		"pdo::query":            {"pdo", []string{"pdo.so"}},
		"PDO::Query":            {"pdo", []string{"pdo.so"}},
		"pdo::prepare":          {"pdo", []string{"pdo.so"}},
		"pdo::exec":             {"pdo", []string{"pdo.so"}},
		"pdostatement::execute": {"pdo", []string{"pdo.so"}},
		"redis::get":            {"redis", []string{"redis.so"}},
		"memcached::get":        {"memcached", []string{"memcached.so"}},
		"curl_exec":             {"curl", []string{"curl.so"}},
		"file_get_contents":     {"standard", []string{fpmBase, "phar.so"}},
		"fread":                 {"standard", []string{fpmBase}},
	}
	for name, want := range wantModule {
		h, ok := got[name]
		if !ok {
			if !mods[want.ext] {
				t.Logf("%s: extension %s not loaded", name, want.ext)
			} else {
				t.Errorf("%s not resolved", name)
			}
			continue
		}
		if h.Name != name || !contains(want.libs, filepath.Base(h.Module)) {
			t.Errorf("%s: %+v, want it in %v", name, h, want.libs)
		}
		checkExecutableMapping(t, pid, h.Addr)
		checkCodeMatchesFile(t, pid, h)
	}
	if _, ok := got["nosuchfunction"]; ok {
		t.Error("nosuchfunction resolved")
	}
	if got["mysqli::query"].Addr != got["mysqli_query"].Addr || got["PDO::Query"].Addr != got["pdo::query"].Addr {
		t.Error("method aliases or case variants resolved to different handlers")
	}
	// fread is exported as zif_fread: the table and the symbol agree.
	if off := exportedOffset(t, info, "zif_fread"); got["fread"].FileOffset != off {
		t.Errorf("fread at file offset %#x, zif_fread at %#x", got["fread"].FileOffset, off)
	}

	curl, err := ResolveLibrarySymbols("/proc", pid, "libcurl.so", []string{"curl_easy_perform", "no_such_symbol"})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("libcurl: %+v", curl)
	perform, ok := curl["curl_easy_perform"]
	if !ok || len(curl) != 1 || !strings.HasPrefix(filepath.Base(perform.Module), "libcurl.so") {
		t.Fatalf("ResolveLibrarySymbols: %+v", curl)
	}
	checkExecutableMapping(t, pid, perform.Addr)
	checkCodeMatchesFile(t, pid, perform)

	// Uprobes through the paths Resolve gives fire in the worker.
	fgc := got["file_get_contents"]
	rootPath := fmt.Sprintf("/proc/%d/root%s", pid, fgc.Module)
	counters := newCounters(t, 8)
	probes := []struct {
		what string
		key  uint32
		path string
		off  uint64
		ret  bool
	}{
		{"file_get_contents via " + fgc.OpenPath, 0, fgc.OpenPath, fgc.FileOffset, false},
		{"file_get_contents via " + rootPath, 1, rootPath, fgc.FileOffset, false},
		{"file_get_contents return via " + fgc.OpenPath, 2, fgc.OpenPath, fgc.FileOffset, true},
		{"curl_exec via " + got["curl_exec"].OpenPath, 3, got["curl_exec"].OpenPath, got["curl_exec"].FileOffset, false},
		{"curl_easy_perform via " + perform.OpenPath, 4, perform.OpenPath, perform.FileOffset, false},
	}
	for _, p := range probes {
		exe, err := link.OpenExecutable(p.path)
		if err != nil {
			t.Fatalf("%s: %v", p.what, err)
		}
		opts := &link.UprobeOptions{Address: p.off, PID: pid}
		var l link.Link
		if p.ret {
			l, err = exe.Uretprobe("", counters.prog(t, p.key), opts)
		} else {
			l, err = exe.Uprobe("", counters.prog(t, p.key), opts)
		}
		if err != nil {
			t.Fatalf("attach %s: %v", p.what, err)
		}
		t.Cleanup(func() { l.Close() })
	}

	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "pong") }))
	defer target.Close()
	addr := fpm.Listen("phpfuncs")
	const fgcCalls, curlCalls = 3, 2
	for range fgcCalls {
		if body := fastCGIGet(t, addr, filepath.Join(www, "fgc.php"), ""); !strings.Contains(body, "fgc-ok") {
			t.Fatalf("fgc.php answered %q\n%s", body, fpm.LogTail())
		}
	}
	for range curlCalls {
		if body := fastCGIGet(t, addr, filepath.Join(www, "curl.php"), "u="+target.URL); !strings.Contains(body, "curl-ok pong") {
			t.Fatalf("curl.php answered %q\n%s", body, fpm.LogTail())
		}
	}
	want := []uint64{fgcCalls, fgcCalls, fgcCalls, curlCalls, curlCalls}
	for i, p := range probes {
		n := counters.get(t, p.key)
		t.Logf("%s: %d hits", p.what, n)
		if n != want[i] {
			t.Errorf("%s: %d hits, want %d", p.what, n, want[i])
		}
	}

	// The worker has served requests: its executor_globals now points at
	// the tables (before, only compiler_globals did). Same answer. The
	// master, which never runs a request, shares the tables and mappings.
	for _, p := range []int{pid, fpm.MasterPID} {
		again, refused, err := Resolve("/proc", p, info, offs, names)
		if err != nil || len(refused) > 0 {
			t.Fatalf("pid %d: %v %+v", p, err, refused)
		}
		for name, h := range got {
			if a := again[name]; a.Addr != h.Addr || a.FileOffset != h.FileOffset || a.Module != h.Module {
				t.Errorf("pid %d: %s: %+v, first %+v", p, name, a, h)
			}
		}
	}
}

// A uprobe attached through a worker's map_files path is on the file: it
// keeps firing in the worker that replaces it.
func TestMapFilesUprobeOutlivesTheProcess(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: reads php-fpm's memory and loads BPF programs")
	}
	fpmModules(t)
	fpm, www := startFPM(t)
	pid := fpm.WorkerPIDs("phpfuncs")[0]
	info, err := phpbin.Inspect(fmt.Sprintf("/proc/%d/exe", pid))
	if err != nil {
		t.Fatal(err)
	}
	offs, err := phpoffsets.Lookup(info.MajorMinor(), info.Machine)
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := Resolve("/proc", pid, info, offs, []string{"file_get_contents"})
	if err != nil {
		t.Fatal(err)
	}
	h := got["file_get_contents"]
	counters := newCounters(t, 1)
	exe, err := link.OpenExecutable(h.OpenPath)
	if err != nil {
		t.Fatal(err)
	}
	l, err := exe.Uprobe("", counters.prog(t, 0), &link.UprobeOptions{Address: h.FileOffset})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()

	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		w := fpm.WorkerPIDs("phpfuncs")
		if len(w) == 1 && w[0] != pid {
			t.Logf("worker %d replaced by %d", pid, w[0])
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("worker %d not replaced: %v", pid, w)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := os.Stat(h.OpenPath); err == nil {
		t.Errorf("%s still exists", h.OpenPath)
	}
	for range 2 {
		if body := fastCGIGet(t, fpm.Listen("phpfuncs"), filepath.Join(www, "fgc.php"), ""); !strings.Contains(body, "fgc-ok") {
			t.Fatalf("fgc.php answered %q", body)
		}
	}
	// Other php-fpm instances on this host may call it too: at least ours.
	if n := counters.get(t, 0); n < 2 {
		t.Fatalf("%d hits after 2 requests to the new worker", n)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// checkExecutableMapping reads /proc/<pid>/maps itself and checks addr is
// in an executable mapping.
func checkExecutableMapping(t *testing.T, pid int, addr uint64) {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/maps", pid))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		lo, hi, _ := strings.Cut(fields[0], "-")
		start, _ := strconv.ParseUint(lo, 16, 64)
		end, _ := strconv.ParseUint(hi, 16, 64)
		if start <= addr && addr < end {
			if !strings.Contains(fields[1], "x") {
				t.Errorf("%#x is in %s, not executable", addr, sc.Text())
			}
			return
		}
	}
	t.Errorf("%#x is not mapped", addr)
}

// exportedOffset is the file offset of an exported symbol of the PHP binary.
func exportedOffset(t *testing.T, info *phpbin.Info, name string) uint64 {
	t.Helper()
	f, err := elf.Open(info.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	syms, err := f.DynamicSymbols()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range syms {
		if s.Name == name {
			off, err := info.FileOffset(s.Value)
			if err != nil {
				t.Fatal(err)
			}
			return off
		}
	}
	t.Fatalf("%s does not export %s", info.Path, name)
	return 0
}

// counters is an ARRAY map of u64 hit counters and programs that bump one.
type counters struct{ m *ebpf.Map }

func newCounters(t *testing.T, n uint32) *counters {
	t.Helper()
	if err := rlimit.RemoveMemlock(); err != nil {
		t.Fatal(err)
	}
	m, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Array, KeySize: 4, ValueSize: 8, MaxEntries: n})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return &counters{m: m}
}

// prog returns a uprobe program that adds 1 to counter key.
func (c *counters) prog(t *testing.T, key uint32) *ebpf.Program {
	t.Helper()
	p, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Type:    ebpf.Kprobe,
		License: "GPL",
		Instructions: asm.Instructions{
			asm.StoreImm(asm.RFP, -4, int64(key), asm.Word),
			asm.LoadMapPtr(asm.R1, c.m.FD()),
			asm.Mov.Reg(asm.R2, asm.RFP),
			asm.Add.Imm(asm.R2, -4),
			asm.FnMapLookupElem.Call(),
			asm.JEq.Imm(asm.R0, 0, "out"),
			asm.Mov.Imm(asm.R1, 1),
			asm.StoreXAdd(asm.R0, asm.R1, asm.DWord),
			asm.Mov.Imm(asm.R0, 0).WithSymbol("out"),
			asm.Return(),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func (c *counters) get(t *testing.T, key uint32) uint64 {
	t.Helper()
	var v uint64
	if err := c.m.Lookup(key, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// fastCGIGet runs one GET request for script through php-fpm at addr and
// returns the response (headers and body).
func fastCGIGet(t *testing.T, addr, script, query string) string {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	const (
		typeBeginRequest = 1
		typeEndRequest   = 3
		typeParams       = 4
		typeStdin        = 5
		typeStdout       = 6
		typeStderr       = 7
		requestID        = 1
	)
	var out bytes.Buffer
	record := func(typ byte, content []byte) {
		out.Write([]byte{1, typ, 0, requestID, byte(len(content) >> 8), byte(len(content)), 0, 0})
		out.Write(content)
	}
	record(typeBeginRequest, []byte{0, 1, 0, 0, 0, 0, 0, 0}) // role RESPONDER, close when done
	var params bytes.Buffer
	for _, kv := range [][2]string{
		{"GATEWAY_INTERFACE", "CGI/1.1"}, {"SERVER_PROTOCOL", "HTTP/1.1"}, {"REQUEST_METHOD", "GET"},
		{"SCRIPT_FILENAME", script}, {"SCRIPT_NAME", "/" + filepath.Base(script)},
		{"REQUEST_URI", "/" + filepath.Base(script) + "?" + query}, {"QUERY_STRING", query},
		{"DOCUMENT_ROOT", filepath.Dir(script)}, {"SERVER_NAME", "localhost"}, {"SERVER_PORT", "80"},
		{"REMOTE_ADDR", "127.0.0.1"},
	} {
		for _, s := range kv {
			if len(s) < 128 {
				params.WriteByte(byte(len(s)))
			} else {
				binary.Write(&params, binary.BigEndian, uint32(len(s))|1<<31)
			}
		}
		params.WriteString(kv[0])
		params.WriteString(kv[1])
	}
	record(typeParams, params.Bytes())
	record(typeParams, nil)
	record(typeStdin, nil)
	if _, err := conn.Write(out.Bytes()); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	r := bufio.NewReader(conn)
	for {
		var hdr [8]byte
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			t.Fatalf("FastCGI response: %v (stdout so far %q)", err, stdout.String())
		}
		content := make([]byte, int(hdr[4])<<8|int(hdr[5]))
		if _, err := io.ReadFull(r, content); err != nil {
			t.Fatal(err)
		}
		if _, err := io.CopyN(io.Discard, r, int64(hdr[6])); err != nil {
			t.Fatal(err)
		}
		switch hdr[1] {
		case typeStdout:
			stdout.Write(content)
		case typeStderr:
			stderr.Write(content)
		case typeEndRequest:
			if stderr.Len() > 0 {
				t.Logf("php-fpm stderr: %s", stderr.String())
			}
			return stdout.String()
		}
	}
}
