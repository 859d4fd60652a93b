package assemble

import "unsafe"

// int64Boxes boxes int64 attribute values into `any` without an allocation
// per value. Go allocates 8 bytes for every boxed integer from 256 up; a
// deep-mode span has one or two of them (its self time, often its line), a
// 10,000-call trace 10,000-20,000 tiny objects for the allocator and the GC.
// Here the interface points into a shared chunk of values instead: the
// values are never written after boxing, so the interface behaves as Go's
// own box would (type switches, ==, reflect, JSON). The price is that a
// chunk stays in memory while any of its values is referenced. Used by the
// Assembler's goroutine only.
type int64Boxes struct {
	chunk []int64
}

const int64BoxesChunk = 1024

// eface is the layout of an empty interface: its type, then a pointer to
// its value.
type eface struct {
	typ, data unsafe.Pointer
}

// int64Type is the type word of an int64 in an interface.
var int64Type = func() unsafe.Pointer {
	var v any = int64(0)
	return (*eface)(unsafe.Pointer(&v)).typ
}()

func (b *int64Boxes) box(v int64) any {
	if v >= 0 && v < 256 {
		return v // Go boxes these without allocating
	}
	if len(b.chunk) == cap(b.chunk) {
		b.chunk = make([]int64, 0, int64BoxesChunk)
	}
	b.chunk = append(b.chunk, v)
	var a any
	e := (*eface)(unsafe.Pointer(&a))
	e.typ, e.data = int64Type, unsafe.Pointer(&b.chunk[len(b.chunk)-1])
	return a
}
