package store

import (
	"bytes"
	"compress/flate"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tusk-php/tusk/pkg/agentapi"
	"github.com/tusk-php/tusk/pkg/assemble"
	"github.com/tusk-php/tusk/pkg/events"
	"github.com/tusk-php/tusk/pkg/profile"
	"github.com/tusk-php/tusk/pkg/trace"
)

// benchTraces returns n realistic traces, ending now; made once per size.
func benchTraces(n int) []*trace.Trace {
	return newTraceMaker(42).makeN(n, time.Now())
}

// BenchmarkAdd is what the agent's event loop pays per trace.
func BenchmarkAdd(b *testing.B) {
	traces := benchTraces(10_000)
	b.Run("enqueue", func(b *testing.B) {
		// The cost the caller sees; the writer runs behind it, and what it
		// cannot keep up with is dropped, never waited for.
		s := openTestStore(b, Options{Logger: slog.New(slog.DiscardHandler)})
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			s.Add(traces[i%len(traces)])
			i++
		}
		b.StopTimer()
		s.Flush(context.Background())
		st := s.Stats()
		b.ReportMetric(float64(st.Dropped)/float64(i), "dropped/op")
	})
	b.Run("written", func(b *testing.B) {
		// Add and Flush every batch: the writer's sustained throughput.
		s := benchWrite(b, traces, DefaultBatchSize)
		st := s.Stats()
		if st.Dropped > 0 {
			b.Fatalf("dropped %d", st.Dropped)
		}
		b.ReportMetric(float64(st.SizeBytes)/float64(st.Traces), "B/trace")
	})
	b.Run("written-in-threes", func(b *testing.B) {
		// The agent's event loop hands the store what settled in the last
		// 50 ms: at WordPress's ~60 pages/s, batches of about three.
		benchWrite(b, traces, 3)
	})
}

// benchWrite adds copies of traces (new ids: rows, not merges) to a new
// store, flushing after every flushEvery, and returns the store.
func benchWrite(b *testing.B, traces []*trace.Trace, flushEvery int) *Store {
	s := openTestStore(b, Options{Logger: slog.New(slog.DiscardHandler)})
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		tr := *traces[i%len(traces)]
		tr.TraceID = trace.NewTraceID()
		s.Add(&tr)
		i++
		if i%flushEvery == 0 {
			s.Flush(ctx)
		}
	}
	s.Flush(ctx)
	b.StopTimer()
	return s
}

// BenchmarkSearch runs the UI's common searches over 100k traces, one a
// second (28 hours), as the writer leaves them: planner statistics updated.
func BenchmarkSearch(b *testing.B) {
	const n = 100_000
	path := filepath.Join(b.TempDir(), "traces.db")
	s, err := Open(path, Options{Logger: slog.New(slog.DiscardHandler), QueueSize: n, QueueBytes: 1 << 40})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	end := time.Now()
	m := newTraceMaker(42)
	ids := make([]trace.TraceID, n)
	for i := range n {
		tr := m.make(end.Add(-time.Duration(n-i) * time.Second))
		ids[i] = tr.TraceID
		s.Add(tr)
	}
	if err := s.Flush(context.Background()); err != nil {
		b.Fatal(err)
	}
	if err := s.ApplyRetention(context.Background(), time.Now()); err != nil {
		b.Fatal(err)
	}
	st := s.Stats()
	b.Logf("%d traces, %d bytes, %d bytes/trace", st.Traces, st.SizeBytes, st.SizeBytes/st.Traces)

	hour := end.Add(-time.Hour)
	for _, bc := range []struct {
		name string
		q    trace.Query
	}{
		{"newest", trace.Query{}},
		{"slowest", trace.Query{Order: trace.OrderSlowest}},
		{"last hour", trace.Query{Start: hour}},
		{"last hour slowest", trace.Query{Start: hour, Order: trace.OrderSlowest}},
		{"last hour service", trace.Query{Start: hour, Service: "shop"}},
		{"last hour service slowest", trace.Query{Start: hour, Service: "shop", Order: trace.OrderSlowest}},
		{"path prefix", trace.Query{PathPrefix: "/api/v1/orders"}},
		{"rare path prefix", trace.Query{PathPrefix: "/wp-admin/post"}},
		{"last hour path prefix", trace.Query{Start: hour, PathPrefix: "/api/v1/orders"}},
		{"slower than 1.9s", trace.Query{MinDuration: 1900 * time.Millisecond}},
		{"errors", trace.Query{ErrorsOnly: true}},
		{"status 404", trace.Query{StatusCode: 404}},
		{"method (no index)", trace.Query{Method: "DELETE"}},
		{"everything", trace.Query{Start: hour, Service: "shop", Method: "GET", PathPrefix: "/cart", StatusCode: 200}},
		{"limit 5000", trace.Query{Limit: trace.MaxLimit}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			ctx := context.Background()
			b.ReportAllocs()
			var hits int
			for b.Loop() {
				sums, err := s.Search(ctx, bc.q)
				if err != nil {
					b.Fatal(err)
				}
				hits = len(sums)
			}
			b.ReportMetric(float64(hits), "results")
		})
	}
	b.Run("get", func(b *testing.B) {
		ctx := context.Background()
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := s.Get(ctx, ids[i%n]); err != nil {
				b.Fatal(err)
			}
			i += 7919
		}
	})
}

