package store

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"math"
	"math/bits"
	"sync"
	"unsafe"

	"github.com/klauspost/compress/s2"

	"github.com/tusk-php/tusk/pkg/trace"
)

// The spans column starts with one byte naming its format, so the format can
// change without rewriting old rows: a reader dispatches on it, a writer
// always writes the newest.
const (
	// spansDeflateJSON is the []trace.Span as JSON, raw DEFLATE compressed.
	// Written up to schema version 4; read only.
	spansDeflateJSON byte = 1
	// spansJSON is the []trace.Span as plain JSON, for small traces.
	// Written up to schema version 4; read only.
	spansJSON byte = 2
	// spansBinary is the binary encoding below. It replaced JSON + DEFLATE
	// because encoding was most of the agent's CPU under load:
	// encoding/json over the attribute maps ~45% of the ingest CPU, flate
	// ~18% (bench/store profile). See encodeSpans for the numbers.
	spansBinary byte = 3
	// spansDeflateBinary is spansBinary, after its format byte, raw
	// DEFLATE compressed. Written for a while before spansS2Binary; read
	// only.
	spansDeflateBinary byte = 4
	// spansS2Binary is spansBinary, after its format byte, as one S2 block
	// (github.com/klauspost/compress/s2, a faster Snappy); see encodeSpans
	// for when and why.
	spansS2Binary byte = 5
)

// compressFrom is the binary size from which spans are compressed: a
// request span alone (always-on mode, no calls) is a few hundred bytes,
// which DEFLATE shrinks by less than half while costing several times
// the encoding itself.
const compressFrom = 1024

// maxInflateRatio bounds what a compressed column may inflate to, as a
// multiple of its size, so that a corrupt or hostile one cannot make a
// reader allocate without limit (DEFLATE can expand ~1000x). encodeSpans
// stores spans that compress better than this uncompressed, so every
// column it writes decodes. Real spans compress 2-6x.
const maxInflateRatio = 16

// flate writers allocate ~600 KB each; reuse them across batches.
var flateWriters = sync.Pool{New: func() any {
	w, _ := flate.NewWriter(nil, flate.BestSpeed) // level is valid: cannot fail
	return w
}}

// The binary format, after the format byte. Integers are varints
// (encoding/binary): u = unsigned, s = signed (zigzag). A count is
// u(n+1), or u(0) for a nil slice or map, so that what was nil comes back
// nil and what was empty comes back empty.
//
//	spans   = count span*
//	span    = id(8 bytes) parent str(name) str(kind) s(start - previous span's start)
//	          s(duration) str(status code) str(status message) attrs events
//	parent  = u(0): zero | u(1) id(8 bytes) | u(i+2): the id of span i, an earlier one
//	events  = count (str(name) s(time - span's start) attrs)*
//	attrs   = count (str(key) value)*
//	value   = tag payload, by tag: valueNil, valueFalse, valueTrue: none;
//	          valueInt: s(v); valueFloat: 8 bytes, IEEE 754 bits little endian
//	          (NaN and ±Inf included); valueString: str
//	str     = u(0) u(length) bytes: a new string, whose index is the number
//	          of strings defined before it | u(i+1): string i again
//
// The string table is built while writing, so an attribute key, a file
// path, a function name or the statement of an N+1 loop is written once per
// trace however many spans repeat it; decoded spans share those strings.
// Start times are deltas from the previous span's, small numbers for spans
// in start order; all arithmetic wraps, so any int64 round-trips.
const (
	valueNil byte = iota
	valueFalse
	valueTrue
	valueInt
	valueFloat
	valueString
)

// The fewest bytes a span, an event and an attribute take: one per field
// (a string reference, a small varint, a nil count, a tag), 8 per id. The
// decoder bounds each count by the bytes left over these, so a hostile
// count cannot make it allocate more than the blob could describe.
const (
	minSpanBytes  = 8 + 9 // id, parent, name, kind, start, duration, status code and message, attrs, events
	minEventBytes = 3     // name, time, attrs
	minAttrBytes  = 2     // key, tag
)

