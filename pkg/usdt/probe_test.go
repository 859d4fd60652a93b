package usdt

import (
	"bufio"
	"bytes"
	"debug/elf"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// Debian's php8.2 packages are built with --enable-dtrace. Tests on them skip
// when the package is not installed.
const (
	phpFPM = "/usr/sbin/php-fpm8.2"
	phpCLI = "/usr/bin/php8.2"
	modPHP = "/usr/lib/apache2/modules/libphp8.2.so"
)

func requireFile(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		t.Skipf("%s not present (install Debian's php8.2-fpm/php8.2-cli/libapache2-mod-php8.2 to run this test): %v", path, err)
	}
}

func openELF(t *testing.T, path string) *elf.File {
	t.Helper()
	requireFile(t, path)
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// The probe table of php-fpm8.2 as PHP 8.2's Zend/zend_dtrace.d and the
// compiler's duplication of some DTRACE_ sites make it.
func TestReadProbesPHPFPM(t *testing.T) {
	f := openELF(t, phpFPM)
	probes, err := ReadProbes(f)
	if err != nil {
		t.Fatal(err)
	}
	sites := map[string][]Probe{}
	for _, p := range probes {
		if p.Provider != "php" {
			t.Errorf("probe %v: provider %q, want php", p, p.Provider)
		}
		if p.ArgsErr != nil {
			t.Errorf("probe %v: %v", p, p.ArgsErr)
		}
		sites[p.Name] = append(sites[p.Name], p)
	}
	wantSites := map[string]int{
		"request__startup": 1, "request__shutdown": 1,
		"compile__file__entry": 1, "compile__file__return": 1,
		"function__entry": 1, "function__return": 1,
		"execute__entry": 2, "execute__return": 2,
		"exception__thrown": 2, "exception__caught": 1, "error": 1,
	}
	for name, n := range wantSites {
		if len(sites[name]) != n {
			t.Errorf("%s: %d sites, want %d", name, len(sites[name]), n)
		}
	}
	if len(sites) != len(wantSites) {
		t.Errorf("probe names %v, want exactly those of %v", keys(sites), wantSites)
	}

	reg8 := func(reg string, off uint16) Arg { return Arg{Size: 8, Kind: ArgReg, Reg: reg, RegOffset: off} }
	for _, p := range sites["request__startup"] {
		if len(p.Args) != 3 {
			t.Fatalf("request__startup args %v, want 3", p.Args)
		}
		for _, a := range p.Args {
			if a.Size != 8 || a.Kind != ArgReg {
				t.Errorf("request__startup arg %v, want an 8-byte register", a)
			}
		}
	}
	wantEntry := []Arg{
		reg8("rax", 80), reg8("r14", 8),
		{Size: 4, Signed: true, Kind: ArgReg, Reg: "r13", RegOffset: 16},
		{Size: 8, Kind: ArgRegDeref, Reg: "rsp", RegOffset: 152, Value: 0},
		{Size: 8, Kind: ArgRegDeref, Reg: "rsp", RegOffset: 152, Value: 16},
	}
	if got := sites["function__entry"]; len(got) == 1 && !reflect.DeepEqual(got[0].Args, wantEntry) {
		t.Errorf("function__entry args\n got %v\nwant %v", got[0].Args, wantEntry)
	}
	wantCaught := []Arg{{Size: 8, Kind: ArgRegDeref, Reg: "rax", RegOffset: 80, Value: 8}}
	if got := sites["exception__caught"]; len(got) == 1 && !reflect.DeepEqual(got[0].Args, wantCaught) {
		t.Errorf("exception__caught args %v, want %v", got[0].Args, wantCaught)
	}
	thrown := sites["exception__thrown"]
	if len(thrown) == 2 {
		if thrown[0].Location == thrown[1].Location || thrown[0].Semaphore != thrown[1].Semaphore {
			t.Errorf("exception__thrown sites %v: want two locations sharing one semaphore", thrown)
		}
		if !hasArg(thrown, Arg{Size: 8, Kind: ArgConst, Value: 0}) {
			t.Errorf("no exception__thrown site has the constant 8@$0: %+v", thrown)
		}
	}

	// Where a uprobe and the kernel's ref_ctr_offset would go.
	text, probesSec := f.Section(".text"), f.Section(".probes")
	for _, p := range probes {
		loc, err := VaddrToFileOffset(f, p.Location)
		if err != nil || loc < text.Offset || loc >= text.Offset+text.Size {
			t.Errorf("%v: location file offset %#x, %v; want inside .text", p, loc, err)
		}
		sem, err := VaddrToFileOffset(f, p.Semaphore)
		if err != nil || sem < probesSec.Offset || sem >= probesSec.Offset+probesSec.Size {
			t.Errorf("%v: semaphore file offset %#x, %v; want inside .probes [%#x, %#x)",
				p, sem, err, probesSec.Offset, probesSec.Offset+probesSec.Size)
		}
		if sem == p.Semaphore {
			t.Errorf("%v: semaphore file offset equals its vaddr; the data segment's differ", p)
		}
	}
}

// readelf (binutils) is an independent reader of the same notes: every field
// it prints must match ours, in order, for each PHP binary on the machine.
func TestReadProbesMatchesReadelf(t *testing.T) {
	if _, err := exec.LookPath("readelf"); err != nil {
		t.Skip("readelf not installed")
	}
	for _, path := range []string{phpFPM, phpCLI, modPHP} {
		t.Run(filepath.Base(path), func(t *testing.T) {
			requireFile(t, path)
			probes, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			want := readelfProbes(t, path)
			if len(probes) != len(want) || len(want) == 0 {
				t.Fatalf("%d probes, readelf lists %d", len(probes), len(want))
			}
			for i, p := range probes {
				got := Probe{Provider: p.Provider, Name: p.Name, Location: p.Location,
					Base: p.Base, Semaphore: p.Semaphore, RawArgs: p.RawArgs}
				if !reflect.DeepEqual(got, want[i]) {
					t.Errorf("probe %d:\n got %+v\nwant %+v", i, got, want[i])
				}
				if p.ArgsErr != nil || len(p.Args) != len(strings.Fields(p.RawArgs)) {
					t.Errorf("probe %d %v: args %v from %q, err %v", i, p, p.Args, p.RawArgs, p.ArgsErr)
				}
			}
		})
	}
}

func TestReadProbesWithoutNotesSection(t *testing.T) {
	f := testELF{machine: x86, sections: []testSection{{".text", elf.SHT_PROGBITS, 0x1000, []byte{0x90}}}}.open(t)
	probes, err := ReadProbes(f)
	if probes != nil || err != nil {
		t.Errorf("got %v, %v; want nil, nil", probes, err)
	}
}

func TestReadProbesPrelinkAdjustment(t *testing.T) {
	for _, tt := range []struct {
		name        string
		sectionBase uint64
		shift       int64
	}{
		{"moved up", 0x6000, 0x2000},
		{"moved down", 0x3000, -0x1000},
		{"not moved", 0x4000, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			notes := slices.Concat(sdtNote(8, 0x1000, 0x4000, 0x8000, "php", "a", ""),
				sdtNote(8, 0x1100, 0x4000, 0, "php", "b", ""))
			f := testELF{machine: x86, sections: []testSection{
				{notesSection, elf.SHT_NOTE, 0, notes},
				{baseSection, elf.SHT_PROGBITS, tt.sectionBase, []byte{0}},
			}}.open(t)
			probes, err := ReadProbes(f)
			if err != nil {
				t.Fatal(err)
			}
			shift := uint64(tt.shift)
			if probes[0].Location != 0x1000+shift || probes[0].Semaphore != 0x8000+shift || probes[0].Base != 0x4000 {
				t.Errorf("a: %+v, want location and semaphore moved by %d, Base as recorded", probes[0], tt.shift)
			}
			if probes[1].Location != 0x1100+shift || probes[1].Semaphore != 0 {
				t.Errorf("b: %+v, want location moved by %d and no semaphore", probes[1], tt.shift)
			}
		})
	}
}

