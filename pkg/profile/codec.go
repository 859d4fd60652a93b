package profile

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sync"
)

// Storage format. A stored profile starts with one byte naming its format,
// so the format can change without rewriting old rows: Decode dispatches on
// it, Encode always writes the newest.
//
//	formatV1Raw:     the v1 payload as is (small profiles)
//	formatV1Deflate: the v1 payload, raw DEFLATE compressed
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
const (
	formatV1Raw     byte = 1
	formatV1Deflate byte = 2
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

var flateWriters = sync.Pool{New: func() any {
	w, _ := flate.NewWriter(nil, flate.BestSpeed) // valid level: cannot fail
	return w
}}

// Encode returns p in the storage format.
func Encode(p *Profile) []byte {
	var strs []string
	strIdx := map[string]uint64{}
	str := func(s string) uint64 {
		if i, ok := strIdx[s]; ok {
			return i
		}
		i := uint64(len(strs))
		strs = append(strs, s)
		strIdx[s] = i
		return i
	}
	type frameRefs struct{ fn, class, file uint64 }
	frames := make([]frameRefs, len(p.Frames))
	for i, f := range p.Frames {
		frames[i] = frameRefs{str(f.Function), str(f.Class), str(f.File)}
	}
	labels := make([][3]uint64, len(p.Labels))
	for i, l := range p.Labels {
		labels[i] = [3]uint64{str(l.Service), str(l.Pool), str(l.Endpoint)}
	}

	b := make([]byte, 0, 64+len(p.Stacks)*8)
	b = binary.AppendUvarint(b, uint64(max(p.PeriodNs, 0)))
	b = binary.AppendUvarint(b, uint64(max(p.truncated, 0)))
	b = binary.AppendUvarint(b, uint64(len(strs)))
	for _, s := range strs {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	b = binary.AppendUvarint(b, uint64(len(frames)))
	for i, f := range frames {
		b = binary.AppendUvarint(b, f.fn)
		b = binary.AppendUvarint(b, f.class)
		b = binary.AppendUvarint(b, f.file)
		b = binary.AppendVarint(b, int64(p.Frames[i].Line))
	}
	b = binary.AppendUvarint(b, uint64(len(labels)))
	for _, l := range labels {
		for _, ref := range l {
			b = binary.AppendUvarint(b, ref)
		}
	}
	order := make([]int, len(p.Stacks))
	for i := range order {
		order[i] = i
	}
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

	if len(b) < compressFrom {
		return append([]byte{formatV1Raw}, b...)
	}
	var buf bytes.Buffer
	buf.Grow(len(b)/3 + 16)
	buf.WriteByte(formatV1Deflate)
	zw := flateWriters.Get().(*flate.Writer)
	defer flateWriters.Put(zw)
	zw.Reset(&buf)
	// Writes to a bytes.Buffer cannot fail.
	_, _ = zw.Write(b)
	_ = zw.Close()
	return buf.Bytes()
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
	if len(blob) == 0 {
		return nil, corrupt("empty")
	}
	var payload []byte
	switch blob[0] {
	case formatV1Raw:
		payload = blob[1:]
	case formatV1Deflate:
		zr := flate.NewReader(bytes.NewReader(blob[1:]))
		raw, err := io.ReadAll(io.LimitReader(zr, maxDecodedBytes+1))
		zr.Close()
		if err != nil {
			return nil, corrupt("inflate: %v", err)
		}
		if len(raw) > maxDecodedBytes {
			return nil, corrupt("more than %d bytes inflated", maxDecodedBytes)
		}
		payload = raw
	default:
		return nil, corrupt("unknown format %d (written by a newer version?)", blob[0])
	}
	r := reader{b: payload}
	d := &decoded{}
	d.periodNs = r.int64("period")
	d.truncated = r.int64("truncated samples")

	strs := make([]string, r.count("strings", 1))
	for i := range strs {
		n := r.count("string length", 1)
		strs[i] = string(r.bytes(n))
	}
	str := func() string {
		i := r.index(len(strs), "string")
		if r.err != nil {
			return ""
		}
		return strs[i]
	}
	d.frames = make([]Frame, r.count("frames", 4))
	for i := range d.frames {
		d.frames[i] = Frame{Function: str(), Class: str(), File: str()}
		line := r.varint("line")
		if line < math.MinInt32 || line > math.MaxInt32 {
			r.fail("line %d out of range", line)
		}
		d.frames[i].Line = int(line)
	}
	d.labels = make([]Labels, r.count("labels", 3))
	for i := range d.labels {
		d.labels[i] = Labels{Service: str(), Pool: str(), Endpoint: str()}
	}
	nStacks := r.count("stacks", 4)
	d.stacks = make([]decodedStack, 0, nStacks)
	var total int64
	prevStart, prevEnd := 0, 0
	for range nStacks {
		if r.err != nil {
			break
		}
		label := r.index(len(d.labels), "label")
		prefix := int(r.uvarint("prefix"))
		if r.err == nil && prefix > prevEnd-prevStart {
			r.fail("stack shares %d frames with a stack of %d", prefix, prevEnd-prevStart)
		}
		suffix := r.count("suffix length", 1)
		if r.err == nil && prefix+suffix > MaxDepth {
			r.fail("stack of %d frames, deeper than %d", prefix+suffix, MaxDepth)
		}
		if r.err == nil && len(d.ids)+prefix+suffix > maxDecodedFrames {
			r.fail("more than %d frames in all", maxDecodedFrames)
		}
		if r.err != nil {
			break
		}
		start := len(d.ids)
		d.ids = append(d.ids, d.ids[prevStart:prevStart+prefix]...)
		for range suffix {
			d.ids = append(d.ids, int32(r.index(len(d.frames), "frame")))
		}
		count := r.int64("count")
		if r.err == nil && (count == 0 || total > math.MaxInt64-count) {
			r.fail("stack count %d", count)
		}
		total += count
		d.stacks = append(d.stacks, decodedStack{label: int32(label), start: start, end: len(d.ids), count: count})
		prevStart, prevEnd = start, len(d.ids)
	}
	if r.err == nil && len(r.b) != 0 {
		r.fail("%d bytes after the last stack", len(r.b))
	}
	if r.err != nil {
		return nil, r.err
	}
	return d, nil
}

// reader reads varints, remembering the first error; once failed, every
// read returns zero.
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = corrupt(format, args...)
	}
}

func (r *reader) uvarint(what string) uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail("bad or missing %s", what)
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) varint(what string) int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail("bad or missing %s", what)
		return 0
	}
	r.b = r.b[n:]
	return v
}

// int64 reads a non-negative int64.
func (r *reader) int64(what string) int64 {
	v := r.uvarint(what)
	if v > math.MaxInt64 {
		r.fail("%s %d out of range", what, v)
		return 0
	}
	return int64(v)
}

// count reads a number of items that each take at least minBytes bytes:
// more than the bytes left can hold is corrupt, so allocating for count
// items is bounded by the blob's size.
func (r *reader) count(what string, minBytes int) int {
	v := r.uvarint(what)
	if r.err == nil && v > uint64(len(r.b)/minBytes) {
		r.fail("%d %s in %d bytes", v, what, len(r.b))
		return 0
	}
	return int(v)
}

// index reads an index below n.
func (r *reader) index(n int, what string) int {
	v := r.uvarint(what)
	if r.err == nil && v >= uint64(n) {
		r.fail("%s index %d of %d", what, v, n)
		return 0
	}
	return int(v)
}

func (r *reader) bytes(n int) []byte {
	if r.err != nil {
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}
