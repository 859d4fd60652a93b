package assemble

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/tusk-php/tusk/pkg/events"
	"github.com/tusk-php/tusk/pkg/trace"
)

// TestFunctionSpanAttributes pins every attribute of a function span, key,
// value and type, as users see them whether the frame's names come from the
// cache or not: functionSpans builds the map without SetAttr and reuses boxed
// names.
func TestFunctionSpanAttributes(t *testing.T) {
	const file = "/srv/app/index.php"
	unfinished := fn(5, 1, 2, "tax", `Shop\Cart`, 14, 15)
	unfinished.Flags = events.FrameUnfinished
	noFile := fn(6, 1, 2, "strlen", "", 16, 17)
	noFile.File, noFile.Line = "", 0
	badName := fn(7, 1, 2, "b\xffd", "K\xfe", 18, 19)
	included := fn(3, 1, 3, "main", "", 4, 6)
	included.File = "/srv/app/inc/boot.php"
	outer := fn(2, 1, 2, "total", `Shop\Cart`, 2, 12)
	outer.ChildNs = 2 * ms // included
	for _, c := range []struct {
		f     *events.Function
		name  string
		attrs trace.Attributes
	}{
		{fn(1, 0, 1, "main", "", 0, 20), "{main}", trace.Attributes{trace.AttrCodeFunction: "{main}",
			trace.AttrCodeFilePath: file, trace.AttrCodeLineNumber: int64(10), trace.AttrPHPDepth: int64(1), trace.AttrPHPSelfTime: int64(20 * ms)}},
		{outer, `Shop\Cart::total`, trace.Attributes{trace.AttrCodeFunction: `Shop\Cart::total`,
			trace.AttrCodeFilePath: file, trace.AttrCodeLineNumber: int64(20), trace.AttrPHPDepth: int64(2), trace.AttrPHPSelfTime: int64(8 * ms)}},
		{included, "include boot.php", trace.Attributes{trace.AttrCodeFunction: "include boot.php",
			trace.AttrCodeFilePath: "/srv/app/inc/boot.php", trace.AttrCodeLineNumber: int64(30), trace.AttrPHPDepth: int64(3), trace.AttrPHPSelfTime: int64(2 * ms)}},
		{fn(4, 9, 4, "lost", "", 7, 8), "lost", trace.Attributes{trace.AttrCodeFunction: "lost", "tusk.orphan": true,
			trace.AttrCodeFilePath: file, trace.AttrCodeLineNumber: int64(40), trace.AttrPHPDepth: int64(4), trace.AttrPHPSelfTime: int64(ms)}},
		{unfinished, `Shop\Cart::tax`, trace.Attributes{trace.AttrCodeFunction: `Shop\Cart::tax`, trace.AttrPHPUnfinished: true,
			trace.AttrCodeFilePath: file, trace.AttrCodeLineNumber: int64(50), trace.AttrPHPDepth: int64(2), trace.AttrPHPSelfTime: int64(ms)}},
		{noFile, "strlen", trace.Attributes{trace.AttrCodeFunction: "strlen", trace.AttrPHPDepth: int64(2), trace.AttrPHPSelfTime: int64(ms)}},
		{badName, "K\uFFFD::b\uFFFDd", trace.Attributes{trace.AttrCodeFunction: "K\uFFFD::b\uFFFDd",
			trace.AttrCodeFilePath: file, trace.AttrCodeLineNumber: int64(70), trace.AttrPHPDepth: int64(2), trace.AttrPHPSelfTime: int64(ms)}},
	} {
		// Twice in one request: the second build of each frame reads the
		// cache filled by the first; a copy of its strings misses it.
		again := *c.f
		again.Seq += 100
		again.Function, again.File = strings.Clone(c.f.Function), strings.Clone(c.f.File)
		h := newHarness(t)
		h.add(start(), fn(1, 0, 1, "main", "", 0, 20), c.f, c.f, &again, end(reqStart+21*ms, 200))
		h.settle()
		tr := h.only()
		var got []*trace.Span
		for i := range tr.Spans {
			if s := &tr.Spans[i]; s.Name == c.name && s.Attributes[trace.AttrCodeLineNumber] == c.attrs[trace.AttrCodeLineNumber] {
				got = append(got, s)
			}
		}
		if want := 3 + boolInt(c.name == "{main}"); len(got) != want {
			t.Fatalf("%s: %d spans of that name in %v, want %d", c.name, len(got), names(tr), want)
		}
		for _, s := range got {
			if !reflect.DeepEqual(s.Attributes, c.attrs) {
				t.Errorf("%s: attributes\n%#v\nwant\n%#v", c.name, s.Attributes, c.attrs)
			}
			if s.Kind != trace.KindInternal || s.Status != (trace.Status{Code: trace.StatusUnset}) {
				t.Errorf("%s: kind %q status %+v", c.name, s.Kind, s.Status)
			}
		}
		// Each span owns its map, copied from a template or not.
		got[0].Attributes["probe"] = true
		for _, s := range got[1:] {
			if _, shared := s.Attributes["probe"]; shared {
				t.Fatalf("%s: spans share an attribute map", c.name)
			}
		}
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Names the decoder did not intern (a new string per event) miss the cache
// every time; it stays bounded and right.
func TestFrameNamesCacheIsBounded(t *testing.T) {
	var c frameNames
	for i := range maxFrameNames + 10 {
		f := &events.Function{Function: fmt.Sprint("f", i%3), Class: "C", File: "/a.php", Depth: 2}
		if got, _ := c.get(f); got.name != f.Class+"::"+f.Function || got.nameAttr != got.name || got.fileAttr != "/a.php" {
			t.Fatalf("frame %d: %+v", i, got)
		}
		if len(c.all) > maxFrameNames {
			t.Fatalf("%d names cached, more than %d", len(c.all), maxFrameNames)
		}
	}
}

// Seqs far apart (events lost, a corrupted seq) take the map instead of the
// slice: the spans link and events attach the same.
func TestSparseSeqsLinkAsDenseOnes(t *testing.T) {
	build := func(base uint32) *trace.Trace {
		h := newHarness(t)
		h.add(start(),
			fn(base+2, base+1, 2, "a", "", 1, 5),
			fn(base+3, base+2, 3, "b", "", 2, 4),
			fn(base+1, 1, 2, "lost-parent", "", 1, 6), // seq 1 never came: an orphan
			&events.Exception{Header: hdr(reqStart + 3*ms), Frame: base + 3, Class: "LogicException"},
			end(reqStart+7*ms, 200))
		h.settle()
		return h.only()
	}
	for _, base := range []uint32{1, 1 << 30} {
		tr := build(base)
		if ix := newSeqTable[int](3, base+3); (ix.dense != nil) != (base == 1) {
			t.Fatalf("base %d: dense table %v", base, ix.dense != nil)
		}
		orphan, a, b := spanByName(t, tr, "lost-parent"), spanByName(t, tr, "a"), spanByName(t, tr, "b")
		if orphan.ParentSpanID != tr.Root().SpanID || orphan.Attributes["tusk.orphan"] != true ||
			a.ParentSpanID != orphan.SpanID || b.ParentSpanID != a.SpanID || !tr.Incomplete {
			t.Fatalf("base %d: links %v", base, names(tr))
		}
		if len(b.Events) != 1 || b.Status.Code != trace.StatusError {
			t.Fatalf("base %d: the exception is not on its frame: %+v", base, b)
		}
	}
}
