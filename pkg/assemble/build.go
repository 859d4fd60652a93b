package assemble

import (
	"cmp"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/tusk-php/tusk/pkg/events"
	"github.com/tusk-php/tusk/pkg/trace"
)

// build makes the trace of one request. Whatever is missing (start, end,
// a parent) is stated on the trace rather than guessed silently.
func (a *Assembler) build(key requestKey, p *pending) *trace.Trace {
	t := &trace.Trace{}
	t.Host = a.opts.Host
	incomplete := p.start == nil || p.end == nil || p.overflow > 0

	// Sized for the usual dozen attributes: grown from empty, the map was
	// made twice.
	root := trace.Span{Kind: trace.KindServer, Status: trace.Status{Code: trace.StatusUnset}, Attributes: make(trace.Attributes, 12)}
	root.StartUnixNano = a.opts.Clock.Wall(key.request)
	endTS := p.lastTS
	if p.end != nil {
		endTS = p.end.TS
	}
	if endTS > key.request {
		root.DurationNano = int64(endTS - key.request)
	}
	root.SetAttr(trace.AttrProcessPID, int64(key.pid))
	root.SetAttr(trace.AttrThreadID, int64(key.tid))
	if a.opts.Host != "" {
		root.SetAttr(trace.AttrHostName, a.opts.Host)
	}

	var parentCtx parentContext
	var hasParent bool
	if s := p.start; s != nil {
		a.describeRequest(t, &root, s, p.proc)
		parentCtx, hasParent = parseTraceParent(s.TraceParent)
	}
	if hasParent {
		t.TraceID = parentCtx.TraceID
		root.ParentSpanID = parentCtx.SpanID
	} else {
		t.TraceID = trace.NewTraceID()
	}
	root.SpanID = a.spanIDs.next()

	lost := uint32(0)
	if e := p.end; e != nil {
		t.StatusCode = int(e.Status)
		if e.Status != 0 {
			root.SetAttr(trace.AttrHTTPStatusCode, int64(e.Status))
		}
		if e.Exceptions > 0 {
			root.SetAttr(trace.AttrPHPExceptions, int64(e.Exceptions))
		}
		lost = e.Lost
	}
	if lost > 0 {
		incomplete = true
		root.SetAttr(trace.AttrTuskLostEvents, int64(lost))
	}
	if p.overflow > 0 {
		root.SetAttr("tusk.dropped_spans", int64(p.overflow))
	}
	if p.eventOverflow > 0 {
		root.SetAttr("tusk.dropped_events", int64(p.eventOverflow))
	}
	if t.StatusCode >= 500 {
		root.Status = trace.Status{Code: trace.StatusError, Message: fmt.Sprintf("HTTP %d", t.StatusCode)}
	}

	// The function spans are made in place: a 9000-call request's spans are
	// ~1.3 MB, not to be copied again.
	t.Spans = make([]trace.Span, 1, 1+len(p.functions)+len(p.io))
	spans, bySeq, orphans := a.functionSpans(t.Spans[1:1], root.SpanID, p.functions)
	if orphans > 0 {
		incomplete = true
	}
	a.attachEvents(&root, spans, bySeq, p)
	ioSpans := a.ioSpans(&root, spans, p.io)
	if p.ioOverflow > 0 {
		root.SetAttr(trace.AttrDroppedIO, int64(p.ioOverflow))
	}
	if root.Status.Code == trace.StatusError {
		t.Error = true
	}
	if p.start == nil {
		root.Name = "request (start not recorded)"
	}
	if incomplete {
		root.SetAttr("tusk.incomplete", true)
	}

	t.Spans = append(t.Spans[:1+len(spans)], ioSpans...)
	t.Spans[0] = root
	if n, ok := root.Attributes[trace.AttrNPlusOneGroups].(int64); ok {
		t.NPlusOne = int(n)
	}
	t.StartUnixNano = root.StartUnixNano
	t.DurationNano = root.DurationNano
	t.Incomplete = incomplete
	t.SpanCount = len(t.Spans)
	validTrace(t, 1, len(t.Spans)) // function spans (functionSpans) and I/O spans (ioSpans) are valid
	return t
}