// ELFCLASS32 files carry 4-byte addresses. x32 (EM_X86_64 in a 32-bit file)
// runs on the x86-64 kernel, so its args use the 64-bit pt_regs; i386's
// layout is not supported, which keeps the probe but marks its args.
func TestReadProbesELF32(t *testing.T) {
	notes := sdtNote(4, 0x8048100, 0x8049000, 0x804a000, "php", "function__entry", "-4@%eax 4@8(%esp)")
	sections := []testSection{
		{notesSection, elf.SHT_NOTE, 0, notes},
		{baseSection, elf.SHT_PROGBITS, 0x8049010, []byte{0}},
	}
	probes, err := ReadProbes(testELF{class: elf.ELFCLASS32, machine: elf.EM_X86_64, sections: sections}.open(t))
	if err != nil {
		t.Fatal(err)
	}
	want := Probe{Provider: "php", Name: "function__entry", Location: 0x8048110, Base: 0x8049000,
		Semaphore: 0x804a010, RawArgs: "-4@%eax 4@8(%esp)", Args: []Arg{
			{Size: 4, Signed: true, Kind: ArgReg, Reg: "rax", RegOffset: 80},
			{Size: 4, Kind: ArgRegDeref, Reg: "rsp", RegOffset: 152, Value: 8},
		}}
	if len(probes) != 1 || !reflect.DeepEqual(probes[0], want) {
		t.Errorf("x32:\n got %+v\nwant %+v", probes, want)
	}

	probes, err = ReadProbes(testELF{class: elf.ELFCLASS32, machine: elf.EM_386, sections: sections}.open(t))
	if err != nil || len(probes) != 1 || probes[0].Location != 0x8048110 || !errors.Is(probes[0].ArgsErr, ErrUnsupported) {
		t.Errorf("i386: got %+v, %v; want the probe with an ErrUnsupported ArgsErr", probes, err)
	}
}

