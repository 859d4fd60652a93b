package phpfuncs

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// elfSym is a dynamic symbol of a fake shared object.
type elfSym struct {
	name    string
	value   uint64
	defined bool // false: an import (SHN_UNDEF)
}

// fakeSharedObject is the smallest ELF shared object debug/elf reads the
// dynamic symbols of: .text, .dynstr, .dynsym and .shstrtab, one PT_LOAD
// that maps the whole file at address 0.
func fakeSharedObject(t testing.TB, syms ...elfSym) []byte {
	return fakeELF(t, elfSpec{syms: syms})
}

// elfSpec describes a fake ELF file.
type elfSpec struct {
	syms []elfSym
	// starts, when set, are the function starts of a .eh_frame_hdr
	// (PT_GNU_EH_FRAME).
	starts []uint64
	// loadSize, when set, is the executable PT_LOAD's size (it may say more
	// than the file holds: nothing reads the code).
	loadSize uint64
}

func fakeELF(t testing.TB, spec elfSpec) []byte {
	t.Helper()
	const (
		ehSize  = 64
		phSize  = 56
		shSize  = 64
		symSize = 24
	)
	dynstr := []byte{0}
	var dynsym bytes.Buffer
	binary.Write(&dynsym, binary.LittleEndian, elf.Sym64{}) // the null symbol
	for _, s := range spec.syms {
		sym := elf.Sym64{Name: uint32(len(dynstr)), Info: elf.ST_INFO(elf.STB_GLOBAL, elf.STT_FUNC), Value: s.value}
		if s.defined {
			sym.Shndx = 1 // .text
			sym.Size = 8
		}
		dynstr = append(append(dynstr, s.name...), 0)
		binary.Write(&dynsym, binary.LittleEndian, sym)
	}
	shstrtab := []byte("\x00.text\x00.dynstr\x00.dynsym\x00.shstrtab\x00")
	name := func(s string) uint32 { return uint32(bytes.Index(shstrtab, []byte(s+"\x00"))) }
	text := bytes.Repeat([]byte{0xc3}, 64) // ret

	phnum := 1
	if spec.starts != nil {
		phnum = 2
	}
	align := func(n int) int { return (n + 7) &^ 7 }
	textOff := ehSize + phnum*phSize
	dynstrOff := textOff + len(text)
	dynsymOff := align(dynstrOff + len(dynstr))
	shstrOff := dynsymOff + dynsym.Len()
	ehOff := align(shstrOff + len(shstrtab))
	var eh bytes.Buffer
	if spec.starts != nil {
		// version 1, eh_frame_ptr pcrel|sdata4, count udata4, table
		// datarel|sdata4; entries relative to the header's address.
		eh.Write([]byte{1, 0x1b, 0x03, 0x3b})
		binary.Write(&eh, binary.LittleEndian, int32(0))
		binary.Write(&eh, binary.LittleEndian, uint32(len(spec.starts)))
		for _, a := range spec.starts {
			binary.Write(&eh, binary.LittleEndian, int32(int64(a)-int64(ehOff)))
			binary.Write(&eh, binary.LittleEndian, int32(0))
		}
	}
	shOff := align(ehOff + eh.Len())
	out := make([]byte, shOff+5*shSize)

	hdr := elf.Header64{
		Type: uint16(elf.ET_DYN), Machine: uint16(elf.EM_X86_64), Version: uint32(elf.EV_CURRENT),
		Phoff: ehSize, Shoff: uint64(shOff), Ehsize: ehSize, Phentsize: phSize, Phnum: uint16(phnum),
		Shentsize: shSize, Shnum: 5, Shstrndx: 4,
	}
	copy(hdr.Ident[:], elf.ELFMAG)
	hdr.Ident[elf.EI_CLASS], hdr.Ident[elf.EI_DATA], hdr.Ident[elf.EI_VERSION] = byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), byte(elf.EV_CURRENT)
	put := func(off int, v any) {
		var b bytes.Buffer
		binary.Write(&b, binary.LittleEndian, v)
		copy(out[off:], b.Bytes())
	}
	put(0, hdr)
	loadSize := uint64(len(out))
	if spec.loadSize != 0 {
		loadSize = spec.loadSize
	}
	put(ehSize, elf.Prog64{Type: uint32(elf.PT_LOAD), Flags: uint32(elf.PF_R | elf.PF_X), Filesz: loadSize, Memsz: loadSize, Align: 0x1000})
	if spec.starts != nil {
		put(ehSize+phSize, elf.Prog64{Type: uint32(elf.PT_GNU_EH_FRAME), Flags: uint32(elf.PF_R), Off: uint64(ehOff), Vaddr: uint64(ehOff),
			Paddr: uint64(ehOff), Filesz: uint64(eh.Len()), Memsz: uint64(eh.Len()), Align: 4})
	}
	copy(out[textOff:], text)
	copy(out[dynstrOff:], dynstr)
	copy(out[dynsymOff:], dynsym.Bytes())
	copy(out[shstrOff:], shstrtab)
	copy(out[ehOff:], eh.Bytes())
	sections := []elf.Section64{
		{},
		{Name: name(".text"), Type: uint32(elf.SHT_PROGBITS), Flags: uint64(elf.SHF_ALLOC | elf.SHF_EXECINSTR), Addr: uint64(textOff), Off: uint64(textOff), Size: uint64(len(text)), Addralign: 16},
		{Name: name(".dynstr"), Type: uint32(elf.SHT_STRTAB), Flags: uint64(elf.SHF_ALLOC), Addr: uint64(dynstrOff), Off: uint64(dynstrOff), Size: uint64(len(dynstr)), Addralign: 1},
		{Name: name(".dynsym"), Type: uint32(elf.SHT_DYNSYM), Flags: uint64(elf.SHF_ALLOC), Addr: uint64(dynsymOff), Off: uint64(dynsymOff), Size: uint64(dynsym.Len()), Link: 2, Info: 1, Addralign: 8, Entsize: symSize},
		{Name: name(".shstrtab"), Type: uint32(elf.SHT_STRTAB), Off: uint64(shstrOff), Size: uint64(len(shstrtab)), Addralign: 1},
	}
	for i, s := range sections {
		put(shOff+i*shSize, s)
	}
	return out
}