// BenchmarkFunctionTraces scans MaxFunctionSearchProfiles request profiles
// of a Symfony-like app (10-200 samples, ~20 stacks each) for a function
// that is in 1 in 10 of them and for one that is in none: the cost the
// bound keeps in check.
func BenchmarkFunctionTraces(b *testing.B) {
	const n = MaxFunctionSearchProfiles
	path := filepath.Join(b.TempDir(), "traces.db")
	s, err := Open(path, Options{Logger: slog.New(slog.DiscardHandler), QueueSize: n, QueueBytes: 1 << 40})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	end := time.Now()
	m := newTraceMaker(43)
	frames := make([]profile.Frame, len(fixtureFunctions))
	for i, fn := range fixtureFunctions {
		frames[i] = profile.Frame{Function: fn, File: fmt.Sprintf("/var/www/shop/src/F%d.php", i), Line: 10 + i}
	}
	hot := profile.Frame{Function: "App\\Service\\Hot::compute", File: "/var/www/shop/src/Hot.php", Line: 7}
	for i := range n {
		at := end.Add(-time.Duration(n-i) * time.Second)
		tr := m.make(at)
		s.Add(tr)
		p := profile.NewProfile(profile.DefaultMaxTraceStacks)
		p.PeriodNs = 10_101_010
		l := profile.Labels{Service: tr.Service, Pool: tr.Pool, Endpoint: tr.Name()}
		for range 10 + m.rng.IntN(190) {
			stack := []profile.Frame{pfMain}
			for range 3 + m.rng.IntN(12) {
				stack = append(stack, frames[m.rng.IntN(len(frames))])
			}
			if i%10 == 0 && m.rng.IntN(2) == 0 {
				stack = append(stack, hot)
			}
			p.Add(stack, l, 1)
		}
		s.AddProfile(profile.Bucket{Time: at.Add(time.Millisecond), Service: l.Service, Pool: l.Pool, Endpoint: l.Endpoint,
			TraceID: tr.TraceID, Profile: p})
		if i%1000 == 999 { // the profile queue holds 4096
			if err := s.FlushProfiles(context.Background()); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := s.Flush(context.Background()); err != nil {
		b.Fatal(err)
	}
	if err := s.FlushProfiles(context.Background()); err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		fn   string
	}{
		{"in 1 of 10", hot.Name()},
		{"in none", "App\\Nowhere::run"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			q := agentapi.FunctionTracesQuery{Function: bc.fn, Traces: trace.Query{Start: end.Add(-24 * time.Hour), End: end}}
			var resp *agentapi.FunctionTracesResponse
			for b.Loop() {
				if resp, err = s.FunctionTraces(context.Background(), q); err != nil {
					b.Fatal(err)
				}
			}
			if resp.Scanned != n {
				b.Fatalf("scanned %d of %d", resp.Scanned, n)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/profile")
			b.ReportMetric(float64(len(resp.Traces)), "results")
		})
	}
}

// BenchmarkSpansCodec compares the spans encodings on two sets of traces:
// "fixtures" (traceMaker: ~20 PHP function spans, a few client spans) and
// "call sites" (every span under the request a SQL, cache or HTTP call
// with its statement and a 5-14 frame PHP stack, an N+1 loop in 30% of
// requests: the shape of bench/store's generator and of the agent's
// always-on traces). It reports the encoded bytes per trace; ns/op is per
// trace. codec.go's choice quotes these numbers.
//
// "deep" is bench/ingest's request, built by the assembler: 9000 calls of
// one function, each a span; ns/op / 9000 is the store's cost per event.
// "wordpress" is WordPress front pages in always-on mode (wordpressTraces).
func BenchmarkSpansCodec(b *testing.B) {
	sets := map[string][]*trace.Trace{
		"fixtures":   benchTraces(1000),
		"call sites": callSiteTraces(1000),
		"deep":       deepTraces(4, 9000),
		"wordpress":  wordpressTraces(1, 200),
	}
	codecs := []struct {
		name   string
		encode func([]trace.Span) []byte
	}{
		{"json+flate (format 1, before)", func(spans []trace.Span) []byte {
			raw, err := json.Marshal(spans)
			if err != nil {
				b.Fatal(err)
			}
			return append([]byte{spansDeflateJSON}, deflated(b, raw, flate.BestSpeed)...)
		}},
		{"binary (format 3)", uncompressedSpans},
		{"binary+flate (format 4)", func(spans []trace.Span) []byte { return deflateBinary(uncompressedSpans(spans)) }},
		{"binary+s2 (encodeSpans)", encodeSpans},
	}
	for _, setName := range []string{"fixtures", "call sites", "deep", "wordpress"} {
		traces := sets[setName]
		for _, c := range codecs {
			b.Run(setName+"/encode/"+c.name, func(b *testing.B) {
				b.ReportAllocs()
				var size, n int
				for b.Loop() {
					size += len(c.encode(traces[n%len(traces)].Spans))
					n++
				}
				b.ReportMetric(float64(size)/float64(n), "B/trace")
			})
		}
		for _, c := range codecs {
			blobs := make([][]byte, len(traces))
			for i, tr := range traces {
				blobs[i] = c.encode(tr.Spans)
			}
			b.Run(setName+"/decode/"+c.name, func(b *testing.B) {
				b.ReportAllocs()
				n := 0
				for b.Loop() {
					if _, err := decodeSpans(blobs[n%len(blobs)]); err != nil {
						b.Fatal(err)
					}
					n++
				}
			})
		}
	}
}

// BenchmarkEncodeSpans is encodeSpans and its two parts, the binary
// encoding and its S2 compression, on WordPress front pages
// (wordpressTraces: 35 spans, the agent's always-on traces) and the sets
// of BenchmarkSpansCodec; ns/op is per trace.
func BenchmarkEncodeSpans(b *testing.B) {
	for _, set := range []struct {
		name   string
		traces []*trace.Trace
	}{{"wordpress", wordpressTraces(1, 200)}, {"call sites", callSiteTraces(1000)}, {"deep", deepTraces(4, 9000)}} {
		b.Run(set.name+"/encodeSpans", func(b *testing.B) {
			b.ReportAllocs()
			var size, n int
			for b.Loop() {
				size += len(encodeSpans(set.traces[n%len(set.traces)].Spans))
				n++
			}
			b.ReportMetric(float64(size)/float64(n), "B/trace")
		})
		b.Run(set.name+"/binary", func(b *testing.B) {
			b.ReportAllocs()
			var size, n int
			for b.Loop() {
				e := spanEncoders.Get().(*spanEncoder)
				size += len(e.encode(set.traces[n%len(set.traces)].Spans))
				e.release()
				n++
			}
			b.ReportMetric(float64(size)/float64(n), "B/trace")
		})
		raws := make([][]byte, len(set.traces))
		for i, tr := range set.traces {
			raws[i] = uncompressedSpans(tr.Spans)
		}
		b.Run(set.name+"/s2Binary", func(b *testing.B) {
			b.ReportAllocs()
			var size, n int
			e := spanEncoders.Get().(*spanEncoder)
			for b.Loop() {
				size += len(e.s2Binary(raws[n%len(raws)]))
				n++
			}
			e.release()
			b.ReportMetric(float64(size)/float64(n), "B/trace")
		})
	}
}

// uncompressedSpans is encodeSpans without compression: spansBinary
// whatever the size.
func uncompressedSpans(spans []trace.Span) []byte {
	e := spanEncoders.Get().(*spanEncoder)
	defer e.release()
	return bytes.Clone(e.encode(spans))
}

// deflated is blob DEFLATE compressed at level, with a pooled writer as
// encodeSpans has.
func deflated(b testing.TB, blob []byte, level int) []byte {
	var buf bytes.Buffer
	buf.Grow(len(blob)/3 + 16)
	zw := benchFlateWriters[level]
	if zw == nil {
		zw, _ = flate.NewWriter(nil, level)
		benchFlateWriters[level] = zw
	}
	zw.Reset(&buf)
	zw.Write(blob)
	if err := zw.Close(); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

var benchFlateWriters = map[int]*flate.Writer{}

// callSiteTraces returns n traces of fixtures' requests whose inner spans
// are all client calls with a statement and a PHP stack, as the agent's
// always-on traces are.
func callSiteTraces(n int) []*trace.Trace {
	traces := benchTraces(n)
	r := rand.New(rand.NewPCG(7, 7))
	statements := []string{
		"SELECT p.id, p.name, p.price, p.stock FROM product p INNER JOIN category c ON c.id = p.category_id WHERE p.id = %d AND c.visible = 1",
		"SELECT wp_posts.* FROM wp_posts WHERE 1=1 AND wp_posts.ID = %d AND wp_posts.post_type = 'post' ORDER BY wp_posts.post_date DESC",
		"UPDATE `orders` SET `status` = 'paid', `updated_at` = '2026-11-26 10:00:00' WHERE `id` = %d",
		"GET laravel_cache:product:%d",
	}
	stack := func() string {
		var sb strings.Builder
		for i := range 5 + r.IntN(10) {
			if i > 0 {
				sb.WriteByte('\n')
			}
			fmt.Fprintf(&sb, "%s (/var/www/shop/vendor/package%d/src/Component/File%d.php:%d)",
				fixtureFunctions[r.IntN(len(fixtureFunctions))], r.IntN(20), r.IntN(40), 10+r.IntN(900))
		}
		return sb.String()
	}
	for _, tr := range traces {
		loopFrom, loopTo := len(tr.Spans), len(tr.Spans)
		if r.IntN(10) < 3 {
			loopFrom = 1 + r.IntN(5)
			loopTo = min(len(tr.Spans), loopFrom+10+r.IntN(25))
		}
		var loopStack, loopStatement string
		for i := 1; i < len(tr.Spans); i++ {
			s := &tr.Spans[i]
			s.Kind = trace.KindClient
			st, statement := stack(), statements[r.IntN(len(statements))]
			if i >= loopFrom && i < loopTo {
				if loopStack == "" {
					loopStack, loopStatement = st, statement
				}
				st, statement = loopStack, loopStatement
				s.SetAttr(trace.AttrNPlusOne, true)
			}
			s.SetAttr(trace.AttrCodeStacktrace, st)
			s.SetAttr(trace.AttrDBQueryText, fmt.Sprintf(statement, 1+r.IntN(100000)))
			s.SetAttr(trace.AttrDBSystem, "mysql")
			s.SetAttr(trace.AttrServerAddress, "mysql.internal")
		}
	}
	return traces
}

// BenchmarkTraceBytes is the queue's size estimate, which the agent's event
// loop pays for every trace it hands over; ns/op is per trace.
func BenchmarkTraceBytes(b *testing.B) {
	for _, set := range []struct {
		name   string
		traces []*trace.Trace
	}{{"fixtures", benchTraces(1000)}, {"call sites", callSiteTraces(1000)}, {"deep", deepTraces(4, 9000)}} {
		b.Run(set.name, func(b *testing.B) {
			n := 0
			for b.Loop() {
				traceBytes(set.traces[n%len(set.traces)])
				n++
			}
		})
	}
}

// deepTraces returns n traces as the assembler builds them for bench/ingest's
// request: a script calling one function calls times, deep mode at a 1 ns
// threshold, names interned as the agent's decoder does (one string per
// name, shared by every event).
func deepTraces(n, calls int) []*trace.Trace {
	var traces []*trace.Trace
	a := assemble.New(assemble.Options{Clock: &assemble.WallClock{}}, func(t *trace.Trace) { traces = append(traces, t) })
	const script, ms = "/srv/app/public/calls.php", uint64(time.Millisecond)
	now := time.Now()
	for r := range n {
		req := uint64(r+1) * 1000 * ms
		hdr := func(ts uint64) events.Header { return events.Header{TS: ts, Request: req, PID: 42, TID: 42} }
		a.Add(&events.RequestStart{Header: hdr(req), Method: "GET", Script: script, URI: "/calls.php", Query: fmt.Sprintf("n=%d", calls)}, now)
		for i := range uint64(calls) {
			start := req + 10_000 + i*900
			a.Add(&events.Function{Header: hdr(start + 400 + i%7), Start: start, Seq: uint32(i + 2), Parent: 1, Depth: 2,
				Line: 7, Function: "work", File: script}, now)
		}
		end := req + 10_000 + uint64(calls)*900
		a.Add(&events.Function{Header: hdr(end), Start: req + 5000, ChildNs: uint64(calls) * 400, Seq: 1, Depth: 1,
			Line: 1, Function: "main", File: script}, now)
		a.Add(&events.RequestEnd{Header: hdr(end + 1000), Status: 200}, now)
	}
	a.FlushAll()
	return traces
}
