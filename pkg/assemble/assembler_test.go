package assemble

import (
	"testing"
	"time"

	"github.com/tusk-php/tusk/pkg/events"
	"github.com/tusk-php/tusk/pkg/trace"
)

const (
	ms       = uint64(time.Millisecond)
	pid      = 4242
	tid      = 4242
	reqStart = 1_000 * ms // monotonic ns of the request start
	// wallOffset makes monotonic 0 the Unix time 2026-11-26T00:00:00Z.
	wallOffset = int64(1795651200) * int64(time.Second)
)

// harness feeds events to an Assembler and collects the traces.
type harness struct {
	t      *testing.T
	a      *Assembler
	traces []*trace.Trace
	now    time.Time
}

func newHarness(t *testing.T) *harness {
	h := &harness{t: t, now: time.Unix(0, wallOffset)}
	clock := &WallClock{}
	clock.SetOffset(wallOffset)
	h.a = New(Options{
		Host:  "web-1",
		Clock: clock,
		Describe: func(binary, pid uint32) Process {
			return Process{Service: "shop", Pool: "www", PHPVersion: "8.2.36", ProbeMode: "usdt"}
		},
	}, func(tr *trace.Trace) { h.traces = append(h.traces, tr) })
	return h
}

func (h *harness) add(evs ...events.Event) {
	for _, e := range evs {
		h.a.Add(e, h.now)
	}
}

// settle lets time pass and flushes.
func (h *harness) settle() {
	h.now = h.now.Add(time.Second)
	h.a.Flush(h.now)
}

func (h *harness) only() *trace.Trace {
	h.t.Helper()
	if len(h.traces) != 1 {
		h.t.Fatalf("want 1 trace, got %d", len(h.traces))
	}
	return h.traces[0]
}

func hdr(ts uint64) events.Header {
	return events.Header{TS: ts, Request: reqStart, PID: pid, TID: tid}
}

func start() *events.RequestStart {
	return &events.RequestStart{
		Header: hdr(reqStart), Method: "GET", Script: "/srv/app/index.php", URI: "/index.php",
		RequestURI: "/shop/cart?id=7&x=1", Host: "shop.example:8080",
	}
}

func end(at uint64, status uint32) *events.RequestEnd {
	return &events.RequestEnd{Header: hdr(at), Status: status}
}

// fn is a function frame: seq/parent ids, depth, [from, to) in ms after the request start.
func fn(seq, parent, depth uint32, name, class string, from, to uint64) *events.Function {
	return &events.Function{
		Header: hdr(reqStart + to*ms), Start: reqStart + from*ms,
		Seq: seq, Parent: parent, Depth: depth, Function: name, Class: class, File: "/srv/app/index.php", Line: 10 * seq,
	}
}

func spanByName(t *testing.T, tr *trace.Trace, name string) *trace.Span {
	t.Helper()
	for i := range tr.Spans {
		if tr.Spans[i].Name == name {
			return &tr.Spans[i]
		}
	}
	t.Fatalf("no span %q in %v", name, names(tr))
	return nil
}

func names(tr *trace.Trace) []string {
	var out []string
	for _, s := range tr.Spans {
		out = append(out, s.Name)
	}
	return out
}

func TestRequestSpanFromStartAndEnd(t *testing.T) {
	h := newHarness(t)
	h.add(start(), end(reqStart+30*ms, 201))
	if len(h.traces) != 0 {
		t.Fatal("a trace was emitted before the settle delay")
	}
	h.settle()
	tr := h.only()
	root := tr.Root()

	if tr.Method != "GET" || tr.Path != "/shop/cart" || tr.StatusCode != 201 || tr.Service != "shop" || tr.Pool != "www" || tr.Host != "web-1" {
		t.Fatalf("summary: %+v", tr.Summary)
	}
	if tr.Error || tr.Incomplete {
		t.Fatalf("want a clean trace: error=%v incomplete=%v", tr.Error, tr.Incomplete)
	}
	if root.Name != "GET /shop/cart" || root.Kind != trace.KindServer || !root.ParentSpanID.IsZero() {
		t.Fatalf("root span: %+v", root)
	}
	if got := root.Attributes[trace.AttrURLQuery]; got != "id=7&x=1" {
		t.Fatalf("url.query = %v", got)
	}
	if got := root.Attributes[trace.AttrServerAddress]; got != "shop.example:8080" {
		t.Fatalf("server.address = %v", got)
	}
	if root.DurationNano != int64(30*ms) || tr.DurationNano != int64(30*ms) {
		t.Fatalf("duration %d, want 30ms", root.DurationNano)
	}
	if want := wallOffset + int64(reqStart); root.StartUnixNano != want {
		t.Fatalf("start %d, want monotonic converted to wall clock %d", root.StartUnixNano, want)
	}
	if tr.TraceID.IsZero() || root.SpanID.IsZero() {
		t.Fatal("ids must be random and non-zero")
	}
}