// describeRequest fills the request span from request__startup: the real
// URL from the FastCGI REQUEST_URI when php-fpm had one, PHP's own view of
// the script otherwise (php-cli).
func (a *Assembler) describeRequest(t *trace.Trace, root *trace.Span, s *events.RequestStart, proc Process) {
	uri := s.RequestURI
	if uri == "" {
		uri = s.URI
		if s.Query != "" {
			uri += "?" + s.Query
		}
	}
	p, query, _ := strings.Cut(uri, "?")
	t.Method = s.Method
	t.Path = p
	if s.Method != "" {
		root.Name = s.Method + " " + p
		root.SetAttr(trace.AttrHTTPMethod, s.Method)
	} else {
		root.Name = "php " + path.Base(s.Script)
	}
	if p != "" {
		root.SetAttr(trace.AttrURLPath, p)
	}
	if query != "" {
		root.SetAttr(trace.AttrURLQuery, query)
	}
	if s.Host != "" {
		root.SetAttr(trace.AttrServerAddress, s.Host)
	}
	if s.Script != "" {
		root.SetAttr(trace.AttrPHPScript, s.Script)
	}
	if s.RequestID != "" {
		root.SetAttr("http.request.header.x-request-id", s.RequestID)
	}
	t.Service, t.Pool = proc.Service, proc.Pool
	if proc.Pool != "" {
		root.SetAttr(trace.AttrPHPPool, proc.Pool)
	}
	if proc.PHPVersion != "" {
		root.SetAttr(trace.AttrPHPVersion, proc.PHPVersion)
	}
	if proc.ProbeMode != "" {
		root.SetAttr(trace.AttrPHPProbeMode, proc.ProbeMode)
	}
	if proc.DeepNice > 0 {
		root.SetAttr(trace.AttrTuskDeepNice, int64(proc.DeepNice))
	}
	for k, v := range proc.Attributes {
		if v != "" {
			root.SetAttr(k, v)
		}
	}
	if t.Service == "" {
		t.Service = "php"
	}
	root.SetAttr(trace.AttrServiceName, t.Service)
}

// functionSpans appends to spans the spans of deep-mode frames, linked to
// their parents by seq, in start order, and returns where each seq's span
// is (its index in what was appended, plus one). A frame whose parent
// never arrived (lost event) hangs from the request span and is counted as
// an orphan. A caller entered before its callee, so its seq is lower: a
// link to a higher or equal seq (a wrapped counter, a corrupted event)
// would make a cycle and is treated as missing; a seq seen twice gets its
// own span id, its callees hang from the first.
func (a *Assembler) functionSpans(spans []trace.Span, rootID trace.SpanID, fns []*events.Function) ([]trace.Span, seqTable[int], int) {
	if len(fns) == 0 {
		return spans, seqTable[int]{}, 0
	}
	maxSeq := uint32(0)
	for _, f := range fns {
		maxSeq = max(maxSeq, f.Seq)
	}
	ids := newSeqTable[trace.SpanID](len(fns), maxSeq)
	for _, f := range fns {
		ids.set(f.Seq, a.spanIDs.next())
	}
	sorted := slices.Clone(fns)
	slices.SortStableFunc(sorted, func(x, y *events.Function) int { return cmp.Compare(x.Start, y.Start) })
	bySeq := newSeqTable[int](len(fns), maxSeq)
	from := len(spans)
	orphans := 0
	for _, f := range sorted {
		id := ids.get(f.Seq)
		first := bySeq.get(f.Seq) == 0
		if !first {
			id = a.spanIDs.next()
		}
		frame, key := a.frameNames.get(f)
		s := trace.Span{
			SpanID:        id,
			ParentSpanID:  rootID,
			Name:          frame.name,
			Kind:          trace.KindInternal,
			StartUnixNano: a.opts.Clock.Wall(f.Start),
			Status:        trace.Status{Code: trace.StatusUnset},
		}
		if f.Hdr().TS > f.Start {
			s.DurationNano = int64(f.Hdr().TS - f.Start)
		}
		orphan := false
		if f.Parent != 0 {
			if pid := ids.get(f.Parent); !pid.IsZero() && f.Parent < f.Seq {
				s.ParentSpanID = pid
			} else {
				orphans++
				orphan = true
			}
		}
		s.Attributes = a.templates.attributes(f, frame, key, orphan, &a.ints)
		s.Attributes[trace.AttrPHPSelfTime] = a.ints.box(max(s.DurationNano-int64(f.ChildNs), 0))
		if first {
			bySeq.set(f.Seq, len(spans)-from+1)
		}
		spans = append(spans, s)
	}
	return spans, bySeq, orphans
}

