package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/klauspost/compress/s2"

	"github.com/tusk-php/tusk/pkg/trace"
)

var updateGolden = flag.Bool("update-golden", false, "rewrite testdata/spans-golden from the current encoder")

// goldenCase is a trace whose stored column is pinned in
// testdata/spans-golden, written by the encoder before it was optimised.
// Attribute maps iterate in a random order, which the encoder writes them
// in, so a column is pinned byte for byte only when no map has two
// entries (exact); the others are compared through refEncode in the
// order the column has them.
type goldenCase struct {
	name  string
	spans []trace.Span
	exact bool
	hash  bool // pin the column's SHA-256, not its bytes (large)
}

func goldenCases() []goldenCase {
	cases := []goldenCase{
		{name: "odd", spans: oddSpans(), exact: true},
		{name: "odd-small", spans: oddSpans()[:3], exact: true},
		{name: "many-strings", spans: manyStringSpans(17_000), exact: true, hash: true},
		{name: "one-letter", spans: []trace.Span{{Name: strings.Repeat("a", 1<<20)}}, exact: true, hash: true},
		{name: "nil", spans: nil, exact: true},
		{name: "empty", spans: []trace.Span{}, exact: true},
		{name: "request", spans: newTraceMaker(11).make(time.Unix(1_800_000_000, 0)).Spans[:1]},
		{name: "fixtures", spans: newTraceMaker(12).make(time.Unix(1_800_000_000, 0)).Spans},
	}
	for i, tr := range wordpressTraces(13, 3) {
		cases = append(cases, goldenCase{name: fmt.Sprintf("wordpress-%d", i), spans: tr.Spans})
	}
	r := rand.New(rand.NewPCG(14, 15))
	for i := range 3 {
		cases = append(cases, goldenCase{name: fmt.Sprintf("random-%d", i), spans: randomSpans(r, false)})
	}
	return cases
}

// oddSpans are edge values, one attribute per map so that their encoding
// is deterministic: NaN, ±Inf and -0, integer extremes and wrapping start
// deltas, empty and nil maps, slices and strings, non-ASCII and invalid
// UTF-8, values written as JSON or text, strings sharing memory, equal
// strings at other addresses, long strings, unknown, later, zero and
// repeated parent ids, and more than 127 spans and strings (2-byte
// references).
func oddSpans() []trace.Span {
	base := "php.self_time_ns and more"
	long := strings.Repeat("SELECT * FROM wp_posts WHERE ID = ? /* ünïcödé */ ", 400) // 3-byte length
	values := []any{math.NaN(), math.Inf(1), math.Inf(-1), math.Copysign(0, -1), math.MaxFloat64,
		math.SmallestNonzeroFloat64, float32(1.5), 0.25, int64(math.MinInt64), int64(math.MaxInt64),
		int(-5), int8(-8), int16(-16), int32(-32), uint8(8), uint16(16), uint32(math.MaxUint32),
		uint(7), uint64(math.MaxUint64), true, false, nil, "", "日本語 ☃ 🐘", "nul\x00inside",
		"invalid \xff\xfe utf-8", base[:9], strings.Clone(base[:9]), base[:3], long, long[:200],
		[]int{1, 2}, map[string]int{"b": 2, "a": 1}, struct{ A int }{3}, complex(1, 2), []any{math.NaN()},
		json.RawMessage(`{"x":1}`), strings.Repeat("x", 128)}
	spans := []trace.Span{
		{SpanID: trace.SpanID{1}, StartUnixNano: math.MinInt64, DurationNano: math.MaxInt64},
		{SpanID: trace.SpanID{2}, ParentSpanID: trace.SpanID{1}, Name: "日本語 ☃ 🐘", Kind: trace.KindServer,
			StartUnixNano: math.MaxInt64, DurationNano: -1, Attributes: trace.Attributes{}, Events: []trace.Event{},
			Status: trace.Status{Code: trace.StatusError, Message: "invalid \xff\xfe utf-8"}},
		{SpanID: trace.SpanID{3}, ParentSpanID: trace.SpanID{9}, Name: base[:7], Kind: trace.SpanKind(base[:3]),
			Attributes: trace.Attributes{base[:7]: base[:9]},
			Events: []trace.Event{
				{Attributes: trace.Attributes{"": math.Inf(1)}},
				{Name: "e", TimeUnixNano: -5},
				{Name: base[:3], TimeUnixNano: math.MaxInt64, Attributes: trace.Attributes{}},
			}},
		{ParentSpanID: trace.SpanID{3}, Name: strings.Clone(base[:7]), Attributes: trace.Attributes{"-inf": math.Inf(-1)}},
		{SpanID: trace.SpanID{9}, ParentSpanID: trace.SpanID{0xee, 1, 2, 3, 4, 5, 6, 7}, Name: long, StartUnixNano: 1},
		{SpanID: trace.SpanID{2}, ParentSpanID: trace.SpanID{2}, Name: long[:200], StartUnixNano: -1,
			Attributes: trace.Attributes{long: long}},
		{SpanID: trace.SpanID{10}, ParentSpanID: trace.SpanID{2}, Name: "u64", Attributes: trace.Attributes{"u64": uint64(math.MaxUint64)}},
	}
	for i := range 300 {
		v := values[i%len(values)]
		key := fmt.Sprintf("attr.%d", i%50)
		if i%7 == 0 {
			key = base[:i%len(base)]
		}
		s := trace.Span{
			SpanID:        trace.SpanID{0x40, byte(i), byte(i >> 8)},
			ParentSpanID:  spans[len(spans)*(i%5)/5].SpanID,
			Name:          fmt.Sprintf("span %d", i%130),
			Kind:          []trace.SpanKind{trace.KindClient, trace.KindInternal, ""}[i%3],
			StartUnixNano: int64(1_800_000_000_000_000_000 - i*i*1_000_003),
			DurationNano:  int64(i) << (i % 60),
			Status:        trace.Status{Code: trace.StatusUnset},
			Attributes:    trace.Attributes{key: v},
		}
		if i%11 == 0 {
			s.Attributes = nil
		}
		if i%13 == 0 {
			s.Events = []trace.Event{{Name: trace.EventException, TimeUnixNano: s.StartUnixNano + int64(i),
				Attributes: trace.Attributes{trace.AttrExceptionMessage: fmt.Sprint(values[(i+1)%len(values)])}}}
		}
		spans = append(spans, s)
	}
	return spans
}

