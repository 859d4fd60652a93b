package profile

import (
	"fmt"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/tusk-php/tusk/pkg/trace"
)

type collector struct {
	mu      sync.Mutex
	buckets []Bucket
}

func (c *collector) sink(b Bucket) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.buckets = append(c.buckets, b)
}

func (c *collector) take() []Bucket {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.buckets
	c.buckets = nil
	return out
}

var t0 = time.Date(2026, 11, 25, 9, 30, 10, 0, time.UTC) // 10 s into a minute

func TestAggregatorFoldsSamplesPerMinute(t *testing.T) {
	var c collector
	a := NewAggregator(c.sink, AggregatorOptions{})
	for _, s := range handSamples(t0) {
		a.Add(s)
	}
	// Same stacks, other endpoint, same minute: a bucket of its own.
	other := handSamples(t0.Add(20 * time.Second))[0]
	other.Endpoint = "GET /"
	a.Add(other)
	// The next minute.
	a.Add(handSamples(t0.Add(time.Minute))[0])

	a.Flush(t0.Add(49 * time.Second)) // 9:30:59: nothing finished
	if got := c.take(); len(got) != 0 {
		t.Fatalf("flushed %d buckets before the minute ended", len(got))
	}
	a.Flush(t0.Add(50*time.Second + DefaultLateness)) // 9:31:02
	got := c.take()
	if len(got) != 2 {
		t.Fatalf("flushed %d buckets, want the two of 9:30", len(got))
	}
	minute := time.Date(2026, 11, 25, 9, 30, 0, 0, time.UTC)
	if got[0].Endpoint != "GET /" || got[1].Endpoint != testLabels.Endpoint {
		t.Errorf("buckets not in label order: %q, %q", got[0].Endpoint, got[1].Endpoint)
	}
	b := got[1]
	if !b.Time.Equal(minute) || !b.End.Equal(minute.Add(time.Minute)) || b.IsTrace() ||
		b.Service != "php-fpm" || b.Pool != "www" {
		t.Errorf("bucket = %+v", b)
	}
	if b.Profile.Total() != 8 || b.Profile.PeriodNs != testPeriod {
		t.Errorf("total %d period %d", b.Profile.Total(), b.Profile.PeriodNs)
	}
	// Lines 5 and 7 of db_query stay two stacks (pprof keeps lines).
	want := canonical(handProfile())
	if !maps.Equal(canonical(b.Profile), want) {
		t.Errorf("folded:\n got %v\nwant %v", canonical(b.Profile), want)
	}
	if len(b.Profile.Stacks) != 5 || len(b.Profile.Frames) != 6 {
		t.Errorf("%d stacks, %d frames; want 5 and 6", len(b.Profile.Stacks), len(b.Profile.Frames))
	}

	a.FlushAll()
	if got := c.take(); len(got) != 1 || got[0].Time.Minute() != 31 {
		t.Errorf("FlushAll gave %+v", got)
	}
	st := a.Stats()
	if st.Samples != 10 || st.FlushedBuckets != 3 || st.OpenBuckets != 0 || st.UntracedSamples != 10 {
		t.Errorf("stats %+v", st)
	}
}

