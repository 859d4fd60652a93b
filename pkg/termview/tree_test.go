package termview

import (
	"bytes"
	"strings"
	"testing"

	"github.com/tusk-php/tusk/pkg/trace"
)

func TestTreeWordPressGolden(t *testing.T) {
	var b bytes.Buffer
	Tree(&b, wordpressCheckout())
	checkGolden(t, "tree_wordpress", b.Bytes())
}

// A bare trace: no status, pool, pid or attributes, a zero duration.
func TestTreeMinimalGolden(t *testing.T) {
	var b bytes.Buffer
	Tree(&b, &trace.Trace{
		Summary: trace.Summary{TraceID: mustTraceID("00000000000000000000000000000001"), Service: "wp-cron", Path: "/var/www/html/wp-cron.php", SpanCount: 1},
		Spans:   []trace.Span{span(1, 0, "/var/www/html/wp-cron.php", 0, 0, kind(trace.KindServer))},
	})
	checkGolden(t, "tree_minimal", b.Bytes())
}

func TestTreeIncompleteWithoutCount(t *testing.T) {
	tr := wordpressCheckout()
	delete(tr.Spans[0].Attributes, trace.AttrTuskLostEvents)
	var b bytes.Buffer
	Tree(&b, tr)
	if first, _, _ := strings.Cut(b.String(), "\n"); !strings.HasSuffix(first, " INCOMPLETE: events were lost") {
		t.Errorf("header %q does not say the trace is incomplete", first)
	}
}

func TestTreeEmpty(t *testing.T) {
	for _, tc := range []struct {
		tr   *trace.Trace
		want string
	}{
		{nil, "no trace\n"},
		{&trace.Trace{Summary: trace.Summary{Service: "shop"}}, "shop 0.0ms trace=00000000000000000000000000000000\n(no spans)\n"},
	} {
		var b bytes.Buffer
		Tree(&b, tc.tr)
		if b.String() != tc.want {
			t.Errorf("got %q, want %q", b.String(), tc.want)
		}
	}
}

// A corrupt trace whose spans point at each other in a cycle, at
// themselves, or share an id: every span is printed once and nothing loops.
func TestTreeSurvivesCorruptLinks(t *testing.T) {
	spans := []trace.Span{
		span(1, 0, "root", 0, 10),
		span(2, 3, "cycle-a", 1, 1),
		span(3, 2, "cycle-b", 2, 1),
		span(4, 4, "self-parent", 3, 1),
		span(5, 1, "dup-first", 4, 1),
		span(5, 1, "dup-second", 5, 1),
		span(6, 5, "child-of-dup", 6, 1),
		span(7, 0, "second-root", 7, 1),
	}
	var b bytes.Buffer
	Tree(&b, &trace.Trace{Summary: trace.Summary{DurationNano: ms(10)}, Spans: spans})
	out := b.String()
	printed := map[string]int{}
	for _, line := range strings.Split(out, "\n")[1:] {
		if fields := strings.Fields(strings.TrimLeft(line, "│├└─ ")); len(fields) > 0 {
			printed[fields[0]]++
		}
	}
	for _, s := range spans {
		if printed[s.Name] != 1 {
			t.Errorf("%s printed %d times:\n%s", s.Name, printed[s.Name], out)
		}
	}
	for _, name := range []string{"cycle-a", "self-parent", "second-root"} {
		if !strings.Contains(out, name+" (orphan)") {
			t.Errorf("%s not marked as orphan:\n%s", name, out)
		}
	}
	if strings.Contains(out, "cycle-b (orphan)") {
		t.Errorf("cycle-b is still under cycle-a and no orphan:\n%s", out)
	}
}

func TestTreeEventWithUnknownAttributes(t *testing.T) {
	s := span(1, 0, "root", 0, 1)
	s.Events = []trace.Event{
		{Name: trace.EventPHPError, Attributes: trace.Attributes{"php.error.level": int64(8192), "php.error.message": "Deprecated\nthing"}},
		{Name: "log"}, // not shown
	}
	var b bytes.Buffer
	Tree(&b, &trace.Trace{Spans: []trace.Span{s}})
	if !strings.Contains(b.String(), "   ! php.error php.error.level=8192 php.error.message=Deprecated thing\n") || strings.Contains(b.String(), "log") {
		t.Errorf("got:\n%s", b.String())
	}
}