func TestScriptNameUsedWithoutFastCGIRequestURI(t *testing.T) {
	h := newHarness(t)
	s := start()
	s.RequestURI, s.URI, s.Query = "", "/report.php", "month=5"
	h.add(s, end(reqStart+ms, 200))
	h.settle()
	tr := h.only()
	if tr.Path != "/report.php" || tr.Root().Attributes[trace.AttrURLQuery] != "month=5" {
		t.Fatalf("path %q query %v", tr.Path, tr.Root().Attributes[trace.AttrURLQuery])
	}
}

func TestNestedFunctionsGetTheirParents(t *testing.T) {
	h := newHarness(t)
	// {main} → a() → b() 20 ms, c() 5 ms; Cart::total() → Cart::tax().
	h.add(start(),
		fn(3, 2, 3, "b", "", 1, 21),
		fn(4, 2, 3, "c", "", 21, 26),
		fn(2, 1, 2, "a", "", 1, 26),
		fn(6, 5, 3, "tax", `Shop\Cart`, 27, 29),
		fn(5, 1, 2, "total", `Shop\Cart`, 26, 29),
		fn(1, 0, 1, "main", "", 0, 30),
		end(reqStart+31*ms, 200))
	h.settle()
	tr := h.only()
	if len(tr.Spans) != 7 || tr.SpanCount != 7 {
		t.Fatalf("spans %v", names(tr))
	}
	root := tr.Root()
	main := spanByName(t, tr, "{main}")
	a := spanByName(t, tr, "a")
	b := spanByName(t, tr, "b")
	c := spanByName(t, tr, "c")
	total := spanByName(t, tr, `Shop\Cart::total`)
	tax := spanByName(t, tr, `Shop\Cart::tax`)
	for child, parent := range map[*trace.Span]*trace.Span{main: root, a: main, b: a, c: a, total: main, tax: total} {
		if child.ParentSpanID != parent.SpanID {
			t.Errorf("%s: parent %s, want %s", child.Name, child.ParentSpanID, parent.Name)
		}
	}
	if b.DurationNano != int64(20*ms) || c.DurationNano != int64(5*ms) {
		t.Errorf("b %dns c %dns", b.DurationNano, c.DurationNano)
	}
	if got := tax.Attributes[trace.AttrCodeFunction]; got != `Shop\Cart::tax` {
		t.Errorf("code.function.name = %v", got)
	}
	if got := b.Attributes[trace.AttrCodeLineNumber]; got != int64(30) {
		t.Errorf("code.line.number = %v", got)
	}
	// Spans are ordered by start time after the root.
	for i := 2; i < len(tr.Spans); i++ {
		if tr.Spans[i].StartUnixNano < tr.Spans[i-1].StartUnixNano {
			t.Fatalf("spans not in start order: %v", names(tr))
		}
	}
}

func TestSelfTimeExcludesCallees(t *testing.T) {
	h := newHarness(t)
	a := fn(1, 0, 1, "a", "", 0, 30)
	a.ChildNs = 25 * ms // b and c, reported or not, took 25 of its 30 ms
	h.add(start(), a, end(reqStart+30*ms, 200))
	h.settle()
	if got := spanByName(t, h.only(), "a").Attributes[trace.AttrPHPSelfTime]; got != int64(5*ms) {
		t.Fatalf("self time %v, want 5ms", got)
	}
}

