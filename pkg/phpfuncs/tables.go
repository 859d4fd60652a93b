package phpfuncs

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/tusk-php/tusk/pkg/phpoffsets"
)

// ErrImplausible means what was read from the process does not look like
// PHP's function or class table: wrong offsets for this PHP, a ZTS build, or
// memory that changed under us.
var ErrImplausible = errors.New("implausible PHP engine tables")

// Bounds on what garbage memory can make us allocate or loop over. A
// php-fpm worker with every Debian extension has ~1700 functions and ~400
// classes; a request can add its own (a big framework declares thousands of
// classes), hence the margin.
const (
	maxTableEntries = 1 << 16
	maxNameLen      = 256
	// maxReadTries bounds the re-reads of a table whose bucket array moved
	// (was reallocated) while we copied it.
	maxReadTries = 3
)

// zendInternalFunction is ZEND_INTERNAL_FUNCTION (zend_compile.h), 1 since
// PHP 5.
const zendInternalFunction = 1

// memReader reads the target process's memory; tests feed synthetic memory.
type memReader interface {
	ReadAt(addr uint64, buf []byte) error
}

// layout is the subset of phpoffsets the table walk uses, widened to uint64
// and checked once.
type layout struct {
	egFunctionTable, egClassTable  uint64 // in executor_globals: HashTable *
	cgFunctionTable, cgClassTable  uint64 // in compiler_globals: HashTable *
	htArData, htNumUsed            uint64 // in HashTable
	bucketSize, bucketH, bucketKey uint64
	zvalType                       uint64 // zval.u1.v.type, the low byte of type_info
	ceFunctionTable                uint64 // embedded HashTable in zend_class_entry
	fnType, fnHandler, fnModule    uint64
	strLen, strVal                 uint64 // zend_string
	isPtr, isUndef                 byte
	signedChar                     bool // char is signed in the target's ABI (x86): matters to the hash of non-ASCII names
}

func newLayout(o *phpoffsets.Offsets) (layout, error) {
	if o == nil {
		return layout{}, errors.New("phpfuncs: no struct offsets")
	}
	t, e := o.Tables, o.Executor
	l := layout{
		egFunctionTable: uint64(t.FunctionTable),
		egClassTable:    uint64(t.ClassTable),
		cgFunctionTable: uint64(t.CompilerFunctionTable),
		cgClassTable:    uint64(t.CompilerClassTable),
		htArData:        uint64(t.HashArData),
		htNumUsed:       uint64(t.HashNumUsed),
		bucketSize:      uint64(t.BucketSize),
		bucketKey:       uint64(t.BucketKey),
		zvalType:        uint64(e.ZvalType),
		ceFunctionTable: uint64(t.ClassFunctionTable),
		fnType:          uint64(e.FuncType),
		fnHandler:       uint64(t.InternalHandler),
		fnModule:        uint64(t.InternalModule),
		strLen:          uint64(e.StringLen),
		strVal:          uint64(e.StringVal),
		isPtr:           t.ZvalTypePtr,
		isUndef:         t.ZvalTypeUndef,
		signedChar:      o.Arch == "x86_64" || o.Arch == "i386" || o.Arch == "i686",
	}
	// Bucket is {zval val; zend_ulong h; zend_string *key} in PHP 7.0-8.4:
	// the hash directly precedes the key.
	if l.bucketKey < 16 {
		return layout{}, fmt.Errorf("phpfuncs: offsets for PHP %s: bucket key at %d leaves no room for zval and hash", o.PHP, l.bucketKey)
	}
	l.bucketH = l.bucketKey - 8
	switch {
	case l.egFunctionTable == 0 || l.egClassTable == 0:
		return layout{}, fmt.Errorf("phpfuncs: offsets for PHP %s lack executor_globals.function_table/class_table", o.PHP)
	case l.bucketSize < l.bucketKey+8 || l.bucketSize > 64:
		return layout{}, fmt.Errorf("phpfuncs: offsets for PHP %s: bucket size %d, key at %d", o.PHP, l.bucketSize, l.bucketKey)
	case l.zvalType >= l.bucketH:
		return layout{}, fmt.Errorf("phpfuncs: offsets for PHP %s: zval type at %d overlaps the bucket hash", o.PHP, l.zvalType)
	case l.fnHandler == 0 || l.htNumUsed == 0 || l.strVal == 0 || l.isPtr == 0:
		return layout{}, fmt.Errorf("phpfuncs: offsets for PHP %s lack the tables section", o.PHP)
	}
	return l, nil
}