// spanEncoder holds the per-trace tables of the binary encoding; encoders
// are pooled so that a busy writer reuses their tables and buffers.
type spanEncoder struct {
	buf []byte
	// gen numbers the traces the encoder encoded: slots of the string
	// tables of an older gen are empty, so the tables are not cleared.
	gen uint32
	// The string table: strs by index, found by content through keys,
	// and through full for strings whose key another string has (see
	// intern). Tables of our own, where a map[string] hashed every new
	// string whole, twice (lookup, then insert): ~40% of encoding a
	// WordPress page (BenchmarkEncodeSpans).
	strs       []string // holds the trace's strings until reset
	keys       stringTable
	full       stringTable
	seed       maphash.Seed
	sampleSeed uint64
	collide    uint64 // hash bits cleared, for tests to make strings collide
	// recent caches strings' table indexes by their address and length,
	// in front of the table: a span's strings are nearly all constants
	// (attribute keys, kind, status) or names the agent interned, the
	// same few addresses span after span, and hashing their bytes for the
	// map was ~12% of the agent's CPU in deep mode.
	recent  [1 << recentBits]recentString
	filled  []uint16  // the entries of recent in use
	spanIDs spanIndex // id -> index of the span that has it
	block   []byte    // s2Binary's output, before the copy it returns
}

// recentBits sizes the cache: 1024 entries, so that the dozen strings of a
// deep-mode trace's spans rarely share an entry and evict each other.
const recentBits = 10

// recentString holds no pointers (p is an address as a number), so the GC
// neither scans the cache nor pays write barriers for it. The strings
// cached are the spans', alive while they are encoded, so no other string
// takes their address meanwhile; entries are cleared after each trace.
type recentString struct {
	p   uintptr
	n   uint32
	ref uint32 // index in the table + 1; 0: an empty entry
}

// stringTable is an open-addressing table of indexes in strs by hash.
type stringTable struct {
	slots []stringSlot // a power of two, at most half full
	shift uint
	used  int
}

type stringSlot struct {
	hash uint64
	idx  uint32 // in keys, sharedKey once two strings have the hash
	gen  uint32 // empty unless the encoder's
}

const sharedKey = math.MaxUint32

// encoderBufLimit and stringSlotsLimit: buffers and string tables grown
// past these are dropped after use rather than kept, so that one huge
// trace does not stay in memory.
const (
	encoderBufLimit  = 1 << 20
	stringSlotsLimit = 1 << 15 // 512 KiB, 16,384 strings
	minStringSlots   = 512     // a WordPress page has ~150 strings
)

var spanEncoders = sync.Pool{New: func() any { return new(spanEncoder) }}

// encodeSpans returns the spans column for spans: spansBinary, compressed
// (spansS2Binary) from compressFrom bytes. The values it cannot carry as
// they are (see spanEncoder.value) are stored as text; it never fails.
//
// Why compress, and why S2 (BenchmarkSpansCodec, per trace, 2 vCPU EPYC
// shared with other work; "call sites" is the shape of bench/store's
// traces, SQL calls with their ~1 KB PHP stacks):
//
//	                     fixtures (21 spans)        call sites (21 spans)
//	                     encode  decode  size       encode  decode  size
//	JSON+flate (before)  100 µs  213 µs  1662 B     212 µs  589 µs   3929 B
//	binary                10 µs   18 µs  2386 B      30 µs   38 µs  17365 B
//	binary+flate          76 µs   42 µs  1301 B     142 µs  105 µs   3572 B
//	binary+s2             14 µs   19 µs  1486 B      45 µs   49 µs   4311 B
//
// Uncompressed rows cost SQLite nearly what DEFLATE costs in pages written
// (bench/store, 50k traces: 267-277 µs of store CPU per trace uncompressed,
// 307-312 µs with DEFLATE, 19.2 KB against 4.9 KB per trace on disk), so
// the rows are compressed; S2 then took the store's CPU per trace from
// 302-306 µs (DEFLATE) to 197-217 µs for 11% more disk (5.85 KB against
// 5.25 KB per trace), two runs each on the same machine.
func encodeSpans(spans []trace.Span) []byte {
	e := spanEncoders.Get().(*spanEncoder)
	defer e.release()
	raw := e.encode(spans)
	if len(raw) < compressFrom {
		return bytes.Clone(raw)
	}
	return e.s2Binary(raw)
}

