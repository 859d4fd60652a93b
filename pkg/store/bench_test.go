package store

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

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
