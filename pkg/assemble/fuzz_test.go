package assemble

import (
	"encoding/json"
	"flag"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/tusk-php/tusk/pkg/events"
	"github.com/tusk-php/tusk/pkg/internal/fuzzseed"
	"github.com/tusk-php/tusk/pkg/iohooks"
	"github.com/tusk-php/tusk/pkg/profile"
	"github.com/tusk-php/tusk/pkg/trace"
)

var updateSeeds = flag.Bool("update-seeds", false, "rewrite testdata/fuzz seed corpora")

// script turns fuzz bytes into events: every field of every event is the
// input's (strings as PHP memory and HTTP clients make them), on a few
// PIDs, threads and requests so that they meet.
type script struct{ b []byte }

func (s *script) byte() byte {
	if len(s.b) == 0 {
		return 0
	}
	c := s.b[0]
	s.b = s.b[1:]
	return c
}

func (s *script) u16() uint64 { return uint64(s.byte()) | uint64(s.byte())<<8 }
func (s *script) u32() uint32 { return uint32(s.u16()) | uint32(s.u16())<<16 }
func (s *script) u64() uint64 { return uint64(s.u32()) | uint64(s.u32())<<32 }

func (s *script) str() string {
	n := min(int(s.byte()), len(s.b))
	v := string(s.b[:n])
	s.b = s.b[n:]
	return v
}

func (s *script) frames() []events.FrameRef {
	out := make([]events.FrameRef, s.byte()%10)
	for i := range out {
		out[i] = events.FrameRef{Func: uint64(s.byte() % 4), Name: uint64(s.byte() % 4), Line: s.u32()}
	}
	return out
}

// events decodes the whole script; op 9 lets time pass and flushes, op 10
// says a process exited.
func (s *script) run(a *Assembler, now time.Time) {
	for n := 0; len(s.b) > 0 && n < 5000; n++ {
		op := s.byte() % 11
		h := events.Header{PID: uint32(s.byte()%2) + 100, TID: uint32(s.byte()%3) + 1}
		h.Request = reqStart + uint64(s.byte()%4)*ms
		h.TS = h.Request + s.u16()*1000
		var ev events.Event
		switch op {
		case 0:
			ev = &events.RequestStart{Header: h, Binary: s.u32(), Method: s.str(), Script: s.str(), URI: s.str(), Query: s.str(),
				RequestURI: s.str(), Host: s.str(), TraceParent: s.str(), RequestID: s.str()}
		case 1:
			ev = &events.RequestEnd{Header: h, Status: s.u32(), Lost: s.u32(), Exceptions: s.u32(), OpenFrames: s.u32()}
		case 2:
			ev = &events.Function{Header: h, Start: h.TS - s.u16()*1000, ChildNs: s.u64(), Seq: uint32(s.byte()), Parent: uint32(s.byte()),
				Depth: s.u32(), Line: s.u32(), Flags: s.u32(), Function: s.str(), Class: s.str(), File: s.str()}
		case 3:
			ev = &events.Exception{Header: h, Frame: uint32(s.byte()), Class: s.str()}
		case 4:
			ev = &events.PHPError{Header: h, Frame: uint32(s.byte()), Line: s.u32(), Message: s.str(), File: s.str()}
		case 5:
			ev = &events.Symbol{Header: h, Func: uint64(s.byte() % 4), Name: uint64(s.byte() % 4), User: s.byte()&1 == 1,
				LineStart: s.u32(), Function: s.str(), Class: s.str(), File: s.str()}
		case 6:
			ev = &events.Sample{Header: h, CPU: s.u32(), Frames: s.frames()}
		case 7, 8:
			e := &events.IO{Header: h, Hook: iohooks.All[int(s.byte())%len(iohooks.All)].Name, Start: h.TS - s.u16()*1000,
				Ret: s.u64(), Deref: s.u64(), This: uint64(s.byte() % 4), RetObj: uint64(s.byte() % 4), RetType: s.byte(),
				NumArgs: s.u32(), Text: s.str(), TextLen: s.u32(), Key: s.str(), Frames: s.frames()}
			for i := range e.Args {
				e.Args[i] = uint64(s.byte() % 4)
			}
			for i := range e.ArgTypes {
				e.ArgTypes[i], e.ArgVals[i] = s.byte()%10, uint64(s.byte()%4)
			}
			ev = e
		case 9:
			now = now.Add(time.Duration(s.u16()) * time.Millisecond)
			a.Flush(now)
			continue
		case 10:
			a.ProcessGone(h.PID)
			continue
		}
		a.Add(ev, now)
	}
	a.FlushAll()
}

const fuzzMaxSpans, fuzzMaxIOSpans = 40, 20

// checkTrace asserts what every consumer of a trace relies on.
func checkTrace(t *testing.T, tr *trace.Trace) {
	t.Helper()
	if len(tr.Spans) == 0 || len(tr.Spans) > 1+fuzzMaxSpans+fuzzMaxIOSpans || tr.SpanCount != len(tr.Spans) {
		t.Fatalf("%d spans (count %d)", len(tr.Spans), tr.SpanCount)
	}
	ids := map[trace.SpanID]bool{}
	for _, s := range tr.Spans {
		if ids[s.SpanID] || s.SpanID.IsZero() {
			t.Fatalf("span id %v twice or zero", s.SpanID)
		}
		ids[s.SpanID] = true
	}
	parent := map[trace.SpanID]trace.SpanID{}
	for i, s := range tr.Spans {
		if i > 0 && !ids[s.ParentSpanID] {
			t.Fatalf("span %q hangs from %v, not in the trace", s.Name, s.ParentSpanID)
		}
		if i > 0 {
			parent[s.SpanID] = s.ParentSpanID
		}
	}
	for _, s := range tr.Spans[1:] { // every chain of parents ends at the request span
		id, steps := s.SpanID, 0
		for id != tr.Spans[0].SpanID {
			if id, steps = parent[id], steps+1; steps > len(tr.Spans) {
				t.Fatalf("span %q is in a cycle of parents", s.Name)
			}
		}
	}
	b, err := json.Marshal(tr)
	if err != nil {
		t.Fatal(err)
	}
	if !utf8.Valid(b) {
		t.Fatal("JSON is not UTF-8")
	}
	checkUTF8(t, tr.Service, tr.Pool, tr.Host, tr.Method, tr.Path)
	for _, s := range tr.Spans {
		checkUTF8(t, s.Name, s.Status.Message)
		checkAttrs(t, s.Attributes)
		for _, e := range s.Events {
			checkUTF8(t, e.Name)
			checkAttrs(t, e.Attributes)
		}
	}
}

