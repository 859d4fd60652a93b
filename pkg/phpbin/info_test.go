package phpbin

import (
	"bufio"
	"bytes"
	"debug/elf"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tusk-php/tusk/pkg/usdt"
)

// Debian's php8.2 packages (built with --enable-dtrace); tests on them skip
// when the package is not installed.
const (
	phpFPM = "/usr/sbin/php-fpm8.2"
	phpCLI = "/usr/bin/php8.2"
	modPHP = "/usr/lib/apache2/modules/libphp8.2.so"
)

func requireFile(t testing.TB, path string) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		t.Skipf("%s not present (install Debian's php8.2-fpm/php8.2-cli/libapache2-mod-php8.2 to run this test): %v", path, err)
	}
}

func TestInspectDebianBuilds(t *testing.T) {
	for _, tt := range []struct {
		path, sapi string
		runnable   bool // an executable whose -v output can confirm what we read
	}{
		{phpFPM, "fpm", true},
		{phpCLI, "cli", true},
		{modPHP, "apache2handler", false},
	} {
		t.Run(filepath.Base(tt.path), func(t *testing.T) {
			requireFile(t, tt.path)
			info, err := Inspect(tt.path)
			if err != nil {
				t.Fatal(err)
			}
			if info.Path != tt.path || info.Machine != elf.EM_X86_64 {
				t.Errorf("Path %q Machine %v", info.Path, info.Machine)
			}
			if !strings.HasPrefix(info.Version, "8.2.") || info.VersionErr != nil || info.MajorMinor() != "8.2" {
				t.Errorf("Version %q (%v), MajorMinor %q; want 8.2.x", info.Version, info.VersionErr, info.MajorMinor())
			}
			if info.ZTS {
				t.Error("Debian builds PHP NTS, Inspect says ZTS")
			}
			if info.SAPI != tt.sapi {
				t.Errorf("SAPI %q, want %q", info.SAPI, tt.sapi)
			}
			if tt.runnable {
				// "PHP 8.2.36 (fpm-fcgi) (built: …)" and, for the CLI, "(NTS)".
				out, err := exec.Command(tt.path, "-n", "-v").Output()
				if err != nil {
					t.Fatalf("%s -v: %v", tt.path, err)
				}
				if first, _, _ := strings.Cut(string(out), "\n"); !strings.HasPrefix(first, "PHP "+info.Version+" (") ||
					strings.Contains(first, "(ZTS)") != info.ZTS {
					t.Errorf("%s -v says %q; we read version %q, ZTS %v", tt.path, first, info.Version, info.ZTS)
				}
			}

			for _, name := range []string{"executor_globals", "compiler_globals", "core_globals", "sapi_globals",
				"sapi_module", "php_request_startup", "php_request_shutdown", "execute_ex", "zend_execute_ex",
				"dtrace_execute_ex", "zend_dtrace_enabled"} {
				if s, ok := info.Symbols[name]; !ok || s.Value == 0 || s.Size == 0 {
					t.Errorf("symbol %s: %+v, %v", name, s, ok)
				}
			}
			if _, ok := info.Symbols["executor_globals_offset"]; ok {
				t.Error("an NTS build has executor_globals_offset")
			}

			for _, name := range []string{"request__startup", "request__shutdown", "function__entry",
				"function__return", "exception__thrown", "exception__caught", "error"} {
				if !info.HasProbe("php", name) {
					t.Errorf("no probe php:%s", name)
				}
			}
			if info.HasProbe("php", "no__such__probe") || info.HasProbe("node", "request__startup") {
				t.Error("HasProbe found a probe that does not exist")
			}
			if sites := info.ProbesNamed("php", "exception__thrown"); len(sites) != 2 {
				t.Errorf("exception__thrown sites %v, want 2", sites)
			}
			for _, p := range info.ProbesNamed("php", "execute__entry") {
				if _, err := info.FileOffset(p.Location); err != nil {
					t.Errorf("%v: %v", p, err)
				}
			}
		})
	}
}

// php_request_startup's file offset, the uprobe fallback when USDT is
// missing, must be what binutils imply: its value from nm -D mapped through
// the PT_LOAD rows of readelf -l.
func TestInspectFileOffsetMatchesBinutils(t *testing.T) {
	requireFile(t, phpFPM)
	for _, tool := range []string{"nm", "readelf"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	info, err := Inspect(phpFPM)
	if err != nil {
		t.Fatal(err)
	}

	nmOut, err := exec.Command("nm", "-D", "--defined-only", phpFPM).Output()
	if err != nil {
		t.Fatal(err)
	}
	var nmValue uint64
	for _, line := range strings.Split(string(nmOut), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[2] == "php_request_startup" {
			nmValue, _ = strconv.ParseUint(f[0], 16, 64)
		}
	}
	if nmValue == 0 || info.Symbols["php_request_startup"].Value != nmValue {
		t.Fatalf("php_request_startup: nm says %#x, we read %#x", nmValue, info.Symbols["php_request_startup"].Value)
	}

	want := fileOffsetFromReadelf(t, phpFPM, nmValue)
	got, err := info.FileOffset(nmValue)
	if err != nil || got != want {
		t.Errorf("FileOffset(%#x) = %#x, %v; readelf -l implies %#x", nmValue, got, err, want)
	}
	// The data segment is where vaddr and offset differ: check a semaphore too.
	sem := info.ProbesNamed("php", "request__startup")[0].Semaphore
	if got, err := info.FileOffset(sem); err != nil || got != fileOffsetFromReadelf(t, phpFPM, sem) || got == sem {
		t.Errorf("semaphore FileOffset(%#x) = %#x, %v", sem, got, err)
	}
}

func fileOffsetFromReadelf(t *testing.T, path string, vaddr uint64) uint64 {
	t.Helper()
	out, err := exec.Command("readelf", "-lW", path).Output()
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		// LOAD 0x4da3e8 0x00000000004db3e8 0x00000000004db3e8 0x08fc06 0x0adde8 RW 0x1000
		f := strings.Fields(sc.Text())
		if len(f) < 6 || f[0] != "LOAD" {
			continue
		}
		var n [5]uint64
		for i := range n {
			n[i], _ = strconv.ParseUint(strings.TrimPrefix(f[i+1], "0x"), 16, 64)
		}
		off, va, filesz := n[0], n[1], n[3]
		if vaddr >= va && vaddr < va+filesz {
			return off + vaddr - va
		}
	}
	t.Fatalf("readelf -l %s: no LOAD segment holds %#x", path, vaddr)
	return 0
}

