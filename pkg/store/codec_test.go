package store

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tusk-php/tusk/pkg/trace"
)

func TestSpansRoundTrip(t *testing.T) {
	m := newTraceMaker(1)
	for i := range 50 {
		tr := m.make(time.Unix(1_800_000_000, int64(i)))
		blob, err := encodeSpans(tr.Spans)
		if err != nil {
			t.Fatal(err)
		}
		if blob[0] != spansDeflateJSON {
			t.Fatalf("format byte %d, want %d", blob[0], spansDeflateJSON)
		}
		got, err := decodeSpans(blob)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, tr.Spans) {
			t.Fatalf("round trip changed the spans:\n got %+v\nwant %+v", got, tr.Spans)
		}
	}
}

func TestSmallTracesAreStoredUncompressed(t *testing.T) {
	root := newTraceMaker(4).make(time.Now()).Spans[:1] // a request span alone, as in always-on mode
	blob, err := encodeSpans(root)
	if err != nil {
		t.Fatal(err)
	}
	if blob[0] != spansJSON {
		t.Fatalf("format byte %d for a %d-byte trace, want plain JSON (%d)", blob[0], len(blob), spansJSON)
	}
	got, err := decodeSpans(blob)
	if err != nil || !reflect.DeepEqual(got, root) {
		t.Fatalf("round trip: %v\n got %+v\nwant %+v", err, got, root)
	}
	if _, err := decodeSpans(blob[:len(blob)/2]); err == nil {
		t.Fatal("truncated plain JSON decoded")
	}
}

func TestSpansCompress(t *testing.T) {
	tr := newTraceMaker(2).make(time.Now())
	raw, _ := json.Marshal(tr.Spans)
	blob, err := encodeSpans(tr.Spans)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d spans: JSON %d bytes, stored %d bytes", len(tr.Spans), len(raw), len(blob))
	if len(blob) >= len(raw)/2 {
		t.Errorf("stored %d bytes for %d bytes of JSON: compression is not working", len(blob), len(raw))
	}
}

func TestDecodeSpansRejectsBadInput(t *testing.T) {
	good, _ := encodeSpans(newTraceMaker(3).make(time.Now()).Spans)
	for name, blob := range map[string][]byte{
		"empty":          nil,
		"unknown format": append([]byte{99}, good[1:]...),
		"truncated":      good[:len(good)/2],
		"not deflate":    {spansDeflateJSON, 0xff, 0xff, 0xff},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := decodeSpans(blob); err == nil {
				t.Fatal("decoded without error")
			}
		})
	}
	if _, err := decodeSpans([]byte{99}); !strings.Contains(err.Error(), "newer version") {
		t.Errorf("unknown format error %q does not hint at a newer writer", err)
	}
}

func TestEncodeSpansKeepsValuesJSONCannotHold(t *testing.T) {
	spans := []trace.Span{{
		SpanID: trace.NewSpanID(), Name: "f",
		Attributes: trace.Attributes{"nan": math.NaN(), "inf": math.Inf(1), "ch": make(chan int), "ok": int64(7)},
		Events:     []trace.Event{{Name: "e", Attributes: trace.Attributes{"neg": math.Inf(-1)}}},
	}}
	blob, err := encodeSpans(spans)
	if err != nil {
		t.Fatalf("encode: %v", err)
	}
	got, err := decodeSpans(blob)
	if err != nil {
		t.Fatal(err)
	}
	a := got[0].Attributes
	if a["nan"] != "NaN" || a["inf"] != "+Inf" || a["ok"] != int64(7) || got[0].Events[0].Attributes["neg"] != "-Inf" {
		t.Errorf("attributes %v, events %v", a, got[0].Events)
	}
	if _, ok := a["ch"].(string); !ok {
		t.Errorf("channel attribute stored as %T, want its text", a["ch"])
	}
	if !math.IsNaN(spans[0].Attributes["nan"].(float64)) {
		t.Error("encoding changed the caller's spans")
	}
}
