package phpfuncs

import (
	"debug/elf"
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/tusk-php/tusk/pkg/phpoffsets"
)

// fakeMem is synthetic process memory: readable segments, everything else
// unmapped. It counts what is read so tests can bound it.
type fakeMem struct {
	segs      []fakeSeg
	reads     int
	bytesRead int
	maxRead   int
	// hook, when set, runs before every read (to change memory under the walk).
	hook func(addr uint64, n int)
}

type fakeSeg struct {
	base uint64
	data []byte
}

var errUnmapped = fmt.Errorf("unmapped")

func (f *fakeMem) ReadAt(addr uint64, buf []byte) error {
	f.reads++
	f.bytesRead += len(buf)
	f.maxRead = max(f.maxRead, len(buf))
	if f.hook != nil {
		f.hook(addr, len(buf))
	}
	for _, s := range f.segs {
		if addr >= s.base && addr-s.base <= uint64(len(s.data)) && uint64(len(buf)) <= uint64(len(s.data))-(addr-s.base) {
			copy(buf, s.data[addr-s.base:])
			return nil
		}
	}
	return fmt.Errorf("read %d bytes at %#x: %w", len(buf), addr, errUnmapped)
}

// image builds PHP engine structures in one segment, laid out with the real
// 8.2 offsets.
type image struct {
	t    testing.TB
	l    layout
	base uint64
	mem  []byte
}

const imageBase = 0x7f0000100000

func newImage(t testing.TB) *image {
	t.Helper()
	return &image{t: t, l: testLayout(t), base: imageBase}
}