// hostileMaps is a php-fpm worker that also maps libc, a file it wrote,
// an extension-looking library that only imports get_module, and JIT code.
const hostileMaps = `55d0c0800000-55d0c0a00000 r--p 00000000 fe:01 100 /usr/sbin/php-fpm8.2
55d0c0a00000-55d0c0c00000 r-xp 00200000 fe:01 100 /usr/sbin/php-fpm8.2
55d0c0c00000-55d0c0d00000 rw-p 00400000 fe:01 100 /usr/sbin/php-fpm8.2
55d0c1000000-55d0c1100000 rw-p 00000000 00:00 0 [heap]
7f0011100000-7f0011200000 r-xp 00000000 fe:01 200 /usr/lib/php/20220829/mysqli.so
7f0022200000-7f0022300000 r-xp 00000000 fe:01 250 /usr/lib/php/20220829/pdo.so
7f0033300000-7f0033400000 r-xp 00000000 fe:01 300 /usr/lib/x86_64-linux-gnu/libc.so.6
7f0044400000-7f0044500000 r-xp 00000000 fe:01 400 /tmp/payload
7f0055500000-7f0055600000 r-xp 00000000 fe:01 500 /usr/lib/libimports.so
7f0066600000-7f0066700000 r-xp 00000000 00:00 0
`