func TestReadProbesErrorNamesNote(t *testing.T) {
	notes := slices.Concat(sdtNote(8, 1, 2, 3, "php", "request__startup", "8@%rax"),
		sdtNote(8, 1, 2, 3, "php", "error", "8@%rcx 8@(%rsi"))
	_, err := ReadProbes(testELF{machine: x86, sections: []testSection{{notesSection, elf.SHT_NOTE, 0, notes}}}.open(t))
	var noteErr *NoteError
	if !errors.As(err, &noteErr) || !strings.HasPrefix(err.Error(), "usdt: note 1 (php:error)") {
		t.Errorf("error %v, want a *NoteError naming note 1 (php:error)", err)
	}
}

func TestOpen(t *testing.T) {
	if _, err := Open(filepath.Join(t.TempDir(), "missing")); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("missing file: error %v, want one naming the path", err)
	}
	notELF := filepath.Join(t.TempDir(), "script.php")
	if err := os.WriteFile(notELF, []byte("<?php echo 1;\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(notELF); err == nil || !strings.Contains(err.Error(), "not a readable ELF file") {
		t.Errorf("non-ELF: error %v", err)
	}
	if probes, err := Open("/bin/true"); err != nil || probes != nil {
		t.Errorf("/bin/true: got %v, %v; want no probes and no error", probes, err)
	}
}

func readelfProbes(t *testing.T, path string) []Probe {
	t.Helper()
	out, err := exec.Command("readelf", "-n", "--wide", path).Output()
	if err != nil {
		t.Fatalf("readelf -n %s: %v", path, err)
	}
	var probes []Probe
	inProbe := false
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		// --wide puts "Provider: php" on the note's header line after a tab.
		line := sc.Text()
		if strings.Contains(line, "NT_") {
			inProbe = strings.Contains(line, "NT_STAPSDT")
			if inProbe {
				_, provider, _ := strings.Cut(line, "Provider: ")
				probes = append(probes, Probe{Provider: strings.TrimSpace(provider)})
			}
			continue
		}
		if !inProbe {
			continue
		}
		line = strings.TrimSpace(line)
		key, value, _ := strings.Cut(line, ": ")
		switch key {
		case "Name":
			probes[len(probes)-1].Name = value
		case "Location":
			p := &probes[len(probes)-1]
			for _, field := range strings.Split(line, ", ") {
				k, v, _ := strings.Cut(field, ": ")
				n, err := strconv.ParseUint(strings.TrimPrefix(v, "0x"), 16, 64)
				if err != nil {
					t.Fatalf("readelf line %q: %v", line, err)
				}
				switch k {
				case "Location":
					p.Location = n
				case "Base":
					p.Base = n
				case "Semaphore":
					p.Semaphore = n
				}
			}
		case "Arguments":
			probes[len(probes)-1].RawArgs = value
		}
	}
	return probes
}

func hasArg(probes []Probe, want Arg) bool {
	for _, p := range probes {
		for _, a := range p.Args {
			if a == want {
				return true
			}
		}
	}
	return false
}

func keys[V any](m map[string]V) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}
