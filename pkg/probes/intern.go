package probes

import (
	"bytes"
	"unsafe"
)

// maxInterned bounds the interner: PHP code has thousands of distinct
// function, class and file names, not millions; past this many the table
// starts over, so hostile or generated names cannot grow it without limit.
const maxInterned = 1 << 16

// interner returns one shared string per distinct name. Deep mode decodes
// up to hundreds of thousands of function events per second, each naming a
// function, class and file that are nearly always ones seen before: a map
// lookup keyed by the record's bytes costs less than copying them, and the
// spans of a 10,000-call trace then share their names instead of holding
// 30,000 copies. Used by the event loop's goroutine only.
type interner struct {
	names map[string]string
	// recent is a direct-mapped cache in front of names, indexed by a
	// name's length and two of its bytes: comparing the record's bytes
	// with the one name there is cheaper than hashing them for the map
	// (the map lookups were ~2.5% of the agent's CPU in deep mode).
	recent [64]string
}

// cString is the package's cString, interned. A nil interner copies.
func (in *interner) cString(b []int8) string {
	u := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(b))), len(b))
	if i := bytes.IndexByte(u, 0); i >= 0 {
		u = u[:i]
	}
	if in == nil || len(u) == 0 {
		return string(u)
	}
	r := &in.recent[(uint(len(u))*0x9e37^uint(u[len(u)-1])<<3^uint(u[len(u)/2]))%uint(len(in.recent))]
	if *r == string(u) { // the conversions do not allocate
		return *r
	}
	s, ok := in.names[string(u)]
	if !ok {
		if in.names == nil || len(in.names) >= maxInterned {
			in.names = make(map[string]string, 1024)
		}
		s = string(u)
		in.names[s] = s
	}
	*r = s
	return s
}
