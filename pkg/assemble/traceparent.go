package assemble

import (
	"strings"

	"github.com/tusk-php/tusk/pkg/trace"
)

// parentContext is a W3C traceparent the request arrived with.
type parentContext struct {
	TraceID trace.TraceID
	SpanID  trace.SpanID
	Sampled bool
}

// parseTraceParent reads a W3C traceparent header value
// ("00-<32 hex>-<16 hex>-<2 hex flags>"). Anything malformed, an all-zero id
// or version ff is ignored, as the spec asks: the request starts a new trace.
func parseTraceParent(v string) (parentContext, bool) {
	v = strings.TrimSpace(v)
	parts := strings.Split(v, "-")
	if len(parts) < 4 || len(parts[0]) != 2 || parts[0] == "ff" || len(parts[3]) != 2 {
		return parentContext{}, false
	}
	if parts[0] == "00" && len(parts) != 4 {
		return parentContext{}, false
	}
	tid, err := trace.ParseTraceID(parts[1])
	if err != nil || tid.IsZero() || strings.ToLower(parts[1]) != parts[1] {
		return parentContext{}, false
	}
	sid, err := trace.ParseSpanID(parts[2])
	if err != nil || sid.IsZero() || strings.ToLower(parts[2]) != parts[2] {
		return parentContext{}, false
	}
	flags := parts[3]
	if !isHex(flags) {
		return parentContext{}, false
	}
	return parentContext{TraceID: tid, SpanID: sid, Sampled: hexNibble(flags[1])&1 == 1}, true
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if hexNibble(s[i]) > 15 {
			return false
		}
	}
	return true
}

func hexNibble(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	return 255
}
