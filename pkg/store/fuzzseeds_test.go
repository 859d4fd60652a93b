package store

import (
	"flag"
	"math"
	"testing"
	"time"

	"github.com/tusk-php/tusk/pkg/internal/fuzzseed"
	"github.com/tusk-php/tusk/pkg/trace"
)

var updateSeeds = flag.Bool("update-seeds", false, "rewrite testdata/fuzz seed corpora")

// fuzzSpansSeeds are spans columns of every format, as written and as
// damage or an attacker could leave them.
func fuzzSpansSeeds(t testing.TB) map[string][]byte {
	plain := newTraceMaker(9).make(time.Unix(1_800_000_000, 0)).Spans
	odd := append([]trace.Span(nil), plain...)
	odd[0].Events = append(odd[0].Events, trace.Event{Name: "odd", Attributes: trace.Attributes{"nan": math.NaN(), "nil": nil}})
	binary := uncompressedSpans(odd)
	deflated, s2ed := deflateBinary(binary), encodeSpans(odd)
	return map[string][]byte{
		"binary":              binary,
		"binary-truncated":    binary[:len(binary)/2],
		"deflate-binary":      deflated,
		"deflate-binary-cut":  deflated[:len(deflated)-3],
		"s2-binary":           s2ed,
		"s2-binary-cut":       s2ed[:len(s2ed)-3],
		"s2-lying-length":     s2LyingLength(),
		"binary-nil":          encodeSpans(nil),
		"binary-empty":        encodeSpans([]trace.Span{}),
		"binary-lying-count":  binaryBlob(1 << 40),
		"binary-string-ref":   binaryBlob(2, make([]byte, 8), 0, 5),
		"binary-parent-ref":   binaryBlob(3, oneSpan[1:], 0, 0, make([]byte, 8), 3),
		"binary-unknown-tag":  binaryBlob(oneSpan, 2, 0, 1, 'k', 9, 0),
		"legacy-json":         legacySpansColumn(t, plain[:1]),
		"legacy-deflate-json": legacySpansColumn(t, plain),
		"unknown-format":      {99},
		"empty":               {},
	}
}

// TestWriteFuzzSeeds writes the committed seed corpora. It only runs with
// -update-seeds.
func TestWriteFuzzSeeds(t *testing.T) {
	if !*updateSeeds {
		t.Skip("run with -update-seeds to rewrite testdata/fuzz")
	}
	seeds := map[string][]any{}
	for name, blob := range fuzzSpansSeeds(t) {
		seeds[name] = []any{blob}
	}
	fuzzseed.Write(t, "FuzzDecodeSpans", seeds)
}
