package assemble

import (
	"testing"
	"unicode/utf8"

	"github.com/tusk-php/tusk/pkg/events"
	"github.com/tusk-php/tusk/pkg/trace"
)

// PHP identifiers may hold bytes 0x80-0xff, a request line any byte: the
// trace shows them as U+FFFD, valid UTF-8 for OTLP, Prometheus and JSON.
func TestTracesAreValidUTF8(t *testing.T) {
	h := newHarness(t)
	s := start()
	s.RequestURI = "/caf\xe9?q=\xff"
	h.add(s, fn(1, 0, 1, "r\xe9sum\xe9", "Caf\xe9", 0, 5),
		&events.Exception{Header: hdr(reqStart + 2*ms), Frame: 1, Class: "Ex\xff"},
		&events.PHPError{Header: hdr(reqStart + 3*ms), Message: "Uncaught \xff", File: "/srv/\xfe.php"},
		end(reqStart+10*ms, 500))
	h.settle()
	tr := h.only()
	if tr.Path != "/caf\uFFFD" || tr.Spans[1].Name != "Caf\uFFFD::r\uFFFDsum\uFFFD" {
		t.Fatalf("path %q, span %q", tr.Path, tr.Spans[1].Name)
	}
	if q := tr.Root().Attributes[trace.AttrURLQuery]; q != "q=\uFFFD" {
		t.Fatalf("query %q", q)
	}
	for _, s := range tr.Spans {
		for k, v := range s.Attributes {
			if str, ok := v.(string); ok && !utf8.ValidString(str) {
				t.Errorf("span %q: %s = %q", s.Name, k, str)
			}
		}
		for _, e := range s.Events {
			for k, v := range e.Attributes {
				if str, ok := v.(string); ok && !utf8.ValidString(str) {
					t.Errorf("span %q event %s: %s = %q", s.Name, e.Name, k, str)
				}
			}
		}
		if !utf8.ValidString(s.Status.Message) {
			t.Errorf("span %q: status %q", s.Name, s.Status.Message)
		}
	}
}

// An attribute whose key and value are both invalid must come out with both
// repaired (the key is re-inserted with the repaired value, not the old one).
func TestValidAttributesRepairsKeyAndValueTogether(t *testing.T) {
	a := trace.Attributes{"k\xff": "v\xfe", "ok": "fine", "n": int64(3)}
	validAttributes(a)
	want := trace.Attributes{"k\uFFFD": "v\uFFFD", "ok": "fine", "n": int64(3)}
	if len(a) != len(want) {
		t.Fatalf("got %q", a)
	}
	for k, v := range want {
		if a[k] != v {
			t.Errorf("%q = %q, want %q (all: %q)", k, a[k], v, a)
		}
	}
}