// hashKey is zend_inline_hash_func: DJBX33A over the bytes (as C chars) with
// the top bit set, as stored in Bucket.h for string keys since PHP 7.0.
func (l *layout) hashKey(s string) uint64 {
	h := uint64(5381)
	for i := 0; i < len(s); i++ {
		c := uint64(s[i])
		if l.signedChar {
			c = uint64(int64(int8(s[i])))
		}
		h = h*33 + c
	}
	return h | 1<<63
}

// bucket is one used slot of a table: its hash, key pointer and the pointer
// its IS_PTR zval holds.
type bucket struct {
	h, key, ptr uint64
}

// walker reads tables from one process.
type walker struct {
	mem memReader
	l   layout
}

func le64(b []byte, off uint64) uint64 { return binary.LittleEndian.Uint64(b[off : off+8]) }
func le32(b []byte, off uint64) uint32 { return binary.LittleEndian.Uint32(b[off : off+4]) }

// readPtr reads one pointer.
func (w *walker) readPtr(addr uint64) (uint64, error) {
	var b [8]byte
	if err := w.mem.ReadAt(addr, b[:]); err != nil {
		return 0, err
	}
	return le64(b[:], 0), nil
}

// tableHeader reads arData and nNumUsed of the HashTable at ht.
func (w *walker) tableHeader(ht uint64) (arData uint64, n uint32, err error) {
	size := max(w.l.htArData+8, w.l.htNumUsed+4)
	b := make([]byte, size)
	if err := w.mem.ReadAt(ht, b); err != nil {
		return 0, 0, err
	}
	return le64(b, w.l.htArData), le32(b, w.l.htNumUsed), nil
}

// buckets copies the used buckets of the HashTable at ht in one read and
// returns those holding an IS_PTR zval with a string key. Deleted (IS_UNDEF)
// and other slots are skipped. A table whose array moves while we read it
// (a worker growing it mid-request) is read again.
func (w *walker) buckets(ht uint64, what string) ([]bucket, error) {
	for try := 0; ; try++ {
		arData, n, err := w.tableHeader(ht)
		if err != nil {
			return nil, fmt.Errorf("%s at %#x: %w", what, ht, err)
		}
		if n == 0 {
			return nil, nil
		}
		if n > maxTableEntries || arData == 0 || arData+uint64(n)*w.l.bucketSize < arData {
			return nil, fmt.Errorf("%s at %#x: %d used buckets at %#x: %w", what, ht, n, arData, ErrImplausible)
		}
		raw := make([]byte, uint64(n)*w.l.bucketSize)
		if err := w.mem.ReadAt(arData, raw); err != nil {
			return nil, fmt.Errorf("%s at %#x: %d buckets at %#x: %w", what, ht, n, arData, err)
		}
		again, _, err := w.tableHeader(ht)
		if err != nil {
			return nil, fmt.Errorf("%s at %#x: %w", what, ht, err)
		}
		if again != arData {
			if try+1 < maxReadTries {
				continue
			}
			return nil, fmt.Errorf("%s at %#x keeps moving (%#x, then %#x): %w", what, ht, arData, again, ErrImplausible)
		}
		var out []bucket
		for off := uint64(0); off < uint64(len(raw)); off += w.l.bucketSize {
			b := raw[off : off+w.l.bucketSize]
			if b[w.l.zvalType] != w.l.isPtr {
				continue // IS_UNDEF (deleted), or not a table of pointers
			}
			bk := bucket{h: le64(b, w.l.bucketH), key: le64(b, w.l.bucketKey), ptr: le64(b, 0)}
			if bk.key == 0 || bk.ptr == 0 {
				continue // numeric key, or a null pointer
			}
			out = append(out, bk)
		}
		return out, nil
	}
}

