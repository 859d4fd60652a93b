package phpfuncs

import (
	"debug/elf"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
)

// What Resolve hands out is where the agent puts uprobes, and a uprobe
// patches the file for every process that maps it. The handler addresses
// come from the memory of a process that may have run hostile code (a
// php-fpm worker with FFI, or a memory-safety bug, can rewrite its
// function tables), so an address is taken only where PHP's handlers can
// be: at the start of a function of the PHP binary itself, or of a PHP
// extension, which every PHP loads through its exported get_module.
// Anything else (libc, the dynamic loader, a file the process mapped
// itself, JIT memory, the middle of PHP's own code) is a Rejected, never a
// Handler.

// Rejected is a handler the process's memory named but that Tusk will not
// hook, and why.
type Rejected struct {
	Name string // as asked: "mysqli_query", "pdo::query"
	Addr uint64 // the address the process's memory gave
	// Module is the file mapped at Addr as the process sees it, "" when no
	// file is.
	Module string
	Reason string
}

func (r *Rejected) Error() string {
	where := r.Module
	if where == "" {
		where = "no file"
	}
	return fmt.Sprintf("%s: refused handler %#x in %s: %s", r.Name, r.Addr, where, r.Reason)
}

// extensionSymbol is what every PHP extension exports: PHP's dl() and
// php_load_extension() call it to get the zend_module_entry.
const extensionSymbol = "get_module"

// phpBinary returns the PHP binary's mapping in the process: the first one
// at file offset 0 of the file /proc/<pid>/exe names, as procmem.LoadBias
// finds it (the same mapping the load bias, and so executor_globals, come
// from). Its path and inode identify the binary's other mappings. nil when
// it is not mapped.
func (mf *mapsFile) phpBinary() *mapping {
	if mf.exeDone {
		return mf.exe
	}
	mf.exeDone = true
	link, err := os.Readlink(fmt.Sprintf("%s/%d/exe", mf.procRoot, mf.pid))
	if err != nil {
		return nil
	}
	path, deleted := strings.CutSuffix(link, " (deleted)")
	for i := range mf.list {
		if m := &mf.list[i]; m.path == path && m.deleted == deleted && m.offset == 0 && m.file() {
			mf.exe = m
			break
		}
	}
	return mf.exe
}

// hookable tells why the code at addr must not be hooked, "" when it may:
// addr is in an executable mapping of the PHP binary, or of a shared object
// that exports get_module, and it is where a function starts. err is for
// what stops the check itself (the process is gone, the file cannot be
// opened).
//
// The last condition is for what the first ones leave to a forger: an
// offset of its choosing inside PHP's own code. A uprobe there, in the
// middle of an instruction, would corrupt that instruction for every process
// that maps the file (the PHP binary and extensions are shared by every
// pool, and by php-cli). Function starts come from the file's .eh_frame_hdr
// (PT_GNU_EH_FRAME), which every x86-64 and arm64 build has: the unwinding
// ABI needs it. A file without one is taken on the mapping checks alone.
func (mf *mapsFile) hookable(addr uint64) (reason string, err error) {
	m := mf.find(addr)
	switch {
	case m == nil:
		return "nothing is mapped there", nil
	case !m.exec():
		return "not executable memory", nil
	case !m.file():
		return "executable memory backed by no file (JIT or code the process wrote)", nil
	}
	exe := mf.phpBinary()
	isPHP := exe != nil && m.path == exe.path && m.inode == exe.inode && m.deleted == exe.deleted
	open, err := mf.openPath(m)
	if err != nil {
		return "", err
	}
	facts, err := readCodeFacts(open, isPHP)
	if err != nil {
		if isPHP {
			return fmt.Sprintf("the PHP binary cannot be read as ELF (%v)", err), nil
		}
		return fmt.Sprintf("neither the PHP binary nor a readable ELF shared object (%v)", err), nil
	}
	if !isPHP && !facts.extension {
		return "neither the PHP binary nor a PHP extension (the file exports no " + extensionSymbol + ")", nil
	}
	if facts.starts == nil {
		return "", nil // no unwind table to check against
	}
	off := addr - m.start + m.offset
	vaddr, ok := facts.vaddr(off)
	if !ok {
		return fmt.Sprintf("file offset %#x is in no executable segment of the file", off), nil
	}
	if !facts.startsFunction(vaddr) {
		return fmt.Sprintf("file offset %#x is not where a function starts (per the file's .eh_frame_hdr)", off), nil
	}
	return "", nil
}

// fileIdentity tells files apart, and a file from itself rewritten in place.
type fileIdentity struct {
	dev, ino    uint64
	size, mtime int64
}

// codeFacts is what hookable needs to know of a file.
type codeFacts struct {
	extension bool // it exports get_module
	// starts are the link-time addresses where functions start, less base,
	// sorted; nil when the file has no .eh_frame_hdr, or when they were not
	// asked for (withStarts).
	starts     []int32
	base       uint64
	withStarts bool
	loads      []elf.ProgHeader // executable PT_LOAD segments
}

// vaddr turns a file offset into a link-time address in an executable
// segment.
func (c *codeFacts) vaddr(off uint64) (uint64, bool) {
	for _, p := range c.loads {
		if p.Off <= off && off-p.Off < p.Filesz {
			return p.Vaddr + off - p.Off, true
		}
	}
	return 0, false
}