// spanIndex maps span ids to the index of the span that has them, the last
// one if several do, for the parent references of the encoding: an
// open-addressing table, reused from trace to trace, where a Go map of
// 10,000 ids (grown anew for every deep-mode trace) was ~4% of the agent's
// CPU. Zero ids are not stored (a zero parent is written as such).
type spanIndex struct {
	slots []spanSlot // a power of two, at most ~2/3 full
	shift uint
}

type spanSlot struct {
	id  trace.SpanID
	idx int
}

// spanIndexLimit is the most slots kept for the next trace: a deep-mode
// trace's table (up to 10,000 function spans and 1,000 I/O spans), 512 KiB.
const spanIndexLimit = 1 << 15

// reset empties the index for a trace of n spans.
func (x *spanIndex) reset(n int) {
	size := 1 << max(bits.Len(uint(n+n/2)), 4)
	if cap(x.slots) >= size {
		x.slots = x.slots[:size]
		clear(x.slots)
	} else {
		x.slots = make([]spanSlot, size)
	}
	x.shift = uint(64 - bits.TrailingZeros(uint(size)))
}

func (x *spanIndex) release() {
	if cap(x.slots) > spanIndexLimit {
		x.slots = nil
	}
}

// slot is where id is, or the empty slot where it would go.
func (x *spanIndex) slot(id trace.SpanID) *spanSlot {
	mask := len(x.slots) - 1
	for i := int((binary.LittleEndian.Uint64(id[:]) * 0x9e3779b97f4a7c15) >> x.shift); ; i = (i + 1) & mask {
		if s := &x.slots[i]; s.id == id || s.id.IsZero() {
			return s
		}
	}
}

func (x *spanIndex) put(id trace.SpanID, idx int) {
	if !id.IsZero() {
		*x.slot(id) = spanSlot{id: id, idx: idx}
	}
}

func (x *spanIndex) get(id trace.SpanID) (int, bool) {
	s := x.slot(id)
	return s.idx, !s.id.IsZero()
}

// s2Binary returns the spansS2Binary column for raw, a spansBinary one, or
// a copy of raw if it compresses more than a reader would inflate. It
// compresses into e.block and returns a copy of what it used: a column
// with room for s2.MaxEncodedLen, ~4x what a trace compresses to, was
// allocated and zeroed for every trace and kept in the writer's queue.
func (e *spanEncoder) s2Binary(raw []byte) []byte {
	n := s2.MaxEncodedLen(len(raw) - 1)
	if n < 0 { // too large for one block
		return bytes.Clone(raw)
	}
	if cap(e.block) < 1+n {
		e.block = make([]byte, 1+n)
	}
	block := s2.Encode(e.block[1:1+n], raw[1:])
	if len(raw)-1 > maxInflateRatio*len(block) {
		return bytes.Clone(raw)
	}
	e.block[0] = spansS2Binary
	return bytes.Clone(e.block[:1+len(block)])
}

// unS2 decodes an S2 block, failing if it says it holds more than limit
// bytes: the length is read from the block's header before anything is
// allocated.
func unS2(block []byte, limit int) ([]byte, error) {
	n, err := s2.DecodedLen(block)
	if err != nil {
		return nil, err
	}
	if n > limit {
		return nil, fmt.Errorf("compressed spans would inflate to %d bytes, more than %d", n, limit)
	}
	return s2.Decode(make([]byte, n), block)
}

