package profile

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"slices"
	"sync"

	"github.com/klauspost/compress/s2"
)

// Storage format. A stored profile starts with one byte naming its format,
// so the format can change without rewriting old rows: Decode dispatches on
// it, Encode always writes the newest.
//
//	formatV1Raw:     the v1 payload as is (small profiles)
//	formatV1Deflate: the v1 payload, raw DEFLATE compressed (read only)
//	formatV1S2:      the v1 payload as one S2 block
//
// The v1 payload is a sequence of unsigned varints (uv) and zig-zag varints
// (sv), in this order:
//
//	uv periodNs
//	uv truncated samples
//	uv #strings,  then per string: uv length, bytes
//	uv #frames,   then per frame:  uv function, uv class, uv file (string indexes), sv line
//	uv #labels,   then per label:  uv service, uv pool, uv endpoint (string indexes)
//	uv #stacks,   then per stack:  uv label index, uv prefix, uv suffix length,
//	                               suffix × uv frame index, uv count
//
// Stacks are written in lexicographic order of their frame indexes; prefix
// is how many leading frames a stack shares with the one before it (0 for
// the first), and only the rest (the suffix) is written. Sibling stacks of
// a PHP call tree share long prefixes, so this, before DEFLATE, takes a
// per-minute profile to a few bytes per stack.
//
// S2 replaced DEFLATE because every traced request that was sampled stores
// a profile, encoded on the agent's event loop: on WordPress request
// profiles (~2 KB of payload) DEFLATE took 40 µs and S2 2 µs, for blobs 17%
// larger (1042 vs 892 bytes); decoding many of them for a flame graph is
// faster too.
const (
	formatV1Raw     byte = 1
	formatV1Deflate byte = 2
	formatV1S2      byte = 3
)

// compressFrom is the payload size from which profiles are compressed.
const compressFrom = 256

// maxDecodedBytes bounds the payload Decode inflates, so a hostile or
// broken blob cannot make it allocate without limit.
const maxDecodedBytes = 16 << 20

// maxDecodedFrames bounds the frames of all stacks of a profile together:
// the prefix sharing lets a few bytes stand for MaxDepth frames, so the
// byte limit alone would not bound the work. A full per-minute profile
// (DefaultMaxStacks stacks, 30 frames deep on average) has ~150,000.
const maxDecodedFrames = 1 << 22

// ErrCorrupt is wrapped by every Decode error caused by the blob itself.
var ErrCorrupt = errors.New("corrupt profile")

// Encode returns p in the storage format.
func Encode(p *Profile) []byte {
	e, _ := encoders.Get().(*encoder)
	if e == nil {
		e = &encoder{}
	}
	defer e.release()
	return e.encode(p)
}

