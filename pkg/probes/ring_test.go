package probes

import (
	"bytes"
	"encoding/binary"
	"errors"
	"sync/atomic"
	"testing"
	"unsafe"
)

// fakeRing lays records out the way the kernel does, in Go memory: the data
// area twice in a row, so that a record wrapping around the end reads as one
// slice, as with the kernel's double mapping.
type fakeRing struct {
	size      uint64
	buf       []byte // 2 × size, the second half a mirror of the first
	cons, pro atomic.Uint64
}

func newFakeRing(size uint64) *fakeRing {
	// uint64s, so that the headers are 8-byte aligned as in the kernel.
	words := make([]uint64, 2*size/8)
	return &fakeRing{size: size, buf: unsafe.Slice((*byte)(unsafe.Pointer(&words[0])), 2*size)}
}

func (f *fakeRing) ring() *eventRing {
	return &eventRing{data: f.buf, mask: f.size - 1, pos: &f.cons, head: &f.pro}
}

// put writes one record at the producer position with the given header bits
// and advances the producer.
func (f *fakeRing) put(payload []byte, bits uint32) {
	pos := f.pro.Load()
	rec := make([]byte, ringHeaderSize+len(payload))
	binary.LittleEndian.PutUint32(rec, uint32(len(payload))|bits)
	copy(rec[ringHeaderSize:], payload)
	for i, b := range rec {
		at := (pos + uint64(i)) & (f.size - 1)
		f.buf[at] = b
		f.buf[at+f.size] = b
	}
	f.pro.Store(pos + (uint64(len(rec))+7)&^7)
}

func TestRingReadsRecordsInOrderAcrossTheWrap(t *testing.T) {
	f := newFakeRing(64)
	r := f.ring()
	var got [][]byte
	take := func() {
		t.Helper()
		rec, after, err := r.next()
		if err != nil {
			t.Fatalf("next: %v", err)
		}
		got = append(got, bytes.Clone(rec))
		r.release(after)
	}
	f.put([]byte("first record, 24 bytes.."), 0) // 32 bytes with its header
	f.put([]byte("second"), 0)                   // 16
	take()
	take()
	// The producer is at 48 of 64: the next record wraps around the end.
	f.put([]byte("third, wraps the end"), 0)
	take()
	if _, _, err := r.next(); !errors.Is(err, errRingEmpty) {
		t.Fatalf("after three records: %v, want empty", err)
	}
	want := []string{"first record, 24 bytes..", "second", "third, wraps the end"}
	for i, w := range want {
		if string(got[i]) != w {
			t.Errorf("record %d = %q, want %q", i, got[i], w)
		}
	}
	if c, p := f.cons.Load(), f.pro.Load(); c != p {
		t.Errorf("consumer at %d, producer at %d: the space was not all given back", c, p)
	}
}

func TestRingSkipsDiscardedAndStopsAtBusyRecords(t *testing.T) {
	f := newFakeRing(128)
	r := f.ring()
	f.put([]byte("dropped by its program"), ringDiscardBit)
	f.put([]byte("kept"), 0)
	f.put([]byte("still being written"), ringBusyBit)
	f.put([]byte("committed after the busy one"), 0)

	rec, after, err := r.next()
	if err != nil || string(rec) != "kept" {
		t.Fatalf("next = %q, %v; want the record after the discarded one", rec, err)
	}
	if f.cons.Load() == 0 {
		t.Error("the discarded record's space was not given back")
	}
	r.release(after)
	// Records are consumed in order: a later committed record waits for the
	// busy one before it.
	if rec, _, err := r.next(); !errors.Is(err, errRingEmpty) {
		t.Fatalf("next = %q, %v; want empty while the next record is busy", rec, err)
	}
	// The producer commits it: its header loses the busy bit.
	busyAt := after & r.mask
	hdr := binary.LittleEndian.Uint32(f.buf[busyAt:]) &^ ringBusyBit
	binary.LittleEndian.PutUint32(f.buf[busyAt:], hdr)
	for _, want := range []string{"still being written", "committed after the busy one"} {
		rec, after, err := r.next()
		if err != nil || string(rec) != want {
			t.Fatalf("next = %q, %v; want %q", rec, err, want)
		}
		r.release(after)
	}
}

func TestRingRecordIsBoundedToItsLength(t *testing.T) {
	f := newFakeRing(64)
	r := f.ring()
	f.put([]byte("abc"), 0)
	f.put([]byte("next"), 0)
	rec, _, err := r.next()
	if err != nil {
		t.Fatal(err)
	}
	// A decoder must not see the padding or the next record through
	// append or reslicing.
	if len(rec) != 3 || cap(rec) != 3 {
		t.Errorf("record len %d cap %d, want 3 and 3", len(rec), cap(rec))
	}
}

func TestRingSkipsARecordLongerThanTheRing(t *testing.T) {
	f := newFakeRing(64)
	r := f.ring()
	binary.LittleEndian.PutUint32(f.buf, 1000) // a header no kernel writes
	f.pro.Store(64)
	if _, _, err := r.next(); err == nil || errors.Is(err, errRingEmpty) {
		t.Fatalf("next = %v, want an error for the oversized record", err)
	}
	if c, p := f.cons.Load(), f.pro.Load(); c != p {
		t.Errorf("consumer at %d, producer at %d: the reader would stop on the record, or pass the producer", c, p)
	}
}