func checkAttrs(t *testing.T, a trace.Attributes) {
	t.Helper()
	for k, v := range a {
		checkUTF8(t, k)
		if s, ok := v.(string); ok {
			checkUTF8(t, s)
		}
	}
}

func checkUTF8(t *testing.T, ss ...string) {
	t.Helper()
	for _, s := range ss {
		if !utf8.ValidString(s) {
			t.Fatalf("invalid UTF-8 in a trace: %q", s)
		}
	}
}

// FuzzAssemble feeds the assembler events whose every field is hostile:
// names and URIs of any bytes, ids that collide or point nowhere, counts
// that lie, in any order. It must neither panic nor emit a trace a
// consumer would choke on (broken parent links, invalid UTF-8, more spans
// than the bounds).
func FuzzAssemble(f *testing.F) {
	for _, seed := range assembleSeeds() {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		clock := &WallClock{}
		clock.SetOffset(wallOffset)
		var samples int
		a := New(Options{
			Clock:      clock,
			MaxSpans:   fuzzMaxSpans,
			MaxIOSpans: fuzzMaxIOSpans,
			Describe: func(binary, pid uint32) Process {
				return Process{Service: "shop", Pool: "www\xff", Drop: binary == 7}
			},
			Profile: func(_ *trace.Trace, ss []profile.Sample) {
				for _, s := range ss {
					for _, fr := range s.Stack {
						checkUTF8(t, fr.Function, fr.Class, fr.File)
					}
				}
				samples += len(ss)
			},
		}, func(tr *trace.Trace) { checkTrace(t, tr) })
		(&script{b: data}).run(a, time.Unix(0, wallOffset))
		if a.Open() != 0 {
			t.Fatalf("%d requests open after FlushAll", a.Open())
		}
	})
}

// assembleSeeds are scripts of realistic and hostile requests.
func assembleSeeds() map[string][]byte {
	str := func(s string) []byte { return append([]byte{byte(len(s))}, s...) }
	cat := func(parts ...[]byte) []byte {
		var b []byte
		for _, p := range parts {
			b = append(b, p...)
		}
		return b
	}
	hdr := func(op, req byte) []byte { return []byte{op, 0, 0, req, 10, 0} }
	startEv := func(req byte, uri string) []byte {
		return cat(hdr(0, req), []byte{0, 0, 0, 0}, str("GET"), str("/srv/index.php"), str("/index.php"), str(""),
			str(uri), str("shop"), str("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"), str("req-1"))
	}
	endEv := func(req byte) []byte {
		return cat(hdr(1, req), []byte{200, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0})
	}
	fnEv := func(req, seq, parent byte, name string) []byte {
		return cat(hdr(2, req), []byte{5, 0}, make([]byte, 8), []byte{seq, parent, 1, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0},
			str(name), str(""), str("/srv/index.php"))
	}
	return map[string][]byte{
		"one-request": cat(startEv(0, "/cart?id=1"), fnEv(0, 1, 0, "main"), fnEv(0, 2, 1, "get_posts"), endEv(0)),
		"non-utf8": cat(startEv(1, "/caf\xe9/\xff?q=\xc3"), fnEv(1, 1, 0, "\x80\x81\xfe"),
			cat(hdr(3, 1), []byte{1}, str("Ex\xffception")), cat(hdr(5, 1), []byte{1, 1, 1, 0, 0, 0, 0}, str("f\xff"), str("C\xfe"), str("/x\xff")),
			cat(hdr(6, 1), []byte{0, 0, 0, 0, 2, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0}), endEv(1)),
		"cyclic-parents":    cat(startEv(2, "/"), fnEv(2, 1, 2, "a"), fnEv(2, 2, 1, "b"), fnEv(2, 3, 3, "self"), endEv(2)),
		"same-seq-twice":    cat(startEv(3, "/"), fnEv(3, 1, 0, "a"), fnEv(3, 1, 0, "a again"), fnEv(3, 2, 1, "child"), endEv(3)),
		"end-without-start": cat(fnEv(0, 1, 0, "orphan"), endEv(0), []byte{9, 0, 0, 0, 0, 0, 0xff, 0xff}),
		"process-gone":      cat(startEv(0, "/slow"), fnEv(0, 1, 0, "sleep"), []byte{10, 0, 0, 0, 0, 0}),
	}
}

// TestWriteFuzzSeeds writes the committed seed corpora. It only runs with
// -update-seeds.
func TestWriteFuzzSeeds(t *testing.T) {
	if !*updateSeeds {
		t.Skip("run with -update-seeds to rewrite testdata/fuzz")
	}
	seeds := map[string][]any{}
	for name, b := range assembleSeeds() {
		seeds[name] = []any{b}
	}
	fuzzseed.Write(t, "FuzzAssemble", seeds)
}