// encode returns the spansBinary column for spans, in e's buffer.
func (e *spanEncoder) encode(spans []trace.Span) []byte {
	if len(e.strs) > 0 { // not reset since the last trace
		e.reset()
	}
	e.gen++
	if e.gen == 0 { // wrapped: slots of every gen look current
		clear(e.keys.slots)
		clear(e.full.slots)
		e.gen = 1
	}
	e.buf = append(e.buf[:0], spansBinary)
	e.count(len(spans), spans == nil)
	e.spanIDs.reset(len(spans))
	var prevStart int64
	for i := range spans {
		s := &spans[i]
		e.buf = append(e.buf, s.SpanID[:]...)
		e.parent(s.ParentSpanID)
		e.spanIDs.put(s.SpanID, i)
		e.str(s.Name)
		e.str(string(s.Kind))
		e.buf = binary.AppendVarint(e.buf, s.StartUnixNano-prevStart)
		prevStart = s.StartUnixNano
		e.buf = binary.AppendVarint(e.buf, s.DurationNano)
		e.str(string(s.Status.Code))
		e.str(s.Status.Message)
		e.attrs(s.Attributes)
		e.count(len(s.Events), s.Events == nil)
		for j := range s.Events {
			ev := &s.Events[j]
			e.str(ev.Name)
			e.buf = binary.AppendVarint(e.buf, ev.TimeUnixNano-s.StartUnixNano)
			e.attrs(ev.Attributes)
		}
	}
	return e.buf
}

// deflateBinary returns the spansDeflateBinary column for raw, a
// spansBinary one, or a copy of raw if it compresses more than a reader
// would inflate.
func deflateBinary(raw []byte) []byte {
	var buf bytes.Buffer
	buf.Grow(len(raw)/3 + 16)
	buf.WriteByte(spansDeflateBinary)
	zw := flateWriters.Get().(*flate.Writer)
	defer flateWriters.Put(zw)
	zw.Reset(&buf)
	// Writing to a bytes.Buffer cannot fail.
	zw.Write(raw[1:])
	zw.Close()
	if len(raw)-1 > maxInflateRatio*(buf.Len()-1) {
		return bytes.Clone(raw)
	}
	return buf.Bytes()
}

func (e *spanEncoder) release() {
	e.reset()
	spanEncoders.Put(e)
}

// reset readies e for the next trace, keeping nothing of the last.
func (e *spanEncoder) reset() {
	clear(e.strs) // drops the references to the trace's strings
	e.strs = e.strs[:0]
	for _, i := range e.filled {
		e.recent[i] = recentString{}
	}
	e.filled = e.filled[:0]
	e.keys.release()
	e.full.release()
	if cap(e.strs) > stringSlotsLimit {
		e.strs = nil
	}
	e.spanIDs.release()
	if cap(e.buf) > encoderBufLimit {
		e.buf = nil
	}
	if cap(e.block) > encoderBufLimit {
		e.block = nil
	}
}

func (e *spanEncoder) count(n int, isNil bool) {
	if isNil {
		e.buf = append(e.buf, 0)
		return
	}
	e.buf = binary.AppendUvarint(e.buf, uint64(n)+1)
}

// str writes s, a string of the spans.
func (e *spanEncoder) str(s string) {
	if r := e.cached(s); r != 0 {
		e.buf = append(e.buf, r)
	} else {
		e.uncached(s)
	}
}

// cached returns s's reference if recent has it and it is one byte, else
// 0: small enough to inline where most strings are written.
func (e *spanEncoder) cached(s string) byte {
	p := uintptr(unsafe.Pointer(unsafe.StringData(s)))
	r := &e.recent[recentSlot(p, len(s))]
	if r.p != p || uint64(r.n) != uint64(len(s)) || r.ref >= 0x80 {
		return 0
	}
	return byte(r.ref)
}

func recentSlot(p uintptr, n int) int {
	return int(((uint64(p) + uint64(n)) * 0x9e3779b97f4a7c15) >> (64 - recentBits))
}

