package profile

import (
	"hash/maphash"
	"math/bits"
	"slices"
	"unsafe"
)

// Interning on the Aggregator's path. Every sample's frames are looked up
// twice (minute and request profile), and hashing a Frame's three strings
// was most of the profile path's CPU. The agent's symbol tables hand out
// the same Frame values again and again, so an Aggregator looks frames up
// by the strings' addresses first (frameTable) and gives each distinct
// frame a number, an aggregator id; a profile then finds its frame by that
// number (frameIndex) and needs no table keyed by frame content at all.

// truncatedAggID is TruncatedFrame's aggregator id in every frameTable, so
// a profile can fold samples without the table at hand.
const truncatedAggID = 0

// Bounds of a frameTable (~60 bytes an entry). When it knows more frames
// than this, or more addresses, it starts over; agents see a few thousand
// frames, times a few address variants (one per PHP process's symbols).
const (
	maxAggIDs    = 1 << 16
	maxAddresses = 1 << 16
)

// frameTable gives frames aggregator ids: equal frames the same id
// whatever their strings' addresses.
type frameTable struct {
	byContent map[Frame]int32
	// A cache of byContent by address: slots hold indexes+1 into seen,
	// found by addrHash. seen keeps the strings alive, so while they are in
	// it their addresses are not reused for other strings: a frame whose
	// strings have the addresses and lengths of a seen one's is equal to
	// it. A frame equal to a seen one at other addresses misses the cache
	// and is found in byContent: the address is a hint, never the key.
	slots  []int32
	shift  uint8
	seen   []Frame
	seenID []int32
}

// id returns f's aggregator id.
func (t *frameTable) id(f *Frame) int32 {
	if t.byContent == nil {
		t.byContent = map[Frame]int32{TruncatedFrame: truncatedAggID}
	}
	h := addrHash(f)
	if len(t.slots) > 0 {
		mask := len(t.slots) - 1
		for i := int(h >> t.shift); ; i = (i + 1) & mask {
			s := t.slots[i]
			if s == 0 {
				break
			}
			if sameStrings(&t.seen[s-1], f) {
				return t.seenID[s-1]
			}
		}
	}
	id, ok := t.byContent[*f]
	if !ok {
		id = int32(len(t.byContent))
		t.byContent[*f] = id
	}
	if len(t.seen) >= maxAddresses {
		clear(t.seen) // let the strings go
		t.seen, t.seenID = t.seen[:0], t.seenID[:0]
		clear(t.slots)
	}
	t.seen = append(t.seen, *f)
	t.seenID = append(t.seenID, id)
	if 2*len(t.seen) > len(t.slots) {
		t.rehash(max(2*len(t.slots), 1024))
	} else {
		t.put(h, int32(len(t.seen)))
	}
	return id
}

func (t *frameTable) put(h uint64, s int32) {
	mask := len(t.slots) - 1
	i := int(h >> t.shift)
	for t.slots[i] != 0 {
		i = (i + 1) & mask
	}
	t.slots[i] = s
}

func (t *frameTable) rehash(n int) {
	t.slots = make([]int32, n)
	t.shift = uint8(64 - bits.TrailingZeros(uint(n)))
	for i := range t.seen {
		t.put(addrHash(&t.seen[i]), int32(i+1))
	}
}

// full tells whether the table should start over.
func (t *frameTable) full() bool { return len(t.byContent) >= maxAggIDs }

// addrHash hashes the addresses of f's strings and its line.
func addrHash(f *Frame) uint64 {
	h := uint64(uintptr(unsafe.Pointer(unsafe.StringData(f.Function)))) * 0x9e3779b97f4a7c15
	h ^= uint64(uintptr(unsafe.Pointer(unsafe.StringData(f.Class)))) * 0xc2b2ae3d27d4eb4f
	h ^= uint64(uintptr(unsafe.Pointer(unsafe.StringData(f.File)))) * 0x165667b19e3779f9
	h ^= uint64(f.Line) * 0xd6e8feb86659fd93
	h ^= h >> 29
	return h * 0xbf58476d1ce4e5b9
}

// sameStrings tells whether a and b have the same line and strings at the
// same addresses: then they are equal, with no string compared.
func sameStrings(a, b *Frame) bool {
	return a.Line == b.Line && sameString(a.Function, b.Function) && sameString(a.File, b.File) &&
		sameString(a.Class, b.Class)
}

func sameString(a, b string) bool {
	return len(a) == len(b) && unsafe.StringData(a) == unsafe.StringData(b)
}

// frameIndex maps aggregator ids to indexes into a profile's Frames, with
// open addressing: cheaper than a map for int keys, and allocated once
// for a request profile's frames.
type frameIndex struct {
	slots []uint64 // (aggregator id+1)<<32 | index; 0 is empty
	shift uint8
	n     int
}

func (x *frameIndex) get(aggID int32) (int32, bool) {
	if len(x.slots) == 0 {
		return 0, false
	}
	mask := len(x.slots) - 1
	key := uint64(aggID+1) << 32
	for i := int(uint32(aggID)*0x9e3779b1) >> x.shift; ; i = (i + 1) & mask {
		s := x.slots[i]
		if s == 0 {
			return 0, false
		}
		if s&^0xffffffff == key {
			return int32(uint32(s)), true
		}
	}
}