func TestEventsArrivingOutOfOrder(t *testing.T) {
	h := newHarness(t)
	// End first, then a function, then the start: all within the settle delay.
	h.add(end(reqStart+10*ms, 200), fn(1, 0, 1, "slow", "", 1, 9), start())
	h.settle()
	tr := h.only()
	if tr.Incomplete || tr.Path != "/shop/cart" || len(tr.Spans) != 2 {
		t.Fatalf("incomplete=%v path=%q spans=%v", tr.Incomplete, tr.Path, names(tr))
	}
}

func TestNestedRecursionKeepsEachFrame(t *testing.T) {
	h := newHarness(t)
	// fib(3) → fib(2) → fib(1): same name, parents by seq.
	h.add(start(),
		fn(3, 2, 3, "fib", "", 2, 4),
		fn(2, 1, 2, "fib", "", 1, 5),
		fn(1, 0, 1, "fib", "", 0, 6),
		end(reqStart+7*ms, 200))
	h.settle()
	tr := h.only()
	if len(tr.Spans) != 4 {
		t.Fatalf("spans %v", names(tr))
	}
	for i := 2; i < 4; i++ {
		if tr.Spans[i].ParentSpanID != tr.Spans[i-1].SpanID {
			t.Fatalf("recursion level %d is not the child of level %d", i, i-1)
		}
	}
}

func TestMissingReturnFlushedAtShutdown(t *testing.T) {
	h := newHarness(t)
	f := fn(1, 0, 1, "dies", "", 1, 8)
	f.Flags = events.FrameUnfinished
	e := end(reqStart+8*ms, 500)
	e.OpenFrames = 1
	h.add(start(), f, e)
	h.settle()
	tr := h.only()
	if got := spanByName(t, tr, "dies").Attributes[trace.AttrPHPUnfinished]; got != true {
		t.Fatalf("php.unfinished = %v", got)
	}
	if !tr.Error || tr.Root().Status.Code != trace.StatusError {
		t.Fatal("a 500 must mark the request as an error")
	}
}

func TestLostEndIsAbandonedAsIncomplete(t *testing.T) {
	h := newHarness(t)
	h.add(start(), fn(1, 0, 1, "a", "", 1, 5))
	h.settle()
	if len(h.traces) != 0 {
		t.Fatal("emitted before the abandon timeout")
	}
	h.now = h.now.Add(time.Hour)
	h.a.Flush(h.now)
	tr := h.only()
	if !tr.Incomplete || tr.DurationNano != int64(5*ms) {
		t.Fatalf("incomplete=%v duration=%d (want the last event seen)", tr.Incomplete, tr.DurationNano)
	}
	if h.a.Stats().Abandoned != 1 {
		t.Fatal("abandoned not counted")
	}
}

func TestNextRequestOnTheThreadClosesOneWithoutEnd(t *testing.T) {
	h := newHarness(t)
	h.add(start())
	next := start()
	next.Header = events.Header{TS: reqStart + 50*ms, Request: reqStart + 50*ms, PID: pid, TID: tid}
	h.a.Add(next, h.now)
	if len(h.traces) != 1 || !h.traces[0].Incomplete {
		t.Fatalf("the first request must be emitted as incomplete at once, got %d traces", len(h.traces))
	}
	if h.a.Open() != 1 {
		t.Fatalf("open %d, want the second request", h.a.Open())
	}
}

func TestOrphanHangsFromTheRequest(t *testing.T) {
	h := newHarness(t)
	h.add(start(), fn(7, 3, 4, "lonely", "", 2, 4), end(reqStart+5*ms, 200))
	h.settle()
	tr := h.only()
	s := spanByName(t, tr, "lonely")
	if s.ParentSpanID != tr.Root().SpanID || s.Attributes["tusk.orphan"] != true || !tr.Incomplete {
		t.Fatalf("orphan: parent=%s attrs=%v incomplete=%v", s.ParentSpanID, s.Attributes, tr.Incomplete)
	}
}

