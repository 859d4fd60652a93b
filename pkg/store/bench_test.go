package store

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/tusk-php/tusk/pkg/agentapi"
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
		s := openTestStore(b, Options{Logger: slog.New(slog.DiscardHandler)})
		ctx := context.Background()
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			tr := *traces[i%len(traces)]
			tr.TraceID = trace.NewTraceID() // new rows, not merges
			s.Add(&tr)
			i++
			if i%DefaultBatchSize == 0 {
				s.Flush(ctx)
			}
		}
		s.Flush(ctx)
		b.StopTimer()
		st := s.Stats()
		if st.Dropped > 0 {
			b.Fatalf("dropped %d", st.Dropped)
		}
		b.ReportMetric(float64(st.SizeBytes)/float64(st.Traces), "B/trace")
	})
}

// BenchmarkSearch runs the UI's common searches over 100k traces, one a
// second (28 hours), as the writer leaves them: planner statistics updated.
func BenchmarkSearch(b *testing.B) {
	const n = 100_000
	path := filepath.Join(b.TempDir(), "traces.db")
	s, err := Open(path, Options{Logger: slog.New(slog.DiscardHandler), QueueSize: n})
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
	s, err := Open(path, Options{Logger: slog.New(slog.DiscardHandler), QueueSize: n})
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
