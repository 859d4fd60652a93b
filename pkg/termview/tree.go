package termview

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/tusk-php/tusk/pkg/trace"
)

// Widths that keep a tree readable: names and call sites are cut, and the
// duration column does not drift right for the deepest spans.
const (
	maxNameWidth = 50
	maxSiteWidth = 40
	maxLeftWidth = 60
)

// Tree prints a header line for the request, then its spans as an indented
// tree: each with its duration, its share of the request, its call site, its
// error, and its exceptions and PHP errors on lines below it.
func Tree(w io.Writer, t *trace.Trace) {
	if t == nil {
		fmt.Fprintln(w, "no trace")
		return
	}
	fmt.Fprintln(w, header(t))
	if len(t.Spans) == 0 {
		fmt.Fprintln(w, "(no spans)")
		return
	}
	var lines []treeLine
	tr := buildTree(t.Spans)
	tr.walk(0, "", "", func(n int, first, rest string) {
		lines = append(lines, spanLine(t, &t.Spans[n], tr.orphan[n], first, rest, len(tr.kids[n]) > 0)...)
	})
	writeTree(w, lines)
}

// header: method path status duration pool pid trace id, and what is
// known to be missing.
func header(t *trace.Trace) string {
	parts := []string{clean(t.Name())}
	if t.StatusCode != 0 {
		parts = append(parts, statusText(t.StatusCode))
	}
	parts = append(parts, millis(t.DurationNano))
	var rootAttrs trace.Attributes
	if root := t.Root(); root != nil {
		rootAttrs = root.Attributes
	}
	pool := clean(t.Pool)
	if pool == "" {
		pool = attrText(rootAttrs, trace.AttrPHPPool)
	}
	if pool != "" {
		parts = append(parts, "pool="+pool)
	}
	if pid := attrText(rootAttrs, trace.AttrProcessPID); pid != "" {
		parts = append(parts, "pid="+pid)
	}
	parts = append(parts, "trace="+t.TraceID.String())
	if t.Error {
		parts = append(parts, "ERR")
	}
	if t.Incomplete {
		if lost := attrText(rootAttrs, trace.AttrTuskLostEvents); lost != "" {
			parts = append(parts, "INCOMPLETE: "+lost+" events lost")
		} else {
			parts = append(parts, "INCOMPLETE: events were lost")
		}
	}
	return strings.Join(parts, " ")
}

// spanTree is the parent → children structure of a trace's spans, by index.
type spanTree struct {
	spans  []trace.Span
	kids   [][]int
	orphan []bool
}

// buildTree links spans by ParentSpanID. Spans[0] is the root; a span whose
// parent is missing (lost with the events) hangs under the root as an
// orphan, and so does one of each cycle a corrupt trace may contain, so
// that every span is printed exactly once.
func buildTree(spans []trace.Span) *spanTree {
	tr := &spanTree{spans: spans, kids: make([][]int, len(spans)), orphan: make([]bool, len(spans))}
	index := make(map[trace.SpanID]int, len(spans))
	for i := len(spans) - 1; i >= 0; i-- { // the first of duplicate ids wins
		index[spans[i].SpanID] = i
	}
	for i := 1; i < len(spans); i++ {
		p, ok := index[spans[i].ParentSpanID]
		if !ok || p == i || spans[i].ParentSpanID.IsZero() {
			tr.orphan[i] = true
			p = 0
		}
		tr.kids[p] = append(tr.kids[p], i)
	}

	reached := make([]bool, len(spans))
	tr.mark(0, reached)
	for i := 1; i < len(spans); i++ {
		if !reached[i] { // in a cycle: cut it here
			tr.orphan[i] = true
			tr.kids[0] = append(tr.kids[0], i)
			tr.mark(i, reached)
		}
	}
	for p := range tr.kids {
		tr.kids[p] = slices.DeleteFunc(tr.kids[p], func(k int) bool { return p != 0 && tr.orphan[k] })
		slices.SortStableFunc(tr.kids[p], func(a, b int) int {
			return cmp.Compare(spans[a].StartUnixNano, spans[b].StartUnixNano)
		})
	}
	return tr
}