// manyStringSpans has n spans of new strings each, for string references
// past 16383 (3-byte varints).
func manyStringSpans(n int) []trace.Span {
	spans := make([]trace.Span, n)
	for i := range spans {
		s := &spans[i]
		binary.LittleEndian.PutUint64(s.SpanID[:], uint64(i)*0x9e3779b97f4a7c15|1)
		if i > 0 {
			s.ParentSpanID = spans[i/2].SpanID
		}
		s.Name = fmt.Sprintf("fn%d", i)
		s.StartUnixNano = int64(i) * 1000
		s.Attributes = trace.Attributes{trace.AttrCodeFilePath: fmt.Sprintf("/srv/f%d.php", i/2)}
	}
	return spans
}

// TestEncodeSpansAsBefore pins the stored bytes: each case's column is the
// one the encoder wrote before it was optimised, byte for byte when that is
// deterministic, and otherwise the same as refEncode's in the column's own
// attribute order (refEncode being checked against the old column in the
// old column's order). Old columns still decode to the spans.
func TestEncodeSpansAsBefore(t *testing.T) {
	dir := filepath.Join("testdata", "spans-golden")
	cases := goldenCases()
	if *updateGolden {
		os.MkdirAll(dir, 0o755)
		for _, c := range cases {
			col := encodeSpans(c.spans)
			var err error
			if c.hash {
				sum := sha256.Sum256(col)
				err = os.WriteFile(filepath.Join(dir, c.name+".sha256"), []byte(hex.EncodeToString(sum[:])+"\n"), 0o644)
			} else {
				err = os.WriteFile(filepath.Join(dir, c.name+".bin"), col, 0o644)
			}
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	// Twice, so that the second round encodes with pooled encoders that
	// held other traces.
	for round := range 2 {
		for _, c := range cases {
			col := encodeSpans(c.spans)
			checkAsReference(t, c.name, c.spans, col)
			if got, err := decodeSpans(col); err != nil {
				t.Fatalf("%s: %v", c.name, err)
			} else if diff := spansDiff(got, decodedAs(c.spans)); diff != "" {
				t.Fatalf("%s: %s", c.name, diff)
			}
			if c.hash {
				want, err := os.ReadFile(filepath.Join(dir, c.name+".sha256"))
				if err != nil {
					t.Fatal(err)
				}
				if sum := sha256.Sum256(col); c.exact && hex.EncodeToString(sum[:]) != strings.TrimSpace(string(want)) {
					t.Errorf("%s: column's SHA-256 %x, want %s", c.name, sum, want)
				}
				continue
			}
			old, err := os.ReadFile(filepath.Join(dir, c.name+".bin"))
			if err != nil {
				t.Fatal(err)
			}
			if c.exact && !bytes.Equal(col, old) {
				t.Errorf("%s: %d bytes, differ from the old column's %d at byte %d", c.name, len(col), len(old), firstByteDiff(col, old))
			}
			if round == 0 {
				checkAsReference(t, c.name+" (old column)", c.spans, old)
				if got, err := decodeSpans(old); err != nil {
					t.Fatalf("%s: old column: %v", c.name, err)
				} else if diff := spansDiff(got, decodedAs(c.spans)); diff != "" {
					t.Fatalf("%s: old column: %s", c.name, diff)
				}
			}
		}
	}
}

// TestEncodeSpansAsReference: traces of every shape the benchmarks use
// encode as refEncode does, with encoders reused across them.
func TestEncodeSpansAsReference(t *testing.T) {
	sets := [][]*trace.Trace{wordpressTraces(21, 20), callSiteTraces(20), benchTraces(20), deepTraces(1, 3000)}
	r := rand.New(rand.NewPCG(22, 23))
	for i := range 200 {
		sets = append(sets, []*trace.Trace{{Spans: randomSpans(r, i%50 == 0)}})
	}
	for i, set := range sets {
		for j, tr := range set {
			checkAsReference(t, fmt.Sprintf("set %d trace %d", i, j), tr.Spans, encodeSpans(tr.Spans))
		}
	}
}

// decodedAs is spans as they decode: the values the format does not carry
// as they are turned into int64, float64 or text.
func decodedAs(spans []trace.Span) []trace.Span {
	conv := func(a trace.Attributes) trace.Attributes {
		if a == nil {
			return nil
		}
		out := make(trace.Attributes, len(a))
		for k, v := range a {
			var e refEncoder
			e.strings = map[string]uint64{}
			e.value(v)
			d := spanDecoder{b: e.buf}
			out[k] = d.value()
		}
		return out
	}
	out := make([]trace.Span, len(spans))
	for i, s := range spans {
		s.Attributes = conv(s.Attributes)
		if s.Events != nil {
			evs := make([]trace.Event, len(s.Events))
			for j, ev := range s.Events {
				ev.Attributes = conv(ev.Attributes)
				evs[j] = ev
			}
			s.Events = evs
		}
		out[i] = s
	}
	if spans == nil {
		return nil
	}
	return out
}

func firstByteDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// checkAsReference fails unless col is the column refEncode and
// refColumn make of spans with the attributes in col's order.
func checkAsReference(t *testing.T, name string, spans []trace.Span, col []byte) {
	t.Helper()
	raw := col
	if col[0] == spansS2Binary {
		var err error
		if raw, err = s2.Decode(nil, col[1:]); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		raw = append([]byte{spansBinary}, raw...)
	}
	want := checkBinaryAsReference(t, name, spans, raw)
	if ref := refColumn(want); !bytes.Equal(col, ref) {
		t.Fatalf("%s: column of %d bytes differs from the reference's %d at byte %d", name, len(col), len(ref), firstByteDiff(col, ref))
	}
}

// checkBinaryAsReference fails unless raw, a spansBinary column, is what
// refEncode makes of spans with the attributes in raw's order; it returns
// refEncode's.
func checkBinaryAsReference(t *testing.T, name string, spans []trace.Span, raw []byte) []byte {
	t.Helper()
	orders, err := attrOrders(raw)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	want := refEncode(spans, orders)
	if !bytes.Equal(raw, want) {
		t.Fatalf("%s: binary of %d bytes differs from the reference's %d at byte %d", name, len(raw), len(want), firstByteDiff(raw, want))
	}
	return want
}

// attrOrders returns the keys of every attribute map of a spansBinary
// column in the order written, spans' and events' maps as they come.
func attrOrders(raw []byte) ([][]string, error) {
	d := spanDecoder{b: raw[1:]}
	var orders [][]string
	attrs := func() {
		n, isNil := d.count(minAttrBytes, "attributes")
		if isNil {
			orders = append(orders, nil)
			return
		}
		keys := make([]string, n)
		for i := range keys {
			keys[i] = d.str()
			d.value()
		}
		orders = append(orders, keys)
	}
	n, _ := d.count(minSpanBytes, "spans")
	for range n {
		d.fixed(8)
		if d.uvarint() == 1 {
			d.fixed(8)
		}
		d.str()
		d.str()
		d.varint()
		d.varint()
		d.str()
		d.str()
		attrs()
		m, _ := d.count(minEventBytes, "events")
		for range m {
			d.str()
			d.varint()
			attrs()
		}
	}
	if d.err == nil && len(d.b) > 0 {
		d.fail("%d bytes after the last span", len(d.b))
	}
	return orders, d.err
}

// refColumn is the column for raw as encodeSpans wrote it before it was
// optimised.
func refColumn(raw []byte) []byte {
	if len(raw) < compressFrom {
		return raw
	}
	dst := append([]byte{spansS2Binary}, s2.Encode(nil, raw[1:])...)
	if len(raw)-1 > maxInflateRatio*(len(dst)-1) {
		return raw
	}
	return dst
}

// refEncoder is the binary encoding as written before it was optimised, at
// its plainest: a map for the string table, a map for span ids, and the
// attributes in a given order (orders, consumed map by map).
type refEncoder struct {
	buf     []byte
	strings map[string]uint64
	ids     map[trace.SpanID]int
	orders  [][]string
}

func refEncode(spans []trace.Span, orders [][]string) []byte {
	e := &refEncoder{strings: map[string]uint64{}, ids: map[trace.SpanID]int{}, orders: orders}
	e.buf = append(e.buf, spansBinary)
	e.count(len(spans), spans == nil)
	var prevStart int64
	for i := range spans {
		s := &spans[i]
		e.buf = append(e.buf, s.SpanID[:]...)
		switch j, ok := e.ids[s.ParentSpanID]; {
		case s.ParentSpanID.IsZero():
			e.buf = append(e.buf, 0)
		case ok:
			e.buf = binary.AppendUvarint(e.buf, uint64(j)+2)
		default:
			e.buf = append(e.buf, 1)
			e.buf = append(e.buf, s.ParentSpanID[:]...)
		}
		if !s.SpanID.IsZero() {
			e.ids[s.SpanID] = i
		}
		e.str(s.Name)
		e.str(string(s.Kind))
		e.buf = binary.AppendVarint(e.buf, s.StartUnixNano-prevStart)
		prevStart = s.StartUnixNano
		e.buf = binary.AppendVarint(e.buf, s.DurationNano)
		e.str(string(s.Status.Code))
		e.str(s.Status.Message)
		e.attrs(s.Attributes)
		e.count(len(s.Events), s.Events == nil)
		for j := range s.Events {
			ev := &s.Events[j]
			e.str(ev.Name)
			e.buf = binary.AppendVarint(e.buf, ev.TimeUnixNano-s.StartUnixNano)
			e.attrs(ev.Attributes)
		}
	}
	return e.buf
}

func (e *refEncoder) count(n int, isNil bool) {
	if isNil {
		e.buf = append(e.buf, 0)
		return
	}
	e.buf = binary.AppendUvarint(e.buf, uint64(n)+1)
}

func (e *refEncoder) str(s string) {
	if i, ok := e.strings[s]; ok {
		e.buf = binary.AppendUvarint(e.buf, i+1)
		return
	}
	e.strings[s] = uint64(len(e.strings))
	e.buf = append(e.buf, 0)
	e.buf = binary.AppendUvarint(e.buf, uint64(len(s)))
	e.buf = append(e.buf, s...)
}

func (e *refEncoder) attrs(attrs trace.Attributes) {
	e.count(len(attrs), attrs == nil)
	var keys []string
	if len(e.orders) > 0 {
		keys, e.orders = e.orders[0], e.orders[1:]
	}
	if len(keys) != len(attrs) {
		keys = nil // a wrong count: written in no order, so that the bytes differ
		for k := range attrs {
			keys = append(keys, k+"\x00?")
		}
	}
	for _, k := range keys {
		e.str(k)
		e.value(attrs[k])
	}
}

func (e *refEncoder) value(v any) {
	switch v := v.(type) {
	case string:
		e.buf = append(e.buf, valueString)
		e.str(v)
	case int64:
		e.int(v)
	case bool:
		if v {
			e.buf = append(e.buf, valueTrue)
		} else {
			e.buf = append(e.buf, valueFalse)
		}
	case float64:
		e.float(v)
	case nil:
		e.buf = append(e.buf, valueNil)
	case int:
		e.int(int64(v))
	case int32:
		e.int(int64(v))
	case int16:
		e.int(int64(v))
	case int8:
		e.int(int64(v))
	case uint32:
		e.int(int64(v))
	case uint16:
		e.int(int64(v))
	case uint8:
		e.int(int64(v))
	case float32:
		e.float(float64(v))
	default:
		text, err := json.Marshal(v)
		if err != nil {
			text = []byte(fmt.Sprint(v))
		}
		e.buf = append(e.buf, valueString)
		e.str(string(text))
	}
}

func (e *refEncoder) int(v int64) {
	e.buf = append(e.buf, valueInt)
	e.buf = binary.AppendVarint(e.buf, v)
}

func (e *refEncoder) float(v float64) {
	e.buf = append(e.buf, valueFloat)
	e.buf = binary.LittleEndian.AppendUint64(e.buf, math.Float64bits(v))
}

// Strings that collide in the encoder's string tables, by their sampled
// key or by hash bits cleared, still encode as refEncode does: long
// strings differing only outside their sample, equal strings at other
// addresses, strings sharing memory, enough of them to grow the tables.
func TestEncodeSpansStringCollisions(t *testing.T) {
	spans := collidingSpans()
	for _, collide := range []uint64{0, ^uint64(0), ^(uint64(7) << 61), ^uint64(0xff)} {
		e := new(spanEncoder)
		e.collide = collide
		for round := range 3 { // the encoder reused, with other strings
			in := spans[:len(spans)-round*100]
			raw := bytes.Clone(e.encode(in))
			e.reset()
			checkBinaryAsReference(t, fmt.Sprintf("collide %#x round %d", collide, round), in, raw)
			got, err := decodeSpans(raw)
			if err != nil {
				t.Fatal(err)
			}
			if diff := spansDiff(got, decodedAs(in)); diff != "" {
				t.Fatalf("collide %#x: %s", collide, diff)
			}
		}
	}
}

func collidingSpans() []trace.Span {
	sample := func(i, n int) string { // the same 64 sampled bytes for every i
		b := []byte(strings.Repeat("S", n))
		for j, k := 16, i; j < n/2-16; j++ {
			b[j] = byte('a' + k%26)
			k /= 26
		}
		b[n/2+16] = byte('0' + i%10)
		return string(b)
	}
	base := "SELECT * FROM wp_posts WHERE ID = 1 AND post_type = 'post' ORDER BY post_date DESC LIMIT 10 /* sampled */"
	var spans []trace.Span
	for i := range 700 {
		attrs := trace.Attributes{
			"long":  sample(i/2, 200), // each twice, at two addresses
			"short": fmt.Sprintf("v%d", i%300),
			"sub":   base[:i%len(base)],
			"same":  strings.Clone(base),
		}
		if i%5 == 0 {
			attrs["json"] = []int{i % 7}
		}
		if i%3 == 0 {
			attrs[sample(i%50, 128+i%3)] = sample(i%40, 1000)
		}
		spans = append(spans, trace.Span{
			SpanID: trace.SpanID{byte(i), byte(i >> 8), 1}, Name: sample(i%20, 300), Kind: trace.KindClient,
			StartUnixNano: int64(i), Attributes: attrs,
		})
	}
	return spans
}

// The address cache tells strings at one address apart by their length
// (prefixes of one string), and does not hold text made while encoding,
// whose address a later text may take once it is freed.
func TestEncodeSpansAddressCache(t *testing.T) {
	base := strings.Repeat("abcdefghij", 20)
	var spans []trace.Span
	for i := range 300 {
		n := (i * 37) % len(base)
		spans = append(spans, trace.Span{
			SpanID: trace.SpanID{byte(i), byte(i >> 8), 2}, Name: base[:n], Kind: trace.SpanKind(base[:n/2]),
			Attributes: trace.Attributes{base[:1+n/3]: base[:n%100], "text": gcText(i % 7)},
		})
	}
	// Two prefixes in one entry of the cache, written one after the other.
	long := strings.Repeat(base, 25)
	seen := map[int]int{}
	for n := range len(long) {
		h := recentSlot(uintptr(unsafe.Pointer(unsafe.StringData(long))), n)
		if m, ok := seen[h]; ok {
			spans = append([]trace.Span{{Name: long[:m], Kind: trace.SpanKind(long[:n])}, {Name: long[:n], Kind: trace.SpanKind(long[:m])}}, spans...)
			break
		}
		seen[h] = n
	}
	for range 3 {
		checkAsReference(t, "prefixes", spans, encodeSpans(spans))
	}
}

// gcText marshals to one of a few texts of one length, collecting garbage
// first so that the texts made before it may be freed.
type gcText int

func (g gcText) MarshalJSON() ([]byte, error) {
	runtime.GC()
	return fmt.Appendf(nil, "%q", fmt.Sprintf("text %d %s", int(g), strings.Repeat("x", 40))), nil
}