// functionSpanAttributes is the most attributes a function span gets: the
// map is sized for them once.
const functionSpanAttributes = 7

// seqTable maps the seqs of a request's frames to values, the zero value
// meaning none. Seqs count up from 1 in each request, so a slice indexed by
// seq holds them, unless lost or corrupted events made them sparse: then a
// map, which for a 9000-call request cost ~25% of assembling it.
type seqTable[V comparable] struct {
	dense  []V
	sparse map[uint32]V
}

func newSeqTable[V comparable](n int, maxSeq uint32) seqTable[V] {
	if uint64(maxSeq) <= 4*uint64(n)+1024 {
		return seqTable[V]{dense: make([]V, int(maxSeq)+1)}
	}
	return seqTable[V]{sparse: make(map[uint32]V, n)}
}

func (t seqTable[V]) get(seq uint32) V {
	if int(seq) < len(t.dense) {
		return t.dense[seq]
	}
	return t.sparse[seq] // a nil map for a dense table: the zero value
}

// set stores v for seq, which is at most the table's maxSeq.
func (t seqTable[V]) set(seq uint32, v V) {
	if t.dense != nil {
		t.dense[seq] = v
		return
	}
	t.sparse[seq] = v
}

// qualifiedName is "Class::method" or "function".
func qualifiedName(f *events.Function) string {
	if f.Class != "" {
		return f.Class + "::" + f.Function
	}
	return f.Function
}

// functionName is the span name. PHP reports top-level code as "main": the
// script itself at depth 1, an included file below it.
func functionName(f *events.Function) string {
	if f.Class == "" && f.Function == "main" {
		if f.Depth <= 1 {
			return "{main}"
		}
		return "include " + path.Base(f.File)
	}
	return qualifiedName(f)
}

// attachEvents puts exceptions and PHP errors on the span of the frame they
// happened in, or on the request span.
func (a *Assembler) attachEvents(root *trace.Span, spans []trace.Span, bySeq seqTable[int], p *pending) {
	target := func(frame uint32) *trace.Span {
		if i := bySeq.get(frame); i != 0 && frame != 0 {
			return &spans[i-1]
		}
		return root
	}
	for _, e := range p.exceptions {
		s := target(e.Frame)
		class := e.Class
		if class == "" {
			class = "exception"
		}
		s.Events = append(s.Events, trace.Event{
			Name:         trace.EventException,
			TimeUnixNano: a.opts.Clock.Wall(e.TS),
			Attributes:   trace.Attributes{trace.AttrExceptionType: class},
		})
		// The function that threw failed; the request fails only if the
		// exception escapes (below) or the status says so: PHP code
		// throws and catches routinely.
		if s != root {
			s.Status = trace.Status{Code: trace.StatusError, Message: class + " thrown"}
		}
	}
	for _, e := range p.errors {
		s := target(e.Frame)
		attrs := trace.Attributes{"php.error.message": e.Message}
		if e.File != "" {
			attrs[trace.AttrCodeFilePath] = e.File
			attrs[trace.AttrCodeLineNumber] = int64(e.Line)
		}
		// PHP reports an exception nobody caught as a fatal error
		// "Uncaught <class>: <message>": that one fails the request.
		if strings.HasPrefix(e.Message, "Uncaught ") {
			attrs[trace.AttrExceptionEscaped] = true
			root.Status = trace.Status{Code: trace.StatusError, Message: firstLine(e.Message)}
		}
		s.Events = append(s.Events, trace.Event{Name: trace.EventPHPError, TimeUnixNano: a.opts.Clock.Wall(e.TS), Attributes: attrs})
	}
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