// A ZTS build without DTrace, reduced to the facts Inspect reads: the ZTS
// marker in .symtab (not .dynsym), the version strings in .rodata.
func TestInspectZTSWithoutProbes(t *testing.T) {
	path := fakePHP(t, map[string]uint64{"executor_globals_offset": 0x100, "php_request_startup": 0x2000},
		[]byte("\x00Command Line Interface\x00X-Powered-By: PHP/8.3.7\x00"))
	info, err := Inspect(path)
	if err != nil {
		t.Fatal(err)
	}
	if !info.ZTS || info.Version != "8.3.7" || info.SAPI != "cli" || info.Probes != nil {
		t.Errorf("got ZTS %v, Version %q, SAPI %q, %d probes; want ZTS 8.3.7 cli with none",
			info.ZTS, info.Version, info.SAPI, len(info.Probes))
	}
	if info.Symbols["php_request_startup"].Value != 0x2000 {
		t.Errorf("Symbols %v", info.Symbols)
	}
	if _, err := info.FileOffset(0x2000); err == nil {
		t.Error("FileOffset succeeded in a file without PT_LOAD segments")
	}
}

func TestInspectUnknownVersionIsNotAFailure(t *testing.T) {
	info, err := Inspect(fakePHP(t, map[string]uint64{"executor_globals": 0x100}, []byte("\x00nothing here\x00")))
	if err != nil {
		t.Fatal(err)
	}
	if info.Version != "" || info.MajorMinor() != "" || !errors.Is(info.VersionErr, ErrVersionUnknown) {
		t.Errorf("Version %q, MajorMinor %q, VersionErr %v", info.Version, info.MajorMinor(), info.VersionErr)
	}
}

func TestInspectRejectsNonPHP(t *testing.T) {
	requireFile(t, "/bin/true")
	_, err := Inspect("/bin/true")
	if err == nil || !strings.Contains(err.Error(), "/bin/true: not a PHP binary: no executor_globals symbol") {
		t.Errorf("Inspect(/bin/true) error %v", err)
	}

	script := filepath.Join(t.TempDir(), "index.php")
	if err := os.WriteFile(script, []byte("<?php phpinfo();\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Inspect(script); err == nil || !strings.Contains(err.Error(), "not a readable ELF file") {
		t.Errorf("Inspect(a PHP script) error %v", err)
	}
	if _, err := Inspect(filepath.Join(t.TempDir(), "missing")); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Inspect(missing) error %v", err)
	}
}

// A copy cut short anywhere (a half-written download, a full disk) must give
// an error, never a panic or a half-filled Info.
func TestInspectTruncatedCopy(t *testing.T) {
	requireFile(t, phpFPM)
	data, err := os.ReadFile(phpFPM)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{0, 3, 63, 64, 4096, len(data) / 2, len(data) - 100, len(data) - 1} {
		path := filepath.Join(t.TempDir(), "php-fpm8.2")
		if err := os.WriteFile(path, data[:n], 0o755); err != nil {
			t.Fatal(err)
		}
		info, err := Inspect(path)
		if err == nil || info != nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "ends early") {
			t.Errorf("truncated to %d bytes: Info %v, error %v; want nil and an error naming the file", n, info, err)
		}
	}
}

// A note corrupted in place (the section table intact) is reported as the
// usdt package reports it: which note, what is wrong.
func TestInspectCorruptNote(t *testing.T) {
	requireFile(t, phpFPM)
	f, err := elf.Open(phpFPM)
	if err != nil {
		t.Fatal(err)
	}
	notes := f.Section(".note.stapsdt")
	f.Close()
	data, err := os.ReadFile(phpFPM)
	if err != nil {
		t.Fatal(err)
	}
	// The first note's descsz, the second header word, now runs past the end.
	copy(data[notes.Offset+4:], []byte{0xff, 0xff, 0, 0})
	path := filepath.Join(t.TempDir(), "php-fpm8.2")
	if err := os.WriteFile(path, data, 0o755); err != nil {
		t.Fatal(err)
	}
	_, err = Inspect(path)
	var noteErr *usdt.NoteError
	if !errors.As(err, &noteErr) || noteErr.Index != 0 || !strings.Contains(err.Error(), "desc size 65535") {
		t.Errorf("error %v, want a *usdt.NoteError about note 0's desc size", err)
	}
}

func BenchmarkInspect(b *testing.B) {
	requireFile(b, phpFPM)
	for b.Loop() {
		if _, err := Inspect(phpFPM); err != nil {
			b.Fatal(err)
		}
	}
}