// uncached writes s, caching its reference.
func (e *spanEncoder) uncached(s string) {
	p := uintptr(unsafe.Pointer(unsafe.StringData(s)))
	h := recentSlot(p, len(s))
	r := &e.recent[h]
	if r.p == p && uint64(r.n) == uint64(len(s)) && r.ref != 0 {
		e.buf = binary.AppendUvarint(e.buf, uint64(r.ref))
		return
	}
	ref := e.text(s)
	if uint64(len(s)) > math.MaxUint32 {
		return
	}
	if r.ref == 0 {
		e.filled = append(e.filled, uint16(h))
	}
	*r = recentString{p: p, n: uint32(len(s)), ref: ref}
}

// text writes s, which may have been made while encoding, and returns its
// reference (index + 1). Such text is not cached by address: freed once
// written, its address may be another text's by the next value.
func (e *spanEncoder) text(s string) uint32 {
	i, isNew := e.intern(s)
	if !isNew {
		e.buf = binary.AppendUvarint(e.buf, uint64(i)+1)
		return i + 1
	}
	e.buf = append(e.buf, 0)
	e.buf = binary.AppendUvarint(e.buf, uint64(len(s)))
	e.buf = append(e.buf, s...)
	return i + 1
}

// intern returns s's index in the table, adding it if it is new. Strings
// are found by a key hash of at most 64 of their bytes (sampledHash): most
// strings are new in the trace, statements and stack traces among them,
// and hashing them whole (maphash) was ~20% of encoding a WordPress page.
// Strings sharing a key (statements differing only in a number in
// between) are found by their full hash instead, in full, so that many of
// them cost a probe each, not a compare with each other.
func (e *spanEncoder) intern(s string) (idx uint32, isNew bool) {
	if e.keys.slots == nil {
		e.seed = maphash.MakeSeed()
		e.sampleSeed = maphash.String(e.seed, "")
	}
	e.keys.reserve(e.gen)
	h := e.keyHash(s)
	sl := e.keys.slot(h, e.gen)
	switch {
	case sl.gen != e.gen:
		*sl = stringSlot{hash: h, idx: e.add(s), gen: e.gen}
		e.keys.used++
		return sl.idx, true
	case sl.idx != sharedKey:
		first := sl.idx
		if e.strs[first] == s {
			return first, false
		}
		sl.idx = sharedKey // from now on in full, as every string with the key
		e.full.reserve(e.gen)
		e.full.put(e.fullHash(e.strs[first]), first, e.gen)
	}
	e.full.reserve(e.gen)
	h = e.fullHash(s)
	mask := len(e.full.slots) - 1
	for i := int(h >> e.full.shift); ; i = (i + 1) & mask {
		sl := &e.full.slots[i]
		if sl.gen != e.gen {
			*sl = stringSlot{hash: h, idx: e.add(s), gen: e.gen}
			e.full.used++
			return sl.idx, true
		}
		if sl.hash == h && e.strs[sl.idx] == s {
			return sl.idx, false
		}
	}
}

func (e *spanEncoder) add(s string) uint32 {
	e.strs = append(e.strs, s)
	return uint32(len(e.strs) - 1)
}

// keyHash is s's key in e.keys.
func (e *spanEncoder) keyHash(s string) uint64 {
	return sampledHash(e.sampleSeed, s) &^ e.collide
}

func (e *spanEncoder) fullHash(s string) uint64 {
	return maphash.String(e.seed, s) &^ e.collide
}

// sampledHash hashes s's length and at most 64 of its bytes: up to 16 at
// either end and 32 in the middle, all of a string of up to 64.
func sampledHash(seed uint64, s string) uint64 {
	const k0, k1, k2, k3 = 0xa0761d6478bd642f, 0xe7037ed1a0b428db, 0x8ebc6af09c88c6e3, 0x589965cc75374cc3
	n := len(s)
	h := seed ^ uint64(n)*0x9e3779b97f4a7c15
	switch {
	case n >= 32:
		m := n/2 - 16
		h = mix(le64(s, 0)^h, le64(s, 8)^k0)
		h = mix(le64(s, m)^h, le64(s, m+8)^k1)
		h = mix(le64(s, m+16)^h, le64(s, m+24)^k2)
		return mix(le64(s, n-16)^h, le64(s, n-8)^k3)
	case n >= 16:
		h = mix(le64(s, 0)^h, le64(s, 8)^k0)
		return mix(le64(s, n-16)^h, le64(s, n-8)^k3)
	case n >= 8:
		return mix(le64(s, 0)^h, le64(s, n-8)^k0)
	}
	var w uint64
	for i := range n {
		w |= uint64(s[i]) << (8 * i)
	}
	return mix(w^h, k0)
}