func (x *frameIndex) put(aggID, id int32) {
	if 4*(x.n+1) > 3*len(x.slots) {
		old := x.slots
		n := max(2*len(old), minFrameIndex)
		x.slots = make([]uint64, n)
		x.shift = uint8(32 - bits.TrailingZeros(uint(n)))
		for _, s := range old {
			if s != 0 {
				x.insert(s)
			}
		}
	}
	x.insert(uint64(aggID+1)<<32 | uint64(uint32(id)))
	x.n++
}

func (x *frameIndex) insert(s uint64) {
	mask := len(x.slots) - 1
	i := int(uint32((s>>32)-1)*0x9e3779b1) >> x.shift
	for x.slots[i] != 0 {
		i = (i + 1) & mask
	}
	x.slots[i] = s
}

// minFrameIndex holds a typical request profile's frames.
const minFrameIndex = 128

// addAggIDs counts a stack whose frames have the aggregator ids aggIDs:
// stack's frames, cut as Add cuts a deep stack, then TruncatedFrame when
// aggIDs is longer. buf is scratch.
func (p *Profile) addAggIDs(aggIDs []int32, stack []Frame, labels Labels, count int64, buf *[]int32) {
	if p.Frames == nil { // a request's: its first stack and the tips of a few more
		p.Frames = make([]Frame, 0, 2*len(aggIDs))
	}
	ids := (*buf)[:0]
	for i, a := range aggIDs {
		id, ok := p.aggIDs.get(a)
		if !ok {
			f := &TruncatedFrame
			if i < len(stack) {
				f = &stack[i]
			}
			id = p.aggFrameID(a, f)
		}
		ids = append(ids, id)
	}
	*buf = ids
	p.addIDs(ids, p.labelID(labels), count)
}

// aggFrameID interns f, whose aggregator id a is not in p.aggIDs yet.
func (p *Profile) aggFrameID(a int32, f *Frame) int32 {
	var id int32
	if p.aggIDs.n == len(p.Frames) {
		// Every frame has its aggregator id in p.aggIDs, and equal frames
		// have the same: f is new.
		id = int32(len(p.Frames))
		p.Frames = append(p.Frames, *f)
	} else { // some came another way (Add, Merge, a reset table)
		id = p.frameID(*f)
	}
	p.aggIDs.put(a, id)
	return id
}

// forgetAggIDs drops p.aggIDs: the ids are another table's now, or p is
// handed on.
func (p *Profile) forgetAggIDs() { p.aggIDs = frameIndex{} }

// truncatedID interns TruncatedFrame, by its aggregator id in a profile
// that has them.
func (p *Profile) truncatedID() int32 {
	if p.aggIDs.n == 0 {
		return p.frameID(TruncatedFrame)
	}
	if id, ok := p.aggIDs.get(truncatedAggID); ok {
		return id
	}
	return p.aggFrameID(truncatedAggID, &TruncatedFrame)
}

// stackTable finds a profile's stacks by frames and label: open addressing
// over indexes into Stacks. A map keyed by the stack encoded as a string
// needed that string built for every sample, and allocated for every new
// stack.
type stackTable struct {
	slots []uint64 // hash's top 32 bits<<32 | index+1; 0 is empty
	shift uint8
	n     int
}

var stackSeed = maphash.MakeSeed()

func stackHash(ids []int32, label int32) uint64 {
	b := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(ids))), 4*len(ids))
	return maphash.Bytes(stackSeed, b) ^ uint64(uint32(label))*0x9e3779b97f4a7c15
}

// find returns the index of the stack ids under label, hashing to h, or -1.
func (t *stackTable) find(stacks []Stack, ids []int32, label int32, h uint64) int32 {
	if len(t.slots) == 0 {
		return -1
	}
	mask := len(t.slots) - 1
	top := h >> 32 << 32
	for i := int(h >> t.shift); ; i = (i + 1) & mask {
		s := t.slots[i]
		if s == 0 {
			return -1
		}
		if s&^0xffffffff == top {
			j := int32(uint32(s)) - 1
			if st := &stacks[j]; st.Label == label && slices.Equal(st.Frames, ids) {
				return j
			}
		}
	}
}

// add adds the stack at index i, hashing to h.
func (t *stackTable) add(h uint64, i int32) {
	if 4*(t.n+1) > 3*len(t.slots) {
		old := t.slots
		n := max(2*len(old), 8)
		t.slots = make([]uint64, n)
		t.shift = uint8(64 - bits.TrailingZeros(uint(n)))
		for _, s := range old {
			if s != 0 {
				t.insert(s)
			}
		}
	}
	t.insert(h>>32<<32 | uint64(uint32(i+1)))
	t.n++
}

func (t *stackTable) insert(s uint64) {
	mask := len(t.slots) - 1
	// The slot keeps the hash's top 32 bits, enough for tables of up to
	// 2^32 slots.
	i := int(s >> t.shift)
	for t.slots[i] != 0 {
		i = (i + 1) & mask
	}
	t.slots[i] = s
}