func TestAggregatorPerTraceFlush(t *testing.T) {
	var c collector
	a := NewAggregator(c.sink, AggregatorOptions{})
	id1, id2 := trace.TraceID{1}, trace.TraceID{2}
	add := func(id trace.TraceID, at time.Time, stack ...Frame) {
		a.Add(Sample{Time: at, Service: "php-fpm", Pool: "www", Endpoint: "GET /" + id.String()[:2],
			TraceID: id, Stack: stack, Count: 1, PeriodNs: testPeriod})
	}
	add(id1, t0, frMain, frRun)
	add(id1, t0.Add(500*time.Millisecond), frMain, frRun)
	add(id1, t0.Add(time.Second), frMain, frHelper)
	add(id2, t0.Add(1500*time.Millisecond), frMain)

	a.Flush(t0.Add(2900 * time.Millisecond)) // id1 idle 1.9 s
	if got := c.take(); len(got) != 0 {
		t.Fatalf("flushed %+v too early", got)
	}
	a.Flush(t0.Add(3 * time.Second)) // id1 idle 2 s, id2 1.5 s
	got := c.take()
	if len(got) != 1 || got[0].TraceID != id1 {
		t.Fatalf("want id1's profile alone, got %+v", got)
	}
	b := got[0]
	if !b.IsTrace() || !b.Time.Equal(t0) || !b.End.After(t0.Add(time.Second)) || b.Endpoint != "GET /01" || b.Pool != "www" {
		t.Errorf("trace bucket %+v", b)
	}
	if b.Profile.Total() != 3 || len(b.Profile.Stacks) != 2 {
		t.Errorf("trace profile: total %d, %d stacks", b.Profile.Total(), len(b.Profile.Stacks))
	}
	a.Flush(t0.Add(3500 * time.Millisecond))
	if got := c.take(); len(got) != 1 || got[0].TraceID != id2 {
		t.Fatalf("want id2's profile, got %+v", got)
	}
	if st := a.Stats(); st.OpenTraces != 0 || st.OpenBuckets != 2 || st.UntracedSamples != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestAggregatorSplitsLongRequests(t *testing.T) {
	var c collector
	a := NewAggregator(c.sink, AggregatorOptions{TraceMaxAge: 10 * time.Second})
	id := trace.TraceID{7}
	for i := range 30 { // one sample a second for 30 s, flushing as the agent does
		at := t0.Add(time.Duration(i) * time.Second)
		a.Add(Sample{Time: at, TraceID: id, Stack: []Frame{frMain}, PeriodNs: testPeriod})
		a.Flush(at)
	}
	a.FlushAll()
	var parts, total int64
	for _, b := range c.take() {
		if b.IsTrace() {
			parts++
			total += b.Profile.Total()
		}
	}
	if parts != 3 || total != 30 {
		t.Errorf("%d parts with %d samples; want 3 parts, 30 samples", parts, total)
	}
}

func TestStackCapFoldsIntoTruncatedUnderTheRoot(t *testing.T) {
	var c collector
	a := NewAggregator(c.sink, AggregatorOptions{MaxStacks: 3})
	leaf := func(i int) Frame { return Frame{Function: fmt.Sprintf("f%d", i), File: "/f.php"} }
	other := Frame{Function: "{main}", File: "/www/cron.php"}
	for i := range 5 { // f0..f2 fit, f3 and f4 overflow
		a.Add(Sample{Time: t0, Stack: []Frame{frMain, leaf(i)}, Count: int64(i + 1)})
	}
	a.Add(Sample{Time: t0, Stack: []Frame{other, leaf(9)}, Count: 10})
	a.Add(Sample{Time: t0, Stack: []Frame{frMain, leaf(1)}, Count: 100}) // known: still counted as is
	a.FlushAll()
	got := c.take()
	if len(got) != 1 {
		t.Fatalf("%d buckets", len(got))
	}
	p := got[0].Profile
	want := map[string]int64{
		"//|{main}@/www/index.php:3;f0@/f.php:0":    1,
		"//|{main}@/www/index.php:3;f1@/f.php:0":    102,
		"//|{main}@/www/index.php:3;f2@/f.php:0":    3,
		"//|{main}@/www/index.php:3;[truncated]@:0": 4 + 5,
		"//|{main}@/www/cron.php:0;[truncated]@:0":  10,
	}
	if !maps.Equal(canonical(p), want) {
		t.Errorf("capped profile:\n got %v\nwant %v", canonical(p), want)
	}
	if p.Total() != 125 || p.TruncatedSamples() != 19 || a.Stats().TruncatedSamples != 19 {
		t.Errorf("total %d truncated %d stats %+v", p.Total(), p.TruncatedSamples(), a.Stats())
	}
}

func TestStackCapIsAHardBound(t *testing.T) {
	p := NewProfile(10)
	var total int64
	for i := range 10000 { // 10000 distinct roots
		p.Add([]Frame{{Function: fmt.Sprintf("root%d", i)}, frRun}, testLabels, 1)
		total++
	}
	if n := len(p.Stacks); n > 10+overflowSlack+1 {
		t.Errorf("%d stacks, want at most %d", n, 10+overflowSlack+1)
	}
	if p.Total() != total || sum(p) != total {
		t.Errorf("total %d, stacks sum to %d, want %d", p.Total(), sum(p), total)
	}
}

func TestDeepStacksAreCut(t *testing.T) {
	p := NewProfile(0)
	stack := make([]Frame, MaxDepth+100)
	for i := range stack {
		stack[i] = Frame{Function: fmt.Sprintf("f%d", i)}
	}
	p.Add(stack, testLabels, 1)
	s := p.Stacks[0]
	if len(s.Frames) != MaxDepth || p.Frames[s.Frames[0]].Function != "f0" || p.Frames[s.Frames[MaxDepth-1]] != TruncatedFrame {
		t.Errorf("deep stack kept as %d frames ending in %+v", len(s.Frames), p.Frames[s.Frames[len(s.Frames)-1]])
	}
	if len(p.Frames) != MaxDepth {
		t.Errorf("%d frames interned, want the %d kept", len(p.Frames), MaxDepth)
	}
}

func TestTooManyEndpointsShareOther(t *testing.T) {
	var c collector
	a := NewAggregator(c.sink, AggregatorOptions{MaxBucketsPerMinute: 2})
	for i := range 5 {
		a.Add(Sample{Time: t0, Endpoint: fmt.Sprintf("GET /p%d", i), Stack: []Frame{frMain}})
	}
	a.FlushAll()
	got := c.take()
	if len(got) != 3 || got[0].Endpoint != "GET /p0" || got[1].Endpoint != "GET /p1" || got[2].Endpoint != OtherEndpoint ||
		got[2].Profile.Total() != 3 || got[2].Profile.Labels[0].Endpoint != OtherEndpoint {
		for _, b := range got {
			t.Logf("%q %d", b.Endpoint, b.Profile.Total())
		}
		t.Errorf("want p0, p1 and [other] with 3 samples")
	}
	if a.Stats().OtherEndpoint != 3 {
		t.Errorf("stats %+v", a.Stats())
	}
}

// TestAggregatorConcurrentUse is for the race detector: one goroutine adds,
// another flushes and reads stats.
func TestAggregatorConcurrentUse(t *testing.T) {
	var c collector
	a := NewAggregator(c.sink, AggregatorOptions{TraceIdle: time.Millisecond})
	var wg sync.WaitGroup
	done := make(chan struct{})
	wg.Go(func() {
		for {
			select {
			case <-done:
				return
			default:
			}
			a.Flush(time.Now().Add(2 * time.Minute))
			_ = a.Stats()
		}
	})
	const n = 20000
	for i := range n {
		a.Add(Sample{Time: time.Now(), TraceID: trace.TraceID{byte(i % 7), 1}, Stack: []Frame{frMain, frRun}, PeriodNs: testPeriod})
	}
	close(done)
	wg.Wait()
	a.FlushAll()
	var minutes int64
	for _, b := range c.take() {
		if !b.IsTrace() {
			minutes += b.Profile.Total()
		}
	}
	if minutes != n {
		t.Errorf("minute buckets hold %d samples, want %d", minutes, n)
	}
}

func sum(p *Profile) int64 {
	var n int64
	for _, s := range p.Stacks {
		n += s.Count
	}
	return n
}

func TestMergeOpenSeesWhatIsNotFlushedYet(t *testing.T) {
	var c collector
	a := NewAggregator(c.sink, AggregatorOptions{})
	samples := handSamples(t0)
	var id trace.TraceID
	id[0] = 9
	for _, s := range samples {
		s.TraceID = id
		a.Add(s)
	}
	all := func(Labels, time.Time, time.Time) bool { return true }
	p := NewProfile(100)
	a.MergeOpen(p, trace.TraceID{}, all)
	if want := int64(len(samples)); p.Total() != want {
		t.Fatalf("open minute: %d samples, want %d", p.Total(), want)
	}
	p = NewProfile(100)
	a.MergeOpen(p, id, all)
	if p.Total() != int64(len(samples)) {
		t.Fatalf("open request: %d samples", p.Total())
	}
	p = NewProfile(100)
	a.MergeOpen(p, trace.TraceID{}, func(l Labels, _, _ time.Time) bool { return l.Pool == "no-such-pool" })
	if p.Total() != 0 {
		t.Fatalf("filter ignored: %d samples", p.Total())
	}
	// Once flushed, the samples are the sink's: not counted again here.
	a.FlushAll()
	p = NewProfile(100)
	a.MergeOpen(p, trace.TraceID{}, all)
	if p.Total() != 0 || len(c.take()) == 0 {
		t.Fatalf("after flush: %d samples still open", p.Total())
	}
}