func TestExceptionsMarkTheirSpanAndUncaughtOnesTheRequest(t *testing.T) {
	h := newHarness(t)
	thrower := fn(2, 1, 2, "boom", "", 1, 2)
	thrower.Flags = events.FrameThrew
	e := end(reqStart+3*ms, 500)
	e.Exceptions = 1
	h.add(start(), thrower, fn(1, 0, 1, "main", "", 0, 3),
		&events.Exception{Header: hdr(reqStart + 2*ms), Frame: 2, Class: "RuntimeException"},
		&events.PHPError{Header: hdr(reqStart + 3*ms), Frame: 0, Line: 5, File: "/srv/app/error.php",
			Message: "Uncaught RuntimeException: boom in /srv/app/error.php:5\nStack trace:\n#0 {main}"},
		e)
	h.settle()
	tr := h.only()
	boom := spanByName(t, tr, "boom")
	if boom.Status.Code != trace.StatusError || len(boom.Events) != 1 || boom.Events[0].Attributes[trace.AttrExceptionType] != "RuntimeException" {
		t.Fatalf("boom span: %+v", boom)
	}
	root := tr.Root()
	if root.Status.Code != trace.StatusError || root.Status.Message != "Uncaught RuntimeException: boom in /srv/app/error.php:5" {
		t.Fatalf("root status %+v", root.Status)
	}
	if len(root.Events) != 1 || root.Events[0].Attributes[trace.AttrExceptionEscaped] != true {
		t.Fatalf("root events %+v", root.Events)
	}
	if root.Attributes[trace.AttrPHPExceptions] != int64(1) {
		t.Fatalf("php.exceptions = %v", root.Attributes[trace.AttrPHPExceptions])
	}
}

func TestCaughtExceptionWithoutDeepModeDoesNotFailTheRequest(t *testing.T) {
	h := newHarness(t)
	h.add(start(), &events.Exception{Header: hdr(reqStart + ms), Class: "DomainException"}, end(reqStart+2*ms, 200))
	h.settle()
	tr := h.only()
	if tr.Error || len(tr.Root().Events) != 1 {
		t.Fatalf("error=%v events=%v", tr.Error, tr.Root().Events)
	}
}

func TestLostEventsMarkTheTraceIncomplete(t *testing.T) {
	h := newHarness(t)
	e := end(reqStart+2*ms, 200)
	e.Lost = 3
	h.add(start(), e)
	h.settle()
	tr := h.only()
	if !tr.Incomplete || tr.Root().Attributes[trace.AttrTuskLostEvents] != int64(3) {
		t.Fatalf("incomplete=%v attrs=%v", tr.Incomplete, tr.Root().Attributes)
	}
}

func TestTraceParentIsContinued(t *testing.T) {
	h := newHarness(t)
	s := start()
	s.TraceParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	h.add(s, end(reqStart+ms, 200))
	h.settle()
	tr := h.only()
	if tr.TraceID.String() != "4bf92f3577b34da6a3ce929d0e0e4736" || tr.Root().ParentSpanID.String() != "00f067aa0ba902b7" {
		t.Fatalf("trace %s parent %s", tr.TraceID, tr.Root().ParentSpanID)
	}
}

func TestMalformedTraceParentStartsANewTrace(t *testing.T) {
	for _, v := range []string{
		"", "garbage", "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
		"00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		"00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-zz",
	} {
		if _, ok := parseTraceParent(v); ok {
			t.Errorf("%q accepted", v)
		}
	}
}

func TestFunctionNamesForTopLevelCode(t *testing.T) {
	for _, c := range []struct {
		f    *events.Function
		want string
	}{
		{&events.Function{Function: "main", Depth: 1, File: "/srv/index.php"}, "{main}"},
		{&events.Function{Function: "main", Depth: 3, File: "/srv/wp-settings.php"}, "include wp-settings.php"},
		{&events.Function{Function: "get_posts", Class: "WP_Query", Depth: 5}, "WP_Query::get_posts"},
	} {
		if got := functionName(c.f); got != c.want {
			t.Errorf("%+v: %q, want %q", c.f, got, c.want)
		}
	}
}

