package profile

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

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
	// Sized for a function, class and file name per frame: growing the map
	// on the way was 20% of encoding a request profile.
	n := 3*len(p.Frames) + 3*len(p.Labels)
	strs := make([]string, 0, n)
	strIdx := make(map[string]uint64, n)
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
	dst := make([]byte, 1, 1+s2.MaxEncodedLen(len(b)))
	dst[0] = formatV1S2
	return append(dst, s2.Encode(dst[1:cap(dst)], b)...)
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
