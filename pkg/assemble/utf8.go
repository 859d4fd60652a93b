package assemble

import (
	"strings"
	"unicode/utf8"

	"github.com/tusk-php/tusk/pkg/trace"
)

// Strings in traces come from PHP's memory and the client's request line:
// function and class names may hold any byte from 0x80 up (PHP allows them
// in identifiers), URIs and SQL text any byte at all. Consumers need UTF-8
// — OTLP's protobuf encoder refuses a whole export request over one bad
// string, Prometheus panics on a bad label — so every trace leaves the
// assembler valid, bad bytes shown as U+FFFD.

func validString(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

func validAttributes(a trace.Attributes) {
	for k, v := range a {
		if s, ok := v.(string); ok && !utf8.ValidString(s) {
			// Only then: storing a string in the map boxes it anew, an
			// allocation per attribute of every span.
			v = validString(s)
			a[k] = v
		}
		if vk := validString(k); vk != k {
			delete(a, k)
			a[vk] = v
		}
	}
}

// validTrace replaces invalid UTF-8 in every string of t.
//
// The names and attributes of the spans in [builtFrom, builtTo) are
// skipped: the function and I/O spans, whose strings functionSpans and
// ioSpans validated as they made them (walking 10,000 spans' attribute maps
// again was a fifth of assembling a deep-mode trace, and of a WordPress
// page's SQL spans). Their statuses and events are still
// checked.
func validTrace(t *trace.Trace, builtFrom, builtTo int) {
	t.Service, t.Pool, t.Host = validString(t.Service), validString(t.Pool), validString(t.Host)
	t.Method, t.Path = validString(t.Method), validString(t.Path)
	for i := range t.Spans {
		s := &t.Spans[i]
		s.Status.Message = validString(s.Status.Message)
		if i < builtFrom || i >= builtTo {
			s.Name = validString(s.Name)
			validAttributes(s.Attributes)
		}
		for j := range s.Events {
			s.Events[j].Name = validString(s.Events[j].Name)
			validAttributes(s.Events[j].Attributes)
		}
	}
}