// hostileProc is hostileMaps as a fake /proc/77, with ELF files behind the
// executable mappings (php-fpm itself is recognised by its path and inode;
// only its function starts are read of its file).
func hostileProc(t *testing.T) string {
	t.Helper()
	files := map[string][]byte{
		"55d0c0a00000-55d0c0c00000": fakeELF(t, elfSpec{starts: []uint64{0x1000, 0x212340, 0x3ff000}, loadSize: 0x400000}),
		// With function starts: mysqli's are checked against them.
		"7f0011100000-7f0011200000": fakeELF(t, elfSpec{starts: []uint64{0x40, 0x48, 0x80},
			syms: []elfSym{{"get_module", 0x80, true}, {"zend_register_functions", 0, false}}}),
		// Without: pdo's cannot be, and are taken on the mapping checks.
		"7f0022200000-7f0022300000": fakeSharedObject(t, elfSym{"get_module", 0x48, true}),
		"7f0033300000-7f0033400000": fakeSharedObject(t, elfSym{"getpid", 0x40, true}, elfSym{"__gconv_get_modules_db", 0x48, true}),
		"7f0044400000-7f0044500000": []byte("#!/bin/sh\necho not an ELF file\n"),
		"7f0055500000-7f0055600000": fakeSharedObject(t, elfSym{"get_module", 0, false}, elfSym{"helper", 0x40, true}),
	}
	var names []string
	for n := range files {
		names = append(names, n)
	}
	root := fakeProc(t, "77", hostileMaps, names, nil)
	for n, data := range files {
		if err := os.WriteFile(filepath.Join(root, "77", "map_files", n), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("/usr/sbin/php-fpm8.2", filepath.Join(root, "77", "exe")); err != nil {
		t.Fatal(err)
	}
	return root
}

// Handler addresses in hostileMaps.
const (
	hInPHP      = 0x55d0c0a12340
	hInMysqli   = 0x7f0011100040
	hMidMysqli  = 0x7f0011100041 // one byte into that function
	hInPDO      = 0x7f0022200048
	hInLibc     = 0x7f0033300040 // getpid
	hInPayload  = 0x7f0044400000
	hInImporter = 0x7f0055500040
	hInJIT      = 0x7f0066600100
	hInHeap     = 0x55d0c1000010
	hInData     = 0x55d0c0c00010
)

func TestRefusesHandlersOutsidePHPAndItsExtensions(t *testing.T) {
	root := hostileProc(t)
	maps, err := readMaps(root, 77)
	if err != nil {
		t.Fatal(err)
	}
	got, rejected, err := handlers(maps, map[string]uint64{
		"file_get_contents":     hInPHP,
		"mysqli_query":          hInMysqli,
		"pdo::query":            hInPDO,
		"libc":                  hInLibc,
		"payload":               hInPayload,
		"imports_get_module":    hInImporter,
		"jit":                   hInJIT,
		"heap":                  hInHeap,
		"data":                  hInData,
		"unmapped":              0x1000,
		"pdostatement::execute": hInPDO,
		"mid_function":          hMidMysqli,
		"mid_php":               hInPHP + 4,
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"file_get_contents", "mysqli_query", "pdo::query", "pdostatement::execute"} {
		if _, ok := got[name]; !ok {
			t.Errorf("%s refused", name)
		}
	}
	if h := got["mysqli_query"]; h.Module != "/usr/lib/php/20220829/mysqli.so" || h.FileOffset != 0x40 ||
		h.OpenPath != root+"/77/map_files/7f0011100000-7f0011200000" {
		t.Errorf("mysqli_query: %+v", h)
	}
	if h := got["file_get_contents"]; h.Module != "/usr/sbin/php-fpm8.2" || h.FileOffset != 0x212340 {
		t.Errorf("file_get_contents: %+v", h)
	}
	want := map[string]struct{ module, reason string }{
		"libc":               {"/usr/lib/x86_64-linux-gnu/libc.so.6", "exports no get_module"},
		"payload":            {"/tmp/payload", "readable ELF"},
		"imports_get_module": {"/usr/lib/libimports.so", "exports no get_module"},
		"jit":                {"", "backed by no file"},
		"heap":               {"", "not executable"},
		"data":               {"/usr/sbin/php-fpm8.2", "not executable"},
		"unmapped":           {"", "nothing is mapped"},
		"mid_function":       {"/usr/lib/php/20220829/mysqli.so", "file offset 0x41 is not where a function starts"},
		"mid_php":            {"/usr/sbin/php-fpm8.2", "file offset 0x212344 is not where a function starts"},
	}
	if len(got) != 4 || len(rejected) != len(want) {
		t.Errorf("%d accepted, %d refused: %+v", len(got), len(rejected), rejected)
	}
	for i, r := range rejected {
		t.Logf("%v", r.Error())
		w, ok := want[r.Name]
		if !ok || r.Module != w.module || !strings.Contains(r.Reason, w.reason) {
			t.Errorf("refused %+v, want %+v", r, w)
		}
		if i > 0 && rejected[i-1].Name >= r.Name {
			t.Errorf("refusals not sorted by name: %s before %s", rejected[i-1].Name, r.Name)
		}
		if !strings.Contains(r.Error(), r.Name) || !strings.Contains(r.Error(), "refused") {
			t.Errorf("message %q", r.Error())
		}
	}

	// The verdicts are cached per file: another process (here: the same
	// maps read again) costs no ELF parsing.
	before := elfReads.Load()
	maps, err = readMaps(root, 77)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := handlers(maps, map[string]uint64{"mysqli_query": hInMysqli, "libc": hInLibc, "pdo::query": hInPDO}); err != nil {
		t.Fatal(err)
	}
	if n := elfReads.Load() - before; n != 0 {
		t.Errorf("%d ELF files parsed again", n)
	}
}

// TestForgedFunctionTableIsRefused is Resolve's walk and placement on a
// worker whose function table was rewritten: mysqli_query's handler points
// at libc's getpid, PDO::query's at a file the process mapped. The forged
// entries are refused; the untouched ones (mysqli::query keeps its own
// zend_function) still resolve.
func TestForgedFunctionTableIsRefused(t *testing.T) {
	im := newImage(t)
	functions := im.newTable([]entry{
		{key: "strlen", ptr: im.fn(1, hInPHP)},
		{key: "mysqli_query", ptr: im.fn(1, hInLibc)}, // forged
		{key: "mysqli_prepare", ptr: im.fn(1, hInMysqli+8)},
	})
	classes := im.newTable([]entry{
		{key: "mysqli", ptr: im.class([]entry{{key: "query", ptr: im.fn(1, hInMysqli)}})},
		{key: "pdo", ptr: im.class([]entry{{key: "query", ptr: im.fn(1, hInPayload)}})}, // forged
		{key: "pdostatement", ptr: im.class([]entry{{key: "execute", ptr: im.fn(1, hInPDO)}})},
	})
	g := im.globals(functions, classes)
	addrs, err := resolveHandlers(im.reader(), g, im.l,
		[]string{"strlen", "mysqli_query", "mysqli_prepare", "mysqli::query", "pdo::query", "pdostatement::execute"})
	if err != nil {
		t.Fatal(err)
	}
	maps, err := readMaps(hostileProc(t), 77)
	if err != nil {
		t.Fatal(err)
	}
	got, rejected, err := handlers(maps, addrs)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"strlen", "mysqli_prepare", "mysqli::query", "pdostatement::execute"} {
		if _, ok := got[name]; !ok {
			t.Errorf("%s refused", name)
		}
	}
	if len(got) != 4 || len(rejected) != 2 || rejected[0].Name != "mysqli_query" || rejected[1].Name != "pdo::query" {
		t.Fatalf("accepted %v, refused %+v", got, rejected)
	}
	if r := rejected[0]; r.Addr != hInLibc || r.Module != "/usr/lib/x86_64-linux-gnu/libc.so.6" {
		t.Errorf("mysqli_query refusal %+v", r)
	}
}