func (c *codeFacts) startsFunction(vaddr uint64) bool {
	rel := int64(vaddr) - int64(c.base)
	if rel < math.MinInt32 || rel > math.MaxInt32 {
		return false
	}
	_, found := slices.BinarySearch(c.starts, int32(rel))
	return found
}

// codeCache keeps codeFacts per file: every worker of every pool maps the
// same few dozen files. Bounded: a process can map many files, and choose
// them.
var codeCache = struct {
	sync.Mutex
	facts map[fileIdentity]*codeFacts
}{facts: map[fileIdentity]*codeFacts{}}

const maxCachedFiles = 1024

// maxFunctionStarts bounds the unwind table read from one file: PHP has
// ~10,000 entries, an extension hundreds; the largest shared objects
// around (a browser engine) a few hundred thousand.
const maxFunctionStarts = 1 << 19

// elfReads counts the ELF files readCodeFacts parsed (tests check the
// cache).
var elfReads atomic.Int64

// readCodeFacts reads whether the ELF file at path exports get_module as a
// function (.dynsym) and, for extensions or when withStarts, where its
// functions start. The file is opened once, and identified through that
// descriptor, so a path that changes meanwhile cannot pair one file's
// identity with another's answer.
func readCodeFacts(path string, withStarts bool) (*codeFacts, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return nil, errors.New("no file identity")
	}
	id := fileIdentity{dev: uint64(sys.Dev), ino: sys.Ino, size: st.Size(), mtime: st.ModTime().UnixNano()}
	codeCache.Lock()
	c, cached := codeCache.facts[id]
	codeCache.Unlock()
	if cached && (c.withStarts || !withStarts) {
		return c, nil
	}
	elfReads.Add(1)
	ef, err := elf.NewFile(f)
	if err != nil {
		return nil, err
	}
	defer ef.Close()
	c = &codeFacts{}
	syms, err := ef.DynamicSymbols()
	if err != nil && !errors.Is(err, elf.ErrNoSymbols) {
		return nil, err
	}
	for _, s := range syms {
		if s.Name == extensionSymbol && s.Section != elf.SHN_UNDEF && elf.ST_TYPE(s.Info) == elf.STT_FUNC {
			c.extension = true
			break
		}
	}
	for _, p := range ef.Progs {
		if p.Type == elf.PT_LOAD && p.Flags&elf.PF_X != 0 {
			c.loads = append(c.loads, p.ProgHeader)
		}
	}
	if c.extension || withStarts {
		c.withStarts = true
		if c.starts, c.base, err = functionStarts(ef); err != nil {
			return nil, err
		}
	}
	codeCache.Lock()
	if len(codeCache.facts) >= maxCachedFiles {
		clear(codeCache.facts)
	}
	codeCache.facts[id] = c
	codeCache.Unlock()
	return c, nil
}

// DWARF pointer encodings used by .eh_frame_hdr (LSB 4.1, "Exception Frame
// Header").
const (
	dwEhPeUdata4  = 0x03
	dwEhPeSdata4  = 0x0b
	dwEhPePcrel   = 0x10
	dwEhPeDatarel = 0x30
	dwEhPeOmit    = 0xff
)

// functionStarts reads the binary search table of .eh_frame_hdr, the
// segment PT_GNU_EH_FRAME: one entry per FDE, i.e. per function (or cold
// part of one), holding its start relative to the table. It returns those
// starts, sorted, relative to base (the table's address), or nil when the
// file has no such table (or one in an encoding other than the sdata4
// every linker writes, which then cannot be checked).
func functionStarts(ef *elf.File) ([]int32, uint64, error) {
	var hdr *elf.Prog
	for _, p := range ef.Progs {
		if p.Type == elf.PT_GNU_EH_FRAME {
			hdr = p
			break
		}
	}
	if hdr == nil || hdr.Filesz < 12 {
		return nil, 0, nil
	}
	head := make([]byte, 12)
	if _, err := hdr.ReadAt(head, 0); err != nil {
		return nil, 0, fmt.Errorf(".eh_frame_hdr: %w", err)
	}
	version, ptrEnc, countEnc, tableEnc := head[0], head[1], head[2], head[3]
	if version != 1 || countEnc != dwEhPeUdata4 || tableEnc != dwEhPeDatarel|dwEhPeSdata4 ||
		(ptrEnc != dwEhPePcrel|dwEhPeSdata4 && ptrEnc != dwEhPeSdata4 && ptrEnc != dwEhPeUdata4) {
		return nil, 0, nil
	}
	n := uint64(ef.ByteOrder.Uint32(head[8:]))
	if n == 0 || n > maxFunctionStarts || 12+8*n > hdr.Filesz {
		return nil, 0, fmt.Errorf(".eh_frame_hdr: %d entries in %d bytes", n, hdr.Filesz)
	}
	table := make([]byte, 8*n)
	if _, err := hdr.ReadAt(table, 12); err != nil {
		return nil, 0, fmt.Errorf(".eh_frame_hdr: %w", err)
	}
	starts := make([]int32, n)
	for i := range starts {
		starts[i] = int32(ef.ByteOrder.Uint32(table[8*i:]))
	}
	slices.Sort(starts) // sorted by the linker already; cheap to make sure
	return starts, hdr.Vaddr, nil
}