// keyIs reports whether the zend_string at addr holds exactly name.
func (w *walker) keyIs(addr uint64, name string) (bool, error) {
	b := make([]byte, w.l.strVal+uint64(len(name)))
	if err := w.mem.ReadAt(addr, b); err != nil {
		return false, err
	}
	return le64(b, w.l.strLen) == uint64(len(name)) && string(b[w.l.strVal:]) == name, nil
}

// readKey reads the zend_string at addr, at most maxNameLen bytes of it.
func (w *walker) readKey(addr uint64) (string, error) {
	hdr := make([]byte, w.l.strVal)
	if err := w.mem.ReadAt(addr, hdr); err != nil {
		return "", err
	}
	n := le64(hdr, w.l.strLen)
	if n == 0 || n > maxNameLen {
		return "", fmt.Errorf("key at %#x is %d bytes long: %w", addr, n, ErrImplausible)
	}
	b := make([]byte, n)
	if err := w.mem.ReadAt(addr+w.l.strVal, b); err != nil {
		return "", err
	}
	return string(b), nil
}

// checkHashes makes sure the table's hashes are the ones hashKey computes,
// on its first entry: otherwise every name would look absent. A real
// engine table always passes; garbage almost never does.
func (w *walker) checkHashes(bs []bucket, what string) error {
	if len(bs) == 0 {
		return fmt.Errorf("%s has no entries: %w", what, ErrImplausible)
	}
	key, err := w.readKey(bs[0].key)
	if err != nil {
		return fmt.Errorf("%s: first key: %w", what, err)
	}
	if got := w.l.hashKey(key); got != bs[0].h {
		return fmt.Errorf("%s: key %q has hash %#x, want %#x: %w", what, clip(key), bs[0].h, got, ErrImplausible)
	}
	return nil
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// lookup finds names (lowercase keys) among the buckets: hashes first, then
// the key itself for the few candidates. It returns name → the pointer in
// the bucket's zval.
func (w *walker) lookup(bs []bucket, names []string) (map[string]uint64, error) {
	byHash := make(map[uint64][]string, len(names))
	for _, n := range names {
		if n == "" || len(n) > maxNameLen {
			continue
		}
		h := w.l.hashKey(n)
		byHash[h] = append(byHash[h], n)
	}
	found := map[string]uint64{}
	for _, b := range bs {
		for _, n := range byHash[b.h] {
			if _, dup := found[n]; dup {
				continue
			}
			ok, err := w.keyIs(b.key, n)
			if err != nil {
				return nil, fmt.Errorf("key of %q at %#x: %w", n, b.key, err)
			}
			if ok {
				found[n] = b.ptr
			}
		}
		if len(found) == len(names) {
			break
		}
	}
	return found, nil
}

// handler reads the C handler of the zend_function at fn, 0 when it is not
// an internal function.
func (w *walker) handler(fn uint64) (uint64, error) {
	b := make([]byte, max(w.l.fnType+1, w.l.fnHandler+8, w.l.fnModule+8))
	if err := w.mem.ReadAt(fn, b); err != nil {
		return 0, err
	}
	if b[w.l.fnType] != zendInternalFunction {
		return 0, nil
	}
	return le64(b, w.l.fnHandler), nil
}

// query is a parsed name: a function, or a method of a class.
type query struct {
	class, fn string // lowercase; class "" for a function
}

func parseName(name string) (query, bool) {
	name = strings.ToLower(name)
	if class, method, ok := strings.Cut(name, "::"); ok {
		if class == "" || method == "" || strings.Contains(method, "::") {
			return query{}, false
		}
		return query{class: class, fn: method}, true
	}
	return query{fn: name}, name != ""
}

// globals are the runtime addresses of executor_globals and
// compiler_globals (0: unknown).
type globals struct {
	eg, cg uint64
}

// tables returns the addresses of the function and class tables.
// executor_globals points at them from a process's first request on
// (init_executor); before that (php-fpm's master, and workers that have not
// served a request yet) only compiler_globals does, from engine start-up.
// During a request EG is the one to trust: opcache may swap CG's tables
// while it compiles.
func (w *walker) tables(g globals) (functions, classes uint64, err error) {
	read := func(base, fOff, cOff uint64, what string) error {
		var err error
		if functions, err = w.readPtr(base + fOff); err != nil {
			return fmt.Errorf("%s.function_table: %w", what, err)
		}
		if classes, err = w.readPtr(base + cOff); err != nil {
			return fmt.Errorf("%s.class_table: %w", what, err)
		}
		return nil
	}
	if g.eg != 0 {
		if err := read(g.eg, w.l.egFunctionTable, w.l.egClassTable, "executor_globals"); err != nil {
			return 0, 0, err
		}
		if functions != 0 && classes != 0 {
			return functions, classes, nil
		}
	}
	if g.cg != 0 {
		if err := read(g.cg, w.l.cgFunctionTable, w.l.cgClassTable, "compiler_globals"); err != nil {
			return 0, 0, err
		}
		if functions != 0 && classes != 0 {
			return functions, classes, nil
		}
	}
	return 0, 0, fmt.Errorf("no function and class tables in executor_globals (%#x) or compiler_globals (%#x): %w", g.eg, g.cg, ErrImplausible)
}

// resolveHandlers walks the engine's tables and returns name → handler
// address for the names found as internal functions or methods.
func resolveHandlers(mem memReader, g globals, l layout, names []string) (map[string]uint64, error) {
	w := &walker{mem: mem, l: l}
	funcs := map[string][]string{}              // lowercase function → names asked
	methods := map[string]map[string][]string{} // class → method → names asked
	for _, name := range names {
		q, ok := parseName(name)
		if !ok {
			continue
		}
		if q.class == "" {
			funcs[q.fn] = append(funcs[q.fn], name)
			continue
		}
		if methods[q.class] == nil {
			methods[q.class] = map[string][]string{}
		}
		methods[q.class][q.fn] = append(methods[q.class][q.fn], name)
	}
	out := map[string]uint64{}
	// found records a zend_function for the names that asked for it.
	found := func(fn uint64, asked []string) error {
		h, err := w.handler(fn)
		if err != nil {
			return fmt.Errorf("function %s at %#x: %w", asked[0], fn, err)
		}
		if h == 0 {
			return nil // a user function: no C handler
		}
		for _, n := range asked {
			out[n] = h
		}
		return nil
	}

	if len(funcs) == 0 && len(methods) == 0 {
		return out, nil
	}
	functionTable, classTable, err := w.tables(g)
	if err != nil {
		return nil, err
	}
	if len(funcs) > 0 {
		bs, err := w.buckets(functionTable, "function table")
		if err != nil {
			return nil, err
		}
		if err := w.checkHashes(bs, "function table"); err != nil {
			return nil, err
		}
		ptrs, err := w.lookup(bs, keys(funcs))
		if err != nil {
			return nil, fmt.Errorf("function table: %w", err)
		}
		for fn, ptr := range ptrs {
			if err := found(ptr, funcs[fn]); err != nil {
				return nil, err
			}
		}
	}

	if len(methods) > 0 {
		bs, err := w.buckets(classTable, "class table")
		if err != nil {
			return nil, err
		}
		if err := w.checkHashes(bs, "class table"); err != nil {
			return nil, err
		}
		classes, err := w.lookup(bs, keys(methods))
		if err != nil {
			return nil, fmt.Errorf("class table: %w", err)
		}
		for class, ce := range classes {
			what := "method table of " + class
			mbs, err := w.buckets(ce+l.ceFunctionTable, what)
			if err != nil {
				return nil, err
			}
			ptrs, err := w.lookup(mbs, keys(methods[class]))
			if err != nil {
				return nil, fmt.Errorf("%s: %w", what, err)
			}
			for m, ptr := range ptrs {
				if err := found(ptr, methods[class][m]); err != nil {
					return nil, err
				}
			}
		}
	}
	return out, nil
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
