package assemble

import (
	"maps"
	"unsafe"

	"github.com/tusk-php/tusk/pkg/events"
	"github.com/tusk-php/tusk/pkg/trace"
)

// frameNames caches what every span of one PHP function repeats: its name,
// validated, and its name and file boxed as attribute values. A deep-mode
// trace has up to 10,000 spans over a handful of functions; building the
// "Class::method" string, checking its UTF-8 and boxing two strings into
// the attribute map for each of them was ~15% of assembling it. Used by
// the Assembler's goroutine only.
type frameNames struct {
	// recent is a direct-mapped cache in front of all: consecutive frames
	// are mostly of a few functions, and hashing the key for the map cost
	// half of what the cache saved.
	recent [1 << recentFrameBits]frameEntry
	all    map[frameKey]frameName
}

const recentFrameBits = 6

// maxFrameNames bounds the map; past it, it starts over. An application
// has thousands of functions, not millions, but names that are not interned
// (a nil interner) make a new key per event.
const maxFrameNames = 1 << 13

// frameKey identifies a frame's strings by address and length rather than
// by content: the decoder interns them, so a function's events share the
// same strings and the key is compared and hashed as 40 bytes, not as
// strings. Equal keys mean equal strings (strings are immutable and the
// pointers keep them alive); equal strings at other addresses only cost a
// miss. No padding: the map hashes it as plain memory.
type frameKey struct {
	function, class, file unsafe.Pointer
	functionLen, classLen uint32
	fileLen               uint32
	// script is 1 at depth ≤ 1, where PHP's "main" is the script rather
	// than an included file (functionName).
	script uint32
}

type frameName struct {
	name     string // the span name, valid UTF-8
	nameAttr any    // name as the code.function.name value
	fileAttr any    // File, valid UTF-8, as the code.file.path value; nil without one
}

type frameEntry struct {
	key frameKey
	frameName
}

func keyOf(f *events.Function) frameKey {
	k := frameKey{
		function:    unsafe.Pointer(unsafe.StringData(f.Function)),
		class:       unsafe.Pointer(unsafe.StringData(f.Class)),
		file:        unsafe.Pointer(unsafe.StringData(f.File)),
		functionLen: uint32(len(f.Function)),
		classLen:    uint32(len(f.Class)),
		fileLen:     uint32(len(f.File)),
	}
	if f.Depth <= 1 {
		k.script = 1
	}
	return k
}

// get returns f's names and key.
func (c *frameNames) get(f *events.Function) (frameName, frameKey) {
	k := keyOf(f)
	h := (uint64(uintptr(k.function)^uintptr(k.file)>>3) * 0x9e3779b97f4a7c15) >> (64 - recentFrameBits)
	r := &c.recent[h]
	if r.key == k && r.name != "" {
		return r.frameName, k
	}
	n, ok := c.all[k]
	if !ok {
		if c.all == nil || len(c.all) >= maxFrameNames {
			c.all = make(map[frameKey]frameName, 256)
		}
		name := validString(functionName(f))
		n = frameName{name: name, nameAttr: name}
		if f.File != "" {
			n.fileAttr = validString(f.File)
		}
		c.all[k] = n
	}
	*r = frameEntry{key: k, frameName: n}
	return n, k
}

// attrTemplates makes function spans' attribute maps by copying a template
// when a span has the same attributes as an earlier one, its self time
// aside: the runtime copies a small map's memory instead of hashing and
// inserting five keys (which, with the map's allocation, was ~20% of the
// agent's CPU in deep mode). A template is made at the second span of its
// shape, so shapes seen once cost nothing more. Used by the Assembler's
// goroutine only.
type attrTemplates struct {
	slots [1 << templateBits]attrTemplate
}

const templateBits = 8

// attrShape is what a function span's attributes are made of, its self
// time aside. PHP reports the line a function starts executing at and the
// depth of its stack, so the calls of a function from one place share one.
type attrShape struct {
	frame              frameKey
	line, depth        uint32
	orphan, unfinished bool
}

type attrTemplate struct {
	shape attrShape
	attrs trace.Attributes // nil until the shape's second span; never changed once made
}

// attributes returns a new map of f's span attributes, self time aside.
func (t *attrTemplates) attributes(f *events.Function, frame frameName, key frameKey, orphan bool, ints *int64Boxes) trace.Attributes {
	shape := attrShape{frame: key, line: f.Line, depth: f.Depth, orphan: orphan, unfinished: f.Flags&events.FrameUnfinished != 0}
	h := (uint64(uintptr(key.function)^uintptr(key.file)>>3^uintptr(shape.depth)<<4^uintptr(shape.line)<<12) * 0x9e3779b97f4a7c15) >> (64 - templateBits)
	slot := &t.slots[h]
	if slot.shape != shape {
		*slot = attrTemplate{shape: shape}
		return shape.attributes(frame, ints)
	}
	if slot.attrs == nil {
		slot.attrs = shape.attributes(frame, ints)
	}
	return maps.Clone(slot.attrs)
}

func (s attrShape) attributes(frame frameName, ints *int64Boxes) trace.Attributes {
	attrs := make(trace.Attributes, functionSpanAttributes)
	if s.orphan {
		attrs["tusk.orphan"] = true
	}
	attrs[trace.AttrCodeFunction] = frame.nameAttr
	if frame.fileAttr != nil {
		attrs[trace.AttrCodeFilePath] = frame.fileAttr
	}
	if s.line != 0 {
		attrs[trace.AttrCodeLineNumber] = ints.box(int64(s.line))
	}
	attrs[trace.AttrPHPDepth] = ints.box(int64(s.depth))
	if s.unfinished {
		attrs[trace.AttrPHPUnfinished] = true
	}
	return attrs
}