func mix(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

func le64(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// slot returns the slot holding hash h, or the empty slot where it goes.
func (t *stringTable) slot(h uint64, gen uint32) *stringSlot {
	mask := len(t.slots) - 1
	for i := int(h >> t.shift); ; i = (i + 1) & mask {
		if sl := &t.slots[i]; sl.gen != gen || sl.hash == h {
			return sl
		}
	}
}

// put adds a slot of gen for h, after any others of h.
func (t *stringTable) put(h uint64, idx, gen uint32) {
	mask := len(t.slots) - 1
	i := int(h >> t.shift)
	for t.slots[i].gen == gen {
		i = (i + 1) & mask
	}
	t.slots[i] = stringSlot{hash: h, idx: idx, gen: gen}
	t.used++
}

// reserve makes room for one more slot of gen, keeping t at most half
// full: probes are then short, and the slots are few bytes per string.
func (t *stringTable) reserve(gen uint32) {
	if 2*(t.used+1) > len(t.slots) {
		t.grow(gen)
	}
}

func (t *stringTable) grow(gen uint32) {
	old := t.slots
	size := max(2*len(old), minStringSlots)
	t.slots = make([]stringSlot, size)
	t.shift = uint(64 - bits.TrailingZeros(uint(size)))
	t.used = 0
	for _, sl := range old {
		if sl.gen == gen {
			t.put(sl.hash, sl.idx, gen)
		}
	}
}

// release empties t for the next gen.
func (t *stringTable) release() {
	t.used = 0
	if len(t.slots) > stringSlotsLimit {
		t.slots = nil
	}
}

func (e *spanEncoder) parent(id trace.SpanID) {
	if id.IsZero() {
		e.buf = append(e.buf, 0)
		return
	}
	if i, ok := e.spanIDs.get(id); ok {
		e.buf = binary.AppendUvarint(e.buf, uint64(i)+2)
		return
	}
	e.buf = append(e.buf, 1)
	e.buf = append(e.buf, id[:]...)
}

func (e *spanEncoder) attrs(attrs trace.Attributes) {
	e.count(len(attrs), attrs == nil)
	for k, v := range attrs {
		if r := e.cached(k); r != 0 {
			e.buf = append(e.buf, r)
		} else {
			e.uncached(k)
		}
		if s, ok := v.(string); ok { // most values, ahead of value's switch
			if r := e.cached(s); r != 0 {
				e.buf = append(e.buf, valueString, r)
			} else {
				e.buf = append(e.buf, valueString)
				e.uncached(s)
			}
			continue
		}
		if i, ok := v.(int64); ok {
			e.int(i)
			continue
		}
		e.value(v)
	}
}

// value writes v typed when it is a type the model uses (string, int64,
// float64, bool, nil), the other integer and float types as int64 and
// float64, and anything else as text: its JSON, or fmt.Sprint when JSON
// cannot carry it. Nothing the agent builds takes the last path; trace
// backends and tests might.
func (e *spanEncoder) value(v any) {
	switch v := v.(type) {
	case string:
		e.buf = append(e.buf, valueString)
		e.str(v)
	case int64:
		e.int(v)
	case bool:
		if v {
			e.buf = append(e.buf, valueTrue)
		} else {
			e.buf = append(e.buf, valueFalse)
		}
	case float64:
		e.float(v)
	case nil:
		e.buf = append(e.buf, valueNil)
	case int:
		e.int(int64(v))
	case int32:
		e.int(int64(v))
	case int16:
		e.int(int64(v))
	case int8:
		e.int(int64(v))
	case uint32:
		e.int(int64(v))
	case uint16:
		e.int(int64(v))
	case uint8:
		e.int(int64(v))
	case float32:
		e.float(float64(v))
	default: // uint, uint64 (may not fit), slices, maps, structs
		text, err := json.Marshal(v)
		if err != nil {
			text = []byte(fmt.Sprint(v))
		}
		e.buf = append(e.buf, valueString)
		e.text(string(text))
	}
}

func (e *spanEncoder) int(v int64) {
	e.buf = append(e.buf, valueInt)
	e.buf = binary.AppendVarint(e.buf, v)
}

func (e *spanEncoder) float(v float64) {
	e.buf = append(e.buf, valueFloat)
	e.buf = binary.LittleEndian.AppendUint64(e.buf, math.Float64bits(v))
}

// decodeSpans reads a spans column written by any version of encodeSpans.
func decodeSpans(blob []byte) ([]trace.Span, error) {
	if len(blob) == 0 {
		return nil, errors.New("decode spans: empty column")
	}
	switch blob[0] {
	case spansBinary:
		return decodeBinary(blob[1:])
	case spansS2Binary:
		raw, err := unS2(blob[1:], maxInflateRatio*(len(blob)-1))
		if err != nil {
			return nil, fmt.Errorf("decode spans: %w", err)
		}
		return decodeBinary(raw)
	case spansDeflateBinary:
		raw, err := inflate(blob[1:], maxInflateRatio*(len(blob)-1))
		if err != nil {
			return nil, fmt.Errorf("decode spans: %w", err)
		}
		return decodeBinary(raw)
	case spansJSON:
		var spans []trace.Span
		if err := json.Unmarshal(blob[1:], &spans); err != nil {
			return nil, fmt.Errorf("decode spans: %w", err)
		}
		return spans, nil
	case spansDeflateJSON:
		// No bound: JSON compresses up to ~25x, and these rows were
		// written by Tusk before the binary format.
		raw, err := inflate(blob[1:], math.MaxInt)
		if err != nil {
			return nil, fmt.Errorf("decode spans: %w", err)
		}
		var spans []trace.Span
		if err := json.Unmarshal(raw, &spans); err != nil {
			return nil, fmt.Errorf("decode spans: %w", err)
		}
		return spans, nil
	default:
		return nil, fmt.Errorf("decode spans: unknown format %d (written by a newer version?)", blob[0])
	}
}

func decodeBinary(b []byte) ([]trace.Span, error) {
	d := spanDecoder{b: b}
	spans := d.spans()
	if d.err == nil && len(d.b) > 0 {
		d.fail("%d bytes after the last span", len(d.b))
	}
	if d.err != nil {
		return nil, fmt.Errorf("decode spans: %w", d.err)
	}
	return spans, nil
}

var flateReaders sync.Pool

// inflate decompresses compressed, failing if that is more than limit
// bytes.
func inflate(compressed []byte, limit int) ([]byte, error) {
	src := bytes.NewReader(compressed)
	zr, _ := flateReaders.Get().(io.ReadCloser)
	if zr == nil {
		zr = flate.NewReader(src)
	} else if err := zr.(flate.Resetter).Reset(src, nil); err != nil {
		return nil, err
	}
	defer flateReaders.Put(zr)
	raw, err := io.ReadAll(io.LimitReader(zr, int64(min(limit, math.MaxInt-1))+1))
	if err == nil && len(raw) > limit {
		err = fmt.Errorf("inflates to more than %d bytes", limit)
	}
	return raw, err
}

// spanDecoder reads the binary format from b, which it consumes. The blob
// may be corrupt or hostile: every length and count is checked against
// the bytes left before anything is allocated for it, and the first
// problem is kept in err, after which every read returns zero values.
// Memory is bounded by the blob: each count is at most what the bytes left
// could describe at the minimum size per item, which puts the decoded
// spans at most ~26x the blob (TestDecodeMemoryIsBoundedByTheBlob; an
// attribute map's slot for a 2-byte attribute is the worst case).
type spanDecoder struct {
	b       []byte
	strings []string
	err     error
}

func (d *spanDecoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf(format, args...)
	}
	d.b = nil
}

func (d *spanDecoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("bad or truncated varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *spanDecoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail("bad or truncated varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *spanDecoder) tag() byte {
	if len(d.b) == 0 {
		d.fail("truncated")
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *spanDecoder) fixed(n int) []byte {
	if len(d.b) < n {
		d.fail("truncated")
		return nil
	}
	p := d.b[:n]
	d.b = d.b[n:]
	return p
}

// count reads a count of items of at least minBytes each; isNil for u(0).
func (d *spanDecoder) count(minBytes int, what string) (n int, isNil bool) {
	c := d.uvarint()
	if c == 0 || d.err != nil {
		return 0, true
	}
	if c-1 > uint64(len(d.b)/minBytes) {
		d.fail("%d %s in %d bytes", c-1, what, len(d.b))
		return 0, true
	}
	return int(c - 1), false
}

func (d *spanDecoder) str() string {
	ref := d.uvarint()
	if d.err != nil {
		return ""
	}
	if ref > 0 {
		if ref > uint64(len(d.strings)) {
			d.fail("string %d of %d", ref-1, len(d.strings))
			return ""
		}
		return d.strings[ref-1]
	}
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail("string of %d bytes in %d", n, len(d.b))
		return ""
	}
	s := string(d.fixed(int(n)))
	d.strings = append(d.strings, s)
	return s
}

func (d *spanDecoder) spans() []trace.Span {
	n, isNil := d.count(minSpanBytes, "spans")
	if isNil {
		return nil
	}
	spans := make([]trace.Span, n)
	var start int64
	for i := range spans {
		s := &spans[i]
		copy(s.SpanID[:], d.fixed(len(s.SpanID)))
		s.ParentSpanID = d.parent(spans[:i])
		s.Name = d.str()
		s.Kind = trace.SpanKind(d.str())
		start += d.varint()
		s.StartUnixNano = start
		s.DurationNano = d.varint()
		s.Status.Code = trace.StatusCode(d.str())
		s.Status.Message = d.str()
		s.Attributes = d.attrs()
		if m, isNil := d.count(minEventBytes, "events"); !isNil {
			s.Events = make([]trace.Event, m)
			for j := range s.Events {
				ev := &s.Events[j]
				ev.Name = d.str()
				ev.TimeUnixNano = s.StartUnixNano + d.varint()
				ev.Attributes = d.attrs()
			}
		}
		if d.err != nil {
			return nil
		}
	}
	return spans
}

// parent reads a parent id; earlier are the spans decoded so far.
func (d *spanDecoder) parent(earlier []trace.Span) (id trace.SpanID) {
	switch ref := d.uvarint(); {
	case ref == 0:
	case ref == 1:
		copy(id[:], d.fixed(len(id)))
	case ref-2 < uint64(len(earlier)):
		id = earlier[ref-2].SpanID
	default:
		d.fail("parent is span %d of %d", ref-2, len(earlier))
	}
	return id
}

func (d *spanDecoder) attrs() trace.Attributes {
	n, isNil := d.count(minAttrBytes, "attributes")
	if isNil {
		return nil
	}
	attrs := make(trace.Attributes, n)
	for range n {
		k := d.str()
		v := d.value()
		if d.err != nil {
			return nil
		}
		attrs[k] = v
	}
	return attrs
}

func (d *spanDecoder) value() any {
	switch tag := d.tag(); tag {
	case valueNil:
		return nil
	case valueFalse:
		return false
	case valueTrue:
		return true
	case valueInt:
		return d.varint()
	case valueFloat:
		b := d.fixed(8)
		if b == nil {
			return nil
		}
		return math.Float64frombits(binary.LittleEndian.Uint64(b))
	case valueString:
		return d.str()
	default:
		d.fail("unknown value type %d", tag)
		return nil
	}
}
