package profile

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"io"
	"math"
	"sync"

	"github.com/klauspost/compress/s2"
)

// Reading the storage format (see codec.go), shared by Decode and
// FunctionMatcher: the payload, inflated; the tables before the stacks;
// the stacks one by one, each validated as it is read.

// openPayload returns a reader over the v1 payload of blob, inflated when
// it is compressed. A caller reading many blobs passes buf to have them
// inflated into one reused buffer (nil: a new one each time).
func openPayload(blob []byte, buf *[]byte) (*reader, error) {
	if len(blob) == 0 {
		return nil, corrupt("empty")
	}
	switch blob[0] {
	case formatV1Raw:
		return &reader{b: blob[1:]}, nil
	case formatV1Deflate:
		var dst []byte
		if buf != nil {
			dst = (*buf)[:0]
		}
		raw, err := inflate(dst, blob[1:])
		if err != nil {
			return nil, err
		}
		if buf != nil && cap(raw) <= maxReusedPayload {
			*buf = raw[:0]
		}
		return &reader{b: raw}, nil
	case formatV1S2:
		var dst []byte
		if buf != nil {
			dst = *buf
		}
		raw, err := unS2(dst, blob[1:])
		if err != nil {
			return nil, err
		}
		if buf != nil && cap(raw) <= maxReusedPayload {
			*buf = raw[:0]
		}
		return &reader{b: raw}, nil
	default:
		return nil, corrupt("unknown format %d (written by a newer version?)", blob[0])
	}
}

// maxReusedPayload is the largest inflate buffer openPayload hands back for
// reuse: request profiles are a few KB, and one huge blob should not pin
// its buffer.
const maxReusedPayload = 1 << 20

// flateReaders keeps inflaters for reuse: each holds ~40 KB of state, and a
// search over stored request profiles inflates thousands of blobs.
var flateReaders sync.Pool

// inflate appends the inflated compressed to dst.
func inflate(dst, compressed []byte) ([]byte, error) {
	src := bytes.NewReader(compressed)
	zr, _ := flateReaders.Get().(io.ReadCloser)
	if zr == nil {
		zr = flate.NewReader(src)
	} else if err := zr.(flate.Resetter).Reset(src, nil); err != nil {
		return nil, corrupt("inflate: %v", err)
	}
	defer flateReaders.Put(zr)
	out := bytes.NewBuffer(dst)
	_, err := out.ReadFrom(io.LimitReader(zr, maxDecodedBytes+1))
	if err != nil {
		return nil, corrupt("inflate: %v", err)
	}
	raw := out.Bytes()
	if len(raw) > maxDecodedBytes {
		return nil, corrupt("more than %d bytes inflated", maxDecodedBytes)
	}
	return raw, nil
}

// unS2 decodes an S2 block into dst's memory when it is large enough. The
// block's header says how long the payload is: that is checked against
// maxDecodedBytes before anything is allocated.
func unS2(dst, block []byte) ([]byte, error) {
	n, err := s2.DecodedLen(block)
	if err != nil {
		return nil, corrupt("s2: %v", err)
	}
	if n > maxDecodedBytes {
		return nil, corrupt("more than %d bytes inflated", maxDecodedBytes)
	}
	if cap(dst) < n {
		dst = make([]byte, n)
	}
	raw, err := s2.Decode(dst[:cap(dst)], block)
	if err != nil {
		return nil, corrupt("s2: %v", err)
	}
	return raw, nil
}

// tables are the parts of a payload before the stacks, validated but not
// turned into strings: strs are slices of the payload, frames and labels
// hold indexes into strs.
type tables struct {
	periodNs  int64
	truncated int64
	strs      [][]byte
	frames    []frameRef
	labels    [][3]int32 // service, pool, endpoint
}

type frameRef struct {
	function, class, file int32
	line                  int32
}

// tables reads everything before the stacks. On failure r.err is set and
// the tables are partial.
func (r *reader) tables() tables {
	var t tables
	t.periodNs = r.int64("period")
	t.truncated = r.int64("truncated samples")
	t.strs = make([][]byte, r.count("strings", 1))
	for i := range t.strs {
		t.strs[i] = r.bytes(r.count("string length", 1))
	}
	str := func() int32 { return int32(r.index(len(t.strs), "string")) }
	t.frames = make([]frameRef, r.count("frames", 4))
	for i := range t.frames {
		t.frames[i] = frameRef{function: str(), class: str(), file: str()}
		line := r.varint("line")
		if line < math.MinInt32 || line > math.MaxInt32 {
			r.fail("line %d out of range", line)
		}
		t.frames[i].line = int32(line)
	}
	t.labels = make([][3]int32, r.count("labels", 3))
	for i := range t.labels {
		t.labels[i] = [3]int32{str(), str(), str()}
	}
	return t
}

// stacks reads the stacks after t, validating each, and calls visit with
// each one's label, the number of leading frames it shares with the stack
// before it, the frames that follow (valid until the next call) and its
// count. It stops at the first error, left in r.err.
func (r *reader) stacks(t *tables, visit func(label int32, prefix int, suffix []int32, count int64)) {
	nStacks := r.count("stacks", 4)
	var total int64
	frames, prevLen := 0, 0
	var suffix []int32
	for range nStacks {
		if r.err != nil {
			return
		}
		label := r.index(len(t.labels), "label")
		prefix := int(r.uvarint("prefix"))
		if r.err == nil && prefix > prevLen {
			r.fail("stack shares %d frames with a stack of %d", prefix, prevLen)
		}
		n := r.count("suffix length", 1)
		if r.err == nil && prefix+n > MaxDepth {
			r.fail("stack of %d frames, deeper than %d", prefix+n, MaxDepth)
		}
		if r.err == nil && frames+prefix+n > maxDecodedFrames {
			r.fail("more than %d frames in all", maxDecodedFrames)
		}
		if r.err != nil {
			return
		}
		suffix = suffix[:0]
		for range n {
			suffix = append(suffix, int32(r.index(len(t.frames), "frame")))
		}
		count := r.int64("count")
		if r.err == nil && (count == 0 || total > math.MaxInt64-count) {
			r.fail("stack count %d", count)
		}
		if r.err != nil {
			return
		}
		total += count
		frames += prefix + n
		prevLen = prefix + n
		visit(int32(label), prefix, suffix, count)
	}
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