func TestSpanCapCountsTheRest(t *testing.T) {
	h := newHarness(t)
	h.a.opts.MaxSpans = 2
	h.add(start(), fn(1, 0, 1, "a", "", 0, 1), fn(2, 0, 1, "b", "", 1, 2), fn(3, 0, 1, "c", "", 2, 3), end(reqStart+4*ms, 200))
	h.settle()
	tr := h.only()
	if len(tr.Spans) != 3 || !tr.Incomplete || tr.Root().Attributes["tusk.dropped_spans"] != int64(1) {
		t.Fatalf("spans %v incomplete=%v", names(tr), tr.Incomplete)
	}
}

func TestFlushAllEmitsEverything(t *testing.T) {
	h := newHarness(t)
	h.add(start())
	h.a.FlushAll()
	if len(h.traces) != 1 || !h.traces[0].Incomplete || h.a.Open() != 0 {
		t.Fatal("FlushAll must emit open requests as incomplete")
	}
}

func TestEventsOutsideARequestAreIgnored(t *testing.T) {
	h := newHarness(t)
	h.add(&events.Exception{Header: events.Header{TS: 5, PID: pid, TID: tid}})
	h.a.FlushAll()
	if len(h.traces) != 0 {
		t.Fatal("an event with no request produced a trace")
	}
}

// BenchmarkAssembleCallHeavyRequest is bench/ingest's request: 9000 calls
// of one function from the script, each a span (ns/op / 9000 = per event).
// PHP reports the line a function starts executing at, the same for every
// call ("one line", as in bench/ingest); "a line per call" is the case where
// no two spans have the same attributes.
func BenchmarkAssembleCallHeavyRequest(b *testing.B) {
	for _, c := range []struct {
		name string
		line func(i uint32) uint32
	}{
		{"one line", func(uint32) uint32 { return 6 }},
		{"a line per call", func(i uint32) uint32 { return 10 * (i + 1) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			a := New(Options{Clock: &WallClock{}}, func(*trace.Trace) {})
			now := time.Unix(0, 0)
			const calls = 9000
			evs := []events.Event{start()}
			for i := uint32(1); i <= calls; i++ {
				f := fn(i+1, 1, 2, "f", "", 0, 1)
				f.Start, f.Header.TS, f.Line = reqStart+uint64(i)*1000, reqStart+uint64(i)*1000+500, c.line(i)
				evs = append(evs, f)
			}
			evs = append(evs, fn(1, 0, 1, "main", "", 0, 20), end(reqStart+21*ms, 200))
			b.ReportAllocs()
			for b.Loop() {
				for _, e := range evs {
					a.Add(e, now)
				}
				a.FlushAll()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/calls, "ns/call")
		})
	}
}

func BenchmarkAssembleDeepRequest(b *testing.B) {
	evs := []events.Event{start()}
	for i := uint32(1); i <= 50; i++ {
		evs = append(evs, fn(i, i-1, i, "f", "C", uint64(i), 100))
	}
	evs = append(evs, end(reqStart+101*ms, 200))
	benchAssemble(b, evs)
}

// benchAssemble assembles the request made of evs once per iteration, on
// one assembler as the agent does (its caches warm).
func benchAssemble(b *testing.B, evs []events.Event) {
	a := New(Options{Clock: &WallClock{}}, func(*trace.Trace) {})
	now := time.Unix(0, 0)
	b.ReportAllocs()
	for b.Loop() {
		for _, e := range evs {
			a.Add(e, now)
		}
		a.FlushAll()
	}
}

// A script that throws and catches in a loop keeps the agent's memory
// bounded: the first exceptions become events, the rest are counted; the
// fatal error that ends the request is still seen.
func TestExceptionsPerRequestAreBounded(t *testing.T) {
	h := newHarness(t)
	h.add(start())
	for i := range maxEventsPerRequest + 500 {
		h.add(&events.Exception{Header: hdr(reqStart + uint64(i)), Class: "RuntimeException"})
	}
	h.add(&events.PHPError{Header: hdr(reqStart + 5*ms), Message: "Uncaught RuntimeException: no"}, end(reqStart+10*ms, 500))
	h.settle()
	root := h.only().Root()
	if len(root.Events) != maxEventsPerRequest+1 || root.Attributes["tusk.dropped_events"] != int64(500) || root.Status.Code != trace.StatusError {
		t.Fatalf("%d events, dropped %v, status %+v", len(root.Events), root.Attributes["tusk.dropped_events"], root.Status)
	}
}