func (e *encoder) encode(p *Profile) []byte {
	e.start(3*len(p.Frames) + 3*len(p.Labels))
	for _, f := range p.Frames {
		e.frames = append(e.frames, [3]uint64{e.str(f.Function), e.str(f.Class), e.str(f.File)})
	}
	for _, l := range p.Labels {
		e.labels = append(e.labels, [3]uint64{e.str(l.Service), e.str(l.Pool), e.str(l.Endpoint)})
	}

	b := e.payload[:0]
	b = binary.AppendUvarint(b, uint64(max(p.PeriodNs, 0)))
	b = binary.AppendUvarint(b, uint64(max(p.truncated, 0)))
	b = binary.AppendUvarint(b, uint64(len(e.strs)))
	for _, s := range e.strs {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	b = binary.AppendUvarint(b, uint64(len(e.frames)))
	for i, f := range e.frames {
		for _, ref := range f {
			b = binary.AppendUvarint(b, ref)
		}
		b = binary.AppendVarint(b, int64(p.Frames[i].Line))
	}
	b = binary.AppendUvarint(b, uint64(len(e.labels)))
	for _, l := range e.labels {
		for _, ref := range l {
			b = binary.AppendUvarint(b, ref)
		}
	}
	order := e.order[:0]
	for i := range p.Stacks {
		order = append(order, i)
	}
	e.order = order
	slices.SortFunc(order, func(x, y int) int {
		if c := slices.Compare(p.Stacks[x].Frames, p.Stacks[y].Frames); c != 0 {
			return c
		}
		return int(p.Stacks[x].Label) - int(p.Stacks[y].Label)
	})
	b = binary.AppendUvarint(b, uint64(len(order)))
	var prev []int32
	for _, i := range order {
		s := p.Stacks[i]
		prefix := 0
		for prefix < len(prev) && prefix < len(s.Frames) && prev[prefix] == s.Frames[prefix] {
			prefix++
		}
		b = binary.AppendUvarint(b, uint64(s.Label))
		b = binary.AppendUvarint(b, uint64(prefix))
		b = binary.AppendUvarint(b, uint64(len(s.Frames)-prefix))
		for _, id := range s.Frames[prefix:] {
			b = binary.AppendUvarint(b, uint64(id))
		}
		b = binary.AppendUvarint(b, uint64(s.Count))
		prev = s.Frames
	}
	e.payload = b

	// The blob is copied out of the scratch buffers: exactly its size, as
	// the store keeps it queued.
	format, body := formatV1Raw, b
	if len(b) >= compressFrom {
		if n := s2.MaxEncodedLen(len(b)); cap(e.block) < n {
			e.block = make([]byte, n)
		}
		format, body = formatV1S2, s2.Encode(e.block[:cap(e.block)], b)
	}
	blob := make([]byte, 1+len(body))
	blob[0] = format
	copy(blob[1:], body)
	return blob
}

// encoder is Encode's scratch. The store encodes a profile for every
// sampled request: allocating the string table and buffers for each was
// most of the work.
type encoder struct {
	strs    []string
	slots   []strSlot
	mask    int
	epoch   uint32
	frames  [][3]uint64
	labels  [][3]uint64
	order   []int
	payload []byte
	block   []byte
}

// strSlot is a slot of the string table: open addressing over strs. A
// slot is in use only when its epoch is the encoding's, so the table is
// emptied by moving to the next epoch rather than clearing it.
type strSlot struct {
	epoch uint32
	hash  uint32 // high bits of the string's hash, compared first
	index uint32 // into strs
}

var (
	encoders sync.Pool
	strSeed  = maphash.MakeSeed()
)

// Scratch kept for the next Encode: a minute profile's fits.
const (
	maxReusedSlots  = 1 << 16
	maxReusedBuffer = 1 << 20
)

// start readies e for a profile of at most n distinct strings. The table
// is kept at most half full, so a probe always ends.
func (e *encoder) start(n int) {
	size := 16
	for size < 2*n {
		size *= 2
	}
	if cap(e.slots) < size {
		e.slots = make([]strSlot, size)
		e.epoch = 0
	}
	e.slots = e.slots[:size]
	e.mask = size - 1
	if e.epoch++; e.epoch == 0 { // wrapped: old slots could look current
		clear(e.slots[:cap(e.slots)])
		e.epoch = 1
	}
	e.strs, e.frames, e.labels = e.strs[:0], e.frames[:0], e.labels[:0]
}

// str returns the index of s in the string table, adding it when new.
func (e *encoder) str(s string) uint64 {
	h := maphash.String(strSeed, s)
	for i := int(h) & e.mask; ; i = (i + 1) & e.mask {
		sl := &e.slots[i]
		if sl.epoch != e.epoch {
			*sl = strSlot{epoch: e.epoch, hash: uint32(h >> 32), index: uint32(len(e.strs))}
			e.strs = append(e.strs, s)
			return uint64(sl.index)
		}
		if sl.hash == uint32(h>>32) && e.strs[sl.index] == s {
			return uint64(sl.index)
		}
	}
}

func (e *encoder) release() {
	clear(e.strs) // let the profile's strings go
	if cap(e.slots) > maxReusedSlots || cap(e.payload) > maxReusedBuffer || cap(e.block) > maxReusedBuffer {
		return
	}
	encoders.Put(e)
}

// Decode reads a profile written by any version of Encode. Errors caused by
// the blob wrap ErrCorrupt.
func Decode(blob []byte) (*Profile, error) {
	d, err := parse(blob)
	if err != nil {
		return nil, err
	}
	p := NewProfile(max(len(d.stacks), 1))
	d.mergeInto(p)
	return p, nil
}

// MergeEncoded adds the samples of an encoded profile to p: all of them, or,
// when the blob does not decode, none (the error wraps ErrCorrupt).
func (p *Profile) MergeEncoded(blob []byte) error {
	d, err := parse(blob)
	if err != nil {
		return err
	}
	d.mergeInto(p)
	return nil
}

// decoded is a parsed, fully validated payload, not yet interned.
type decoded struct {
	periodNs  int64
	truncated int64
	frames    []Frame
	labels    []Labels
	stacks    []decodedStack
	ids       []int32 // every stack's frames, back to back
}

type decodedStack struct {
	label      int32
	start, end int // of its frames in ids
	count      int64
}

func (d *decoded) mergeInto(p *Profile) {
	if p.PeriodNs == 0 {
		p.PeriodNs = d.periodNs
	}
	frameMap := make([]int32, len(d.frames))
	for i, f := range d.frames {
		frameMap[i] = p.frameID(f)
	}
	labelMap := make([]int32, len(d.labels))
	for i, l := range d.labels {
		labelMap[i] = p.labelID(l)
	}
	for _, s := range d.stacks {
		ids := p.idBuf[:0]
		for _, id := range d.ids[s.start:s.end] {
			ids = append(ids, frameMap[id])
		}
		p.idBuf = ids
		p.addIDs(ids, labelMap[s.label], s.count)
	}
	p.truncated += d.truncated
}

func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
}

func parse(blob []byte) (*decoded, error) {
	r, err := openPayload(blob, nil)
	if err != nil {
		return nil, err
	}
	t := r.tables()
	d := &decoded{periodNs: t.periodNs, truncated: t.truncated}
	if r.err == nil {
		strs := make([]string, len(t.strs))
		for i, b := range t.strs {
			strs[i] = string(b)
		}
		d.frames = make([]Frame, len(t.frames))
		for i, f := range t.frames {
			d.frames[i] = Frame{Function: strs[f.function], Class: strs[f.class], File: strs[f.file], Line: int(f.line)}
		}
		d.labels = make([]Labels, len(t.labels))
		for i, l := range t.labels {
			d.labels[i] = Labels{Service: strs[l[0]], Pool: strs[l[1]], Endpoint: strs[l[2]]}
		}
	}
	prevStart := 0
	r.stacks(&t, func(label int32, prefix int, suffix []int32, count int64) {
		start := len(d.ids)
		d.ids = append(d.ids, d.ids[prevStart:prevStart+prefix]...)
		d.ids = append(d.ids, suffix...)
		d.stacks = append(d.stacks, decodedStack{label: label, start: start, end: len(d.ids), count: count})
		prevStart = start
	})
	if r.err == nil && len(r.b) != 0 {
		r.fail("%d bytes after the last stack", len(r.b))
	}
	if r.err != nil {
		return nil, r.err
	}
	return d, nil
}
