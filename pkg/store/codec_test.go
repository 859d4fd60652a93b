package store

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/s2"

	"github.com/tusk-php/tusk/pkg/trace"
)

func TestSpansRoundTrip(t *testing.T) {
	m := newTraceMaker(1)
	for i := range 50 {
		tr := m.make(time.Unix(1_800_000_000, int64(i)))
		blob := encodeSpans(tr.Spans)
		if blob[0] != spansS2Binary {
			t.Fatalf("format byte %d for %d spans, want %d", blob[0], len(tr.Spans), spansS2Binary)
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

// TestSpansRoundTripRandom: any spans come back as they went in, nil as
// nil and empty as empty, strings byte for byte (invalid UTF-8, NUL, 1 MB),
// floats bit for bit (NaN, ±Inf, -0), ints to their extremes.
func TestSpansRoundTripRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 500 {
		spans := randomSpans(r, i%50 == 0)
		blob := encodeSpans(spans)
		got, err := decodeSpans(blob)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		if diff := spansDiff(got, spans); diff != "" {
			t.Fatalf("case %d: %s", i, diff)
		}
	}
}

func TestSmallTracesAreStoredUncompressed(t *testing.T) {
	root := newTraceMaker(4).make(time.Now()).Spans[:1] // a request span alone, as in always-on mode
	blob := encodeSpans(root)
	if blob[0] != spansBinary {
		t.Fatalf("format byte %d for a %d-byte trace, want uncompressed (%d)", blob[0], len(blob), spansBinary)
	}
	got, err := decodeSpans(blob)
	if err != nil || !reflect.DeepEqual(got, root) {
		t.Fatalf("round trip: %v\n got %+v\nwant %+v", err, got, root)
	}
}

func TestSpansCompress(t *testing.T) {
	spans := callSiteTraces(1)[0].Spans
	raw, blob := uncompressedSpans(spans), encodeSpans(spans)
	t.Logf("%d spans: binary %d bytes, stored %d bytes", len(spans), len(raw), len(blob))
	if len(blob) >= len(raw)/2 {
		t.Errorf("stored %d bytes for %d bytes of binary: compression is not working", len(blob), len(raw))
	}
}

// TestCompressedColumnsInflateBoundedly: spans that compress better than
// a reader would inflate are stored uncompressed, and a compressed column
// that inflates past the bound (a hostile one) is refused.
func TestCompressedColumnsInflateBoundedly(t *testing.T) {
	spans := []trace.Span{{Name: strings.Repeat("a", 1<<20)}}
	blob := encodeSpans(spans)
	if blob[0] != spansBinary {
		t.Errorf("1 MiB of one letter stored as format %d, want uncompressed", blob[0])
	}
	if got, err := decodeSpans(blob); err != nil || got[0].Name != spans[0].Name {
		t.Fatalf("round trip: %v", err)
	}
	bomb := append([]byte{spansDeflateBinary}, deflated(t, uncompressedSpans(spans)[1:], flate.BestCompression)...)
	if _, err := decodeSpans(bomb); err == nil || !strings.Contains(err.Error(), "inflates to more than") {
		t.Errorf("a column inflating %dx decoded: %v", (1<<20)/len(bomb), err)
	}
	s2Bomb := append([]byte{spansS2Binary}, s2.Encode(nil, uncompressedSpans(spans)[1:])...)
	if _, err := decodeSpans(s2Bomb); err == nil || !strings.Contains(err.Error(), "would inflate to") {
		t.Errorf("an S2 column inflating %dx decoded: %v", (1<<20)/len(s2Bomb), err)
	}
	if _, err := decodeSpans(s2LyingLength()); err == nil || !strings.Contains(err.Error(), "would inflate to") {
		t.Errorf("an S2 block claiming 1 GiB decoded: %v", err)
	}
}

// s2LyingLength is an S2 column whose block header claims 1 GiB: the
// decoder must refuse it before allocating.
func s2LyingLength() []byte {
	return binary.AppendUvarint([]byte{spansS2Binary}, 1<<30)
}

func TestDeflateBinaryColumnsStillDecode(t *testing.T) {
	spans := newTraceMaker(5).make(time.Unix(1_800_000_000, 0)).Spans
	blob := deflateBinary(uncompressedSpans(spans))
	if blob[0] != spansDeflateBinary {
		t.Fatalf("format %d", blob[0])
	}
	got, err := decodeSpans(blob)
	if err != nil || !reflect.DeepEqual(got, spans) {
		t.Fatalf("format 4 round trip: %v", err)
	}
}

func TestLegacyFormatsStillDecode(t *testing.T) {
	m := newTraceMaker(4)
	for _, spans := range [][]trace.Span{m.make(time.Now()).Spans, m.make(time.Now()).Spans[:1]} {
		blob := legacySpansColumn(t, spans)
		got, err := decodeSpans(blob)
		if err != nil {
			t.Fatalf("format %d: %v", blob[0], err)
		}
		if !reflect.DeepEqual(got, spans) {
			t.Fatalf("format %d:\n got %+v\nwant %+v", blob[0], got, spans)
		}
	}
}

// TestRepeatedStringsAreWrittenOnce: an N+1 loop repeats its statement,
// call site and stack trace on every span; the blob holds them once.
func TestRepeatedStringsAreWrittenOnce(t *testing.T) {
	statement := "SELECT * FROM wp_postmeta WHERE post_id = ? AND meta_key = ? " + strings.Repeat("/* padding */ ", 20)
	stack := strings.Repeat("#0 /var/www/html/wp-includes/class-wpdb.php(2345): mysqli_query()\n", 10)
	var spans []trace.Span
	for i := range 30 {
		spans = append(spans, trace.Span{SpanID: trace.SpanID{byte(i + 1)}, Name: "mysqli_query", Kind: trace.KindClient,
			Attributes: trace.Attributes{trace.AttrDBQueryText: statement, trace.AttrCodeStacktrace: stack, trace.AttrCodeLineNumber: int64(i)}})
	}
	blob := encodeSpans(spans)
	if once := len(statement) + len(stack); len(blob) > once+30*40 {
		t.Errorf("%d bytes for 30 spans repeating %d bytes of strings: repeats are not referenced", len(blob), once)
	}
}

func TestDecodeSpansRejectsBadInput(t *testing.T) {
	spans := newTraceMaker(3).make(time.Now()).Spans
	good := uncompressedSpans(spans)
	for _, blob := range [][]byte{good, encodeSpans(spans)} {
		for n := range len(blob) - 1 {
			if _, err := decodeSpans(blob[:n]); err == nil {
				t.Fatalf("format %d: decoded the first %d of %d bytes", blob[0], n, len(blob))
			}
		}
	}
	for name, blob := range map[string][]byte{
		"empty":                 nil,
		"unknown format":        append([]byte{99}, good[1:]...),
		"trailing bytes":        append(bytes.Clone(good), 0),
		"not deflate":           {spansDeflateJSON, 0xff, 0xff, 0xff},
		"truncated legacy JSON": legacySpansColumn(t, nil)[:3],
		"varint too long":       {spansBinary, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
		"lying span count":      binaryBlob(1 << 40),
		"string ref past table": binaryBlob(2, make([]byte, 8), 0, 5),
		"string past the end":   binaryBlob(2, make([]byte, 8), 0, 0, 200, 'x'),
		"parent past the spans": binaryBlob(2, make([]byte, 8), 2),
		"unknown value tag":     binaryBlob(oneSpan, 2, 0, 1, 'k', 9, 0),
		"float cut short":       binaryBlob(oneSpan, 2, 0, 1, 'k', valueFloat, 1, 2),
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

// binaryBlob is a spansBinary blob of the given parts: an int is a
// uvarint, a byte or a rune (ASCII) one byte, a []byte its bytes, a []any
// its parts.
func binaryBlob(parts ...any) []byte {
	b := []byte{spansBinary}
	var add func(parts []any)
	add = func(parts []any) {
		for _, p := range parts {
			switch p := p.(type) {
			case int:
				b = binary.AppendUvarint(b, uint64(p))
			case byte:
				b = append(b, p)
			case rune:
				b = append(b, byte(p))
			case []byte:
				b = append(b, p...)
			case []any:
				add(p)
			default:
				panic(fmt.Sprintf("binaryBlob: %T", p))
			}
		}
	}
	add(parts)
	return b
}

// oneSpan starts a blob of one span, up to its attributes: id zero, no
// parent, name "" (string 0), kind, status code and message "" again,
// start and duration 0.
var oneSpan = []any{2, make([]byte, 8), 0, 0, 0, 1, 0, 0, 1, 1}

// TestDecodeMemoryIsBoundedByTheBlob decodes hostile blobs that are valid
// but as dense as the format allows, and checks the decoder allocates a
// small multiple of their size: counts cannot promise more than the bytes
// left can hold.
func TestDecodeMemoryIsBoundedByTheBlob(t *testing.T) {
	const n = 50_000
	spanParts := []any{n + 1, oneSpan[1:], 0, 0}
	for range n - 1 {
		spanParts = append(spanParts, make([]byte, 8), 0, 1, 1, 0, 0, 1, 1, 0, 0)
	}
	spans := binaryBlob(spanParts...)
	sameKey := binaryBlob(oneSpan, n+1, 0, 1, 'k', valueNil)
	for range n - 1 {
		sameKey = append(sameKey, 2, valueNil)
	}
	sameKey = append(sameKey, 0)
	keyParts := []any{oneSpan, n + 1}
	for i := range n {
		key := binary.AppendUvarint(nil, uint64(i))
		keyParts = append(keyParts, 0, len(key), key, valueNil)
	}
	distinctKeys := append(binaryBlob(keyParts...), 0)
	events := binaryBlob(oneSpan, 0, n+1)
	for range n {
		events = append(events, 1, 0, 0)
	}
	for name, blob := range map[string][]byte{"spans": spans, "one key repeated": sameKey, "distinct keys": distinctKeys, "events": events} {
		t.Run(name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			got, err := decodeSpans(blob)
			runtime.ReadMemStats(&after)
			if err != nil {
				t.Fatal(err)
			}
			runtime.KeepAlive(got)
			ratio := float64(after.TotalAlloc-before.TotalAlloc) / float64(len(blob))
			t.Logf("%d bytes allocated for a %d-byte blob: %.1fx", after.TotalAlloc-before.TotalAlloc, len(blob), ratio)
			if ratio > 64 {
				t.Errorf("allocated %.0fx the blob's size", ratio)
			}
		})
	}
}

// TestEncodeSpansKeepsValuesJSONCouldNot: the binary format carries the
// floats JSON could not, and types outside the model as their text.
func TestEncodeSpansKeepsValuesJSONCouldNot(t *testing.T) {
	spans := []trace.Span{{
		SpanID: trace.NewSpanID(), Name: "f",
		Attributes: trace.Attributes{"nan": math.NaN(), "inf": math.Inf(1), "ch": make(chan int), "ok": int64(7),
			"int": 3, "u8": uint8(200), "f32": float32(0.5), "list": []string{"a", "b"}, "big": uint64(math.MaxUint64), "nil": nil},
		Events: []trace.Event{{Name: "e", Attributes: trace.Attributes{"neg": math.Inf(-1)}}},
	}}
	got, err := decodeSpans(encodeSpans(spans))
	if err != nil {
		t.Fatal(err)
	}
	a := got[0].Attributes
	if !math.IsNaN(a["nan"].(float64)) || a["inf"] != math.Inf(1) || got[0].Events[0].Attributes["neg"] != math.Inf(-1) {
		t.Errorf("non-finite floats: %v, events %v", a, got[0].Events)
	}
	for k, want := range map[string]any{"ok": int64(7), "int": int64(3), "u8": int64(200), "f32": 0.5,
		"list": `["a","b"]`, "big": "18446744073709551615", "nil": nil} {
		if a[k] != want {
			t.Errorf("%s: got %#v, want %#v", k, a[k], want)
		}
	}
	if s, ok := a["ch"].(string); !ok || !strings.HasPrefix(s, "0x") {
		t.Errorf("channel attribute stored as %#v, want its text", a["ch"])
	}
}

// FuzzDecodeSpans: no blob makes the decoder panic or hang, and the spans
// it decodes from the binary format encode and decode again to the same
// spans. (Not from JSON: a JSON array attribute comes back as its text.)
func FuzzDecodeSpans(f *testing.F) {
	for _, blob := range fuzzSpansSeeds(f) {
		f.Add(blob)
	}
	f.Fuzz(func(t *testing.T, blob []byte) {
		spans, err := decodeSpans(blob)
		if err != nil || blob[0] != spansBinary {
			return
		}
		again, err := decodeSpans(encodeSpans(spans))
		if err != nil {
			t.Fatalf("re-encoded spans do not decode: %v", err)
		}
		if diff := spansDiff(again, spans); diff != "" {
			t.Fatal(diff)
		}
	})
}

// legacySpansColumn is the spans column as builds up to schema version 4
// wrote it: JSON, DEFLATE compressed from 1 KiB (format 1), plain below
// (format 2). Files hold such rows, so decodeSpans must read them.
func legacySpansColumn(t testing.TB, spans []trace.Span) []byte {
	t.Helper()
	raw, err := json.Marshal(spans)
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) < 1024 {
		return append([]byte{spansJSON}, raw...)
	}
	var buf bytes.Buffer
	buf.WriteByte(spansDeflateJSON)
	zw, _ := flate.NewWriter(&buf, flate.BestSpeed)
	zw.Write(raw)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// randomSpans returns spans meant to find the codec's edges, with a few
// huge strings when huge.
func randomSpans(r *rand.Rand, huge bool) []trace.Span {
	if r.IntN(20) == 0 {
		return []trace.Span(nil)
	}
	spans := make([]trace.Span, r.IntN(30))
	for i := range spans {
		s := &spans[i]
		s.SpanID = trace.SpanID(binary.LittleEndian.AppendUint64(nil, r.Uint64()))
		switch r.IntN(4) {
		case 0: // root
		case 1:
			if i > 0 {
				s.ParentSpanID = spans[r.IntN(i)].SpanID
			}
		case 2:
			s.ParentSpanID = trace.SpanID(binary.LittleEndian.AppendUint64(nil, r.Uint64()))
		case 3:
			if i+1 < len(spans) { // a later span: its id is not known yet
				s.ParentSpanID = trace.SpanID{0xff, byte(i)}
				spans[i+1].SpanID = s.ParentSpanID
			}
		}
		s.Name = randomString(r, huge)
		s.Kind = trace.SpanKind(randomString(r, false))
		s.StartUnixNano = randomInt(r)
		s.DurationNano = randomInt(r)
		s.Status = trace.Status{Code: trace.StatusCode(randomString(r, false)), Message: randomString(r, huge)}
		s.Attributes = randomAttributes(r, huge)
		if r.IntN(3) == 0 {
			s.Events = make([]trace.Event, r.IntN(4))
			for j := range s.Events {
				s.Events[j] = trace.Event{Name: randomString(r, false), TimeUnixNano: randomInt(r), Attributes: randomAttributes(r, huge)}
			}
		}
	}
	return spans
}

func randomAttributes(r *rand.Rand, huge bool) trace.Attributes {
	if r.IntN(4) == 0 {
		return nil
	}
	attrs := trace.Attributes{}
	for range r.IntN(12) {
		var v any
		switch r.IntN(7) {
		case 0:
			v = nil
		case 1:
			v = r.IntN(2) == 0
		case 2:
			v = randomInt(r)
		case 3:
			v = []float64{math.NaN(), math.Inf(1), math.Inf(-1), math.Copysign(0, -1), math.MaxFloat64,
				math.SmallestNonzeroFloat64, r.NormFloat64()}[r.IntN(7)]
		default:
			v = randomString(r, huge)
		}
		attrs[randomString(r, false)] = v
	}
	return attrs
}

var randomStrings = []string{"", "a", "GET", "code.file.path", "日本語 ☃ 🐘", "nul\x00inside", "invalid \xff\xfe utf-8",
	"/var/www/html/wp-includes/class-wpdb.php", "SELECT * FROM wp_posts WHERE ID = ?"}

func randomString(r *rand.Rand, huge bool) string {
	switch {
	case huge && r.IntN(20) == 0:
		return strings.Repeat(randomStrings[r.IntN(len(randomStrings))]+"x", 1+r.IntN(1<<20)/8)
	case r.IntN(3) == 0:
		b := make([]byte, r.IntN(300))
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return string(b)
	}
	return randomStrings[r.IntN(len(randomStrings))]
}

func randomInt(r *rand.Rand) int64 {
	return []int64{0, -1, math.MinInt64, math.MaxInt64, r.Int64(), -r.Int64(), 1_800_000_000_000_000_000 + r.Int64N(1e12)}[r.IntN(7)]
}

// spansDiff describes the first difference between got and want, "" if
// none: reflect.DeepEqual, except that floats compare by their bits (NaN).
func spansDiff(got, want []trace.Span) string {
	if (got == nil) != (want == nil) || len(got) != len(want) {
		return fmt.Sprintf("%d spans (nil %v), want %d (nil %v)", len(got), got == nil, len(want), want == nil)
	}
	for i := range want {
		g, w := got[i], want[i]
		if d := attributesDiff(g.Attributes, w.Attributes); d != "" {
			return fmt.Sprintf("span %d: %s", i, d)
		}
		if (g.Events == nil) != (w.Events == nil) || len(g.Events) != len(w.Events) {
			return fmt.Sprintf("span %d: events %v, want %v", i, g.Events, w.Events)
		}
		for j := range w.Events {
			if d := attributesDiff(g.Events[j].Attributes, w.Events[j].Attributes); d != "" {
				return fmt.Sprintf("span %d event %d: %s", i, j, d)
			}
			g.Events[j].Attributes, w.Events[j].Attributes = nil, nil
		}
		g.Attributes, w.Attributes = nil, nil
		if !reflect.DeepEqual(g, w) {
			return fmt.Sprintf("span %d:\n got %+v\nwant %+v", i, g, w)
		}
	}
	return ""
}

func attributesDiff(got, want trace.Attributes) string {
	if (got == nil) != (want == nil) || len(got) != len(want) {
		return fmt.Sprintf("attributes %v, want %v", got, want)
	}
	for k, w := range want {
		g, ok := got[k]
		if wf, isFloat := w.(float64); isFloat {
			if gf, _ := g.(float64); math.Float64bits(gf) != math.Float64bits(wf) {
				return fmt.Sprintf("attribute %q: %v, want %v", k, g, w)
			}
			continue
		}
		if !ok || !reflect.DeepEqual(g, w) {
			return fmt.Sprintf("attribute %q: %#v, want %#v", k, g, w)
		}
	}
	return ""
}

// The string cache keys strings by address and length: strings sharing an
// address (one a prefix of the other), equal strings at other addresses and
// text made while encoding (values JSON carries) all keep their own content.
func TestStringsSharingMemoryRoundTrip(t *testing.T) {
	base := "php.self_time_ns and more"
	spans := []trace.Span{
		{SpanID: trace.SpanID{1}, Name: base[:3], Kind: trace.SpanKind(base[:5]),
			Attributes: trace.Attributes{base[:7]: base[:9], strings.Clone(base[:7]): base[:3]}},
		{SpanID: trace.SpanID{2}, Name: strings.Clone(base[:3]), Kind: trace.SpanKind(base),
			Attributes: trace.Attributes{"a": []int{1, 2}, "b": []int{3, 4}, "c": []int{1, 2}, base[:3]: ""}},
	}
	want := []trace.Span{spans[0], spans[1]}
	want[1].Attributes = trace.Attributes{"a": "[1,2]", "b": "[3,4]", "c": "[1,2]", base[:3]: ""}
	for range 2 { // the second time with the pooled encoder of the first
		got, err := decodeSpans(encodeSpans(spans))
		if err != nil {
			t.Fatal(err)
		}
		if diff := spansDiff(got, want); diff != "" {
			t.Fatal(diff)
		}
	}
}

// Parents are found by id whatever the ids look like: sequential ids (not
// random bits), an id used twice (the later span is the parent), a parent
// not in the trace, zero ids. Spans come from 10,000, past the pooled
// index's size and back.
func TestParentsByIDRoundTrip(t *testing.T) {
	for _, n := range []int{10, 10_000, 30_000, 10} {
		spans := make([]trace.Span, n)
		for i := range spans {
			s := &spans[i]
			binary.LittleEndian.PutUint64(s.SpanID[:], uint64(i%(n-3)+1)) // the last 3 reuse the first ids
			switch {
			case i%97 == 0:
				s.ParentSpanID = trace.SpanID{0xee, byte(i)} // not in the trace
			case i > 0:
				s.ParentSpanID = spans[(i-1)/2].SpanID
			}
			if i%1000 == 999 {
				s.SpanID = trace.SpanID{}
			}
		}
		e := spanEncoders.Get().(*spanEncoder)
		raw := bytes.Clone(e.encode(spans))
		e.release()
		if refs := len(raw) - 9*n; refs > 12*n {
			t.Errorf("%d spans: %d bytes, parents are not referenced by index", n, len(raw))
		}
		got, err := decodeSpans(raw)
		if err != nil {
			t.Fatal(err)
		}
		if diff := spansDiff(got, spans); diff != "" {
			t.Fatalf("%d spans: %s", n, diff)
		}
	}
}

// An encoder back in the pool holds nothing of the trace it encoded, and
// the next trace finds none of its strings.
func TestPooledEncoderForgetsTheTrace(t *testing.T) {
	e := new(spanEncoder)
	spans := newTraceMaker(3).make(time.Now()).Spans
	e.encode(spans)
	if len(e.strs) == 0 {
		t.Fatal("the string table was not used")
	}
	e.reset()
	for i, s := range e.strs[:cap(e.strs)] {
		if s != "" {
			t.Fatalf("reset encoder keeps string %d, %q", i, s)
		}
	}
	if len(e.filled) != 0 || e.recent != [len(e.recent)]recentString{} {
		t.Fatalf("reset encoder keeps %d cache entries", len(e.filled))
	}
	e.encode(spans[:1])
	if got, err := decodeSpans(bytes.Clone(e.buf)); err != nil || !reflect.DeepEqual(got, spans[:1]) {
		t.Fatalf("the next trace: %v\n got %+v\nwant %+v", err, got, spans[:1])
	}
	e.reset()
}

// The caches' generation wraps around without entries of the first
// traces looking current again.
func TestEncoderGenerationWraps(t *testing.T) {
	spans := newTraceMaker(3).make(time.Now()).Spans
	e := new(spanEncoder)
	e.encode(spans) // gen 1
	e.reset()
	e.gen = math.MaxUint32
	raw := bytes.Clone(e.encode(spans)) // gen 1 again
	e.reset()
	if e.gen != 1 {
		t.Fatalf("gen %d after wrapping, want 1", e.gen)
	}
	if got, err := decodeSpans(raw); err != nil || !reflect.DeepEqual(got, spans) {
		t.Fatalf("after wrapping: %v", err)
	}
}