// mark flags everything reachable from n, iteratively so that a corrupt,
// very deep chain cannot exhaust the stack.
func (tr *spanTree) mark(n int, reached []bool) {
	stack := []int{n}
	for len(stack) > 0 {
		n, stack = stack[len(stack)-1], stack[:len(stack)-1]
		if reached[n] {
			continue
		}
		reached[n] = true
		stack = append(stack, tr.kids[n]...)
	}
}

// walk visits n and its descendants depth first. first is the tree drawing
// before n's own line, rest the drawing before the lines that follow it
// (its events and children).
func (tr *spanTree) walk(n int, first, rest string, visit func(n int, first, rest string)) {
	visit(n, first, rest)
	kids := tr.kids[n]
	for i, k := range kids {
		if i == len(kids)-1 {
			tr.walk(k, rest+"└─ ", rest+"   ", visit)
		} else {
			tr.walk(k, rest+"├─ ", rest+"│  ", visit)
		}
	}
}

// treeLine is a span line (aligned in columns) or an event line (free text).
type treeLine struct {
	left, duration, share, detail string
	event                         bool
}

func spanLine(t *trace.Trace, s *trace.Span, orphan bool, first, rest string, hasKids bool) []treeLine {
	name := truncateRight(clean(s.Name), maxNameWidth)
	if orphan {
		name += " (orphan)"
	}
	share := "-"
	if t.DurationNano > 0 {
		share = fmt.Sprintf("%.1f%%", 100*float64(s.DurationNano)/float64(t.DurationNano))
	}
	var detail []string
	if file := attrText(s.Attributes, trace.AttrCodeFilePath); file != "" {
		site := shortenLeft(file, maxSiteWidth)
		if line := attrText(s.Attributes, trace.AttrCodeLineNumber); line != "" {
			site += ":" + line
		}
		detail = append(detail, site)
	}
	if s.Status.Code == trace.StatusError {
		if msg := clean(s.Status.Message); msg != "" {
			detail = append(detail, "ERROR: "+msg)
		} else {
			detail = append(detail, "ERROR")
		}
	}
	lines := []treeLine{{left: first + name, duration: millis(s.DurationNano), share: share, detail: strings.Join(detail, "  ")}}

	events := slices.Clone(s.Events)
	slices.SortStableFunc(events, func(a, b trace.Event) int { return cmp.Compare(a.TimeUnixNano, b.TimeUnixNano) })
	bar := "   "
	if hasKids {
		bar = "│  "
	}
	for _, e := range events {
		if e.Name == trace.EventException || e.Name == trace.EventPHPError {
			lines = append(lines, treeLine{left: rest + bar + "! " + eventText(&e), event: true})
		}
	}
	return lines
}

// eventText: "exception RuntimeException: Payment gateway timeout".
func eventText(e *trace.Event) string {
	typ := attrText(e.Attributes, trace.AttrExceptionType)
	msg := attrText(e.Attributes, trace.AttrExceptionMessage)
	text := clean(e.Name)
	switch {
	case typ != "" && msg != "":
		text += " " + typ + ": " + msg
	case typ != "":
		text += " " + typ
	case msg != "":
		text += ": " + msg
	default: // attributes we do not know: show them all
		for _, k := range slices.Sorted(maps.Keys(e.Attributes)) {
			text += " " + clean(k) + "=" + attrText(e.Attributes, k)
		}
	}
	return text
}

// writeTree aligns the duration and share columns of span lines; a left
// part wider than maxLeftWidth pushes only its own line.
func writeTree(w io.Writer, lines []treeLine) {
	leftW, durW, shareW := 0, 0, 0
	for _, l := range lines {
		if !l.event {
			leftW = max(leftW, min(utf8.RuneCountInString(l.left), maxLeftWidth))
			durW = max(durW, len(l.duration))
			shareW = max(shareW, len(l.share))
		}
	}
	for _, l := range lines {
		if l.event {
			fmt.Fprintln(w, l.left)
			continue
		}
		pad := max(leftW-utf8.RuneCountInString(l.left), 0)
		line := fmt.Sprintf("%s%s  %*s  %*s  %s", l.left, strings.Repeat(" ", pad), durW, l.duration, shareW, l.share, l.detail)
		fmt.Fprintln(w, strings.TrimRight(line, " "))
	}
}