func testOffsets(t testing.TB) *phpoffsets.Offsets {
	t.Helper()
	o, err := phpoffsets.Lookup("8.2", elf.EM_X86_64)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func testLayout(t testing.TB) layout {
	t.Helper()
	l, err := newLayout(testOffsets(t))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// alloc reserves n zeroed bytes, 16-aligned, and returns their address.
func (im *image) alloc(n int) uint64 {
	for len(im.mem)%16 != 0 {
		im.mem = append(im.mem, 0)
	}
	addr := im.base + uint64(len(im.mem))
	im.mem = append(im.mem, make([]byte, n)...)
	return addr
}

func (im *image) put64(addr, v uint64) {
	binary.LittleEndian.PutUint64(im.mem[addr-im.base:], v)
}

func (im *image) put32(addr uint64, v uint32) {
	binary.LittleEndian.PutUint32(im.mem[addr-im.base:], v)
}

func (im *image) put8(addr uint64, v byte) { im.mem[addr-im.base] = v }

// str is a zend_string.
func (im *image) str(s string) uint64 {
	a := im.alloc(int(im.l.strVal) + len(s) + 1)
	im.put64(a+8, im.l.hashKey(s)) // zend_string.h
	im.put64(a+im.l.strLen, uint64(len(s)))
	copy(im.mem[a+im.l.strVal-im.base:], s)
	return a
}

// fn is a zend_function of the given type (1 internal, 2 user).
func (im *image) fn(typ byte, handler uint64) uint64 {
	a := im.alloc(int(im.l.fnModule) + 16)
	im.put8(a+im.l.fnType, typ)
	im.put64(a+im.l.fnHandler, handler)
	im.put64(a+im.l.fnModule, 0x5555)
	return a
}

// entry is one bucket: key → ptr; undef marks a deleted slot.
type entry struct {
	key   string
	ptr   uint64
	undef bool
}

// table fills the HashTable at ht (already allocated, maybe embedded).
func (im *image) table(ht uint64, entries []entry) {
	ar := im.alloc(len(entries) * int(im.l.bucketSize))
	for i, e := range entries {
		b := ar + uint64(i)*im.l.bucketSize
		im.put64(b, e.ptr)
		if !e.undef {
			im.put8(b+im.l.zvalType, im.l.isPtr)
		}
		im.put64(b+im.l.bucketH, im.l.hashKey(e.key))
		im.put64(b+im.l.bucketKey, im.str(e.key))
	}
	im.put64(ht+im.l.htArData, ar)
	im.put32(ht+im.l.htNumUsed, uint32(len(entries)))
}

func (im *image) newTable(entries []entry) uint64 {
	ht := im.alloc(56)
	im.table(ht, entries)
	return ht
}

// class is a zend_class_entry with its methods.
func (im *image) class(methods []entry) uint64 {
	ce := im.alloc(int(im.l.ceFunctionTable) + 56)
	im.table(ce+im.l.ceFunctionTable, methods)
	return ce
}

// globals are executor_globals and compiler_globals pointing at the two
// tables, as in a process that has started a request.
func (im *image) globals(functions, classes uint64) globals {
	eg := im.alloc(int(max(im.l.egFunctionTable, im.l.egClassTable)) + 8)
	im.put64(eg+im.l.egFunctionTable, functions)
	im.put64(eg+im.l.egClassTable, classes)
	cg := im.alloc(int(max(im.l.cgFunctionTable, im.l.cgClassTable)) + 8)
	im.put64(cg+im.l.cgFunctionTable, functions)
	im.put64(cg+im.l.cgClassTable, classes)
	return globals{eg: eg, cg: cg}
}

func (im *image) reader() *fakeMem {
	return &fakeMem{segs: []fakeSeg{{base: im.base, data: im.mem}}}
}

// Handler addresses used by the standard image.
const (
	hStrlen      = 0x55550000_1000
	hQuery       = 0x7f00_1111_0000
	hPrepare     = 0x7f00_1111_0100
	hPDOQuery    = 0x7f00_2222_0000
	hPDOExecute  = 0x7f00_2222_0100
	hFileGetCont = 0x55550000_2000
)

// standardImage is a small but realistic engine: functions with a deleted
// slot and a user function, classes with a method alias.
func standardImage(t testing.TB) (*image, globals) {
	im := newImage(t)
	// Enough fillers that reading anything per bucket would show.
	var fillers, fillerClasses []entry
	for i := range 400 {
		fillers = append(fillers, entry{key: fmt.Sprintf("filler_%d", i), ptr: im.fn(1, 0x55550001_0000+uint64(i)*16)})
	}
	for i := range 100 {
		fillerClasses = append(fillerClasses, entry{key: fmt.Sprintf("fillerclass%d", i), ptr: im.class(nil)})
	}
	functions := im.newTable(append([]entry{
		{key: "zend_version", ptr: im.fn(1, 0x55550000_0100)},
		{key: "strlen", ptr: im.fn(1, hStrlen)},
		{key: "mysqli_query", ptr: im.fn(1, 0xdead), undef: true}, // deleted earlier copy
		{key: "mysqli_query", ptr: im.fn(1, hQuery)},
		{key: "mysqli_prepare", ptr: im.fn(1, hPrepare)},
		{key: "file_get_contents", ptr: im.fn(1, hFileGetCont)},
		{key: "my_user_function", ptr: im.fn(2, 0)},
	}, fillers...))
	mysqli := im.class([]entry{
		{key: "__construct", ptr: im.fn(1, 0x7f00_1111_0200)},
		{key: "query", ptr: im.fn(1, hQuery)}, // ZEND_ME_MAPPING(query, mysqli_query)
		{key: "prepare", ptr: im.fn(1, hPrepare)},
	})
	pdo := im.class([]entry{
		{key: "__construct", ptr: im.fn(1, 0x7f00_2222_0200)},
		{key: "query", ptr: im.fn(1, hPDOQuery)},
	})
	stmt := im.class([]entry{{key: "execute", ptr: im.fn(1, hPDOExecute)}})
	empty := im.class(nil)
	classes := im.newTable(append(fillerClasses,
		entry{key: "stdclass", ptr: im.class(nil)},
		entry{key: "mysqli", ptr: mysqli},
		entry{key: "pdo", ptr: pdo},
		entry{key: "pdostatement", ptr: stmt},
		entry{key: "nomethods", ptr: empty},
	))
	return im, im.globals(functions, classes)
}
