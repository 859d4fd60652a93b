package store

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/tusk-php/tusk/pkg/trace"
)

func TestQueueRefusesWhenFullOrClosed(t *testing.T) {
	q := newQueue(2, 1<<30)
	tr := &trace.Trace{}
	for i, want := range []bool{true, true, false} {
		if ok, _, _ := q.push(tr); ok != want {
			t.Fatalf("push %d: %v, want %v", i, ok, want)
		}
	}
	if got := q.takeAll(nil); len(got) != 2 {
		t.Fatalf("took %d, want 2", len(got))
	}
	q.close()
	if ok, _, _ := q.push(tr); ok {
		t.Error("a closed queue took a trace")
	}
}

func TestQueueReusesTheWritersSlice(t *testing.T) {
	q := newQueue(10, 1<<30)
	tr := &trace.Trace{}
	q.push(tr)
	first := q.takeAll(nil)
	q.push(tr)
	second := q.takeAll(first)
	if first[0].t != nil {
		t.Error("the returned slice still points at a written trace")
	}
	q.push(tr)
	if got := q.takeAll(second); &got[0] != &first[0] {
		t.Error("the queue allocated instead of reusing the slice it got back")
	}
}

func TestQueueWaitResolved(t *testing.T) {
	q := newQueue(10, 1<<30)
	for range 3 {
		q.push(&trace.Trace{})
	}
	empty := traceBytes(&trace.Trace{})
	mark := q.mark()
	done := make(chan error)
	go func() { done <- q.waitResolved(context.Background(), mark) }()
	q.resolve(2, 2*empty)
	select {
	case err := <-done:
		t.Fatalf("returned with 1 of 3 traces unresolved: %v", err)
	case <-time.After(10 * time.Millisecond):
	}
	q.resolve(1, empty)
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	q.push(&trace.Trace{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := q.waitResolved(ctx, q.mark()); !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want the context's error", err)
	}
}

// TestQueueRefusesOverItsBytes: a few huge traces fill the byte budget
// long before the count, and resolving gives their bytes back.
func TestQueueRefusesOverItsBytes(t *testing.T) {
	huge := hugeTrace(2000)
	size := traceBytes(huge)
	q := newQueue(10_000, 5*size+size/2)
	accepted := 0
	for range 10 {
		if ok, _, _ := q.push(huge); ok {
			accepted++
		}
	}
	if accepted != 5 || q.heldBytes() != 5*size {
		t.Fatalf("accepted %d traces of %d bytes, holding %d; want 5 under a budget of %d", accepted, size, q.heldBytes(), q.maxBytes)
	}
	if ok, _, _ := q.push(&trace.Trace{}); !ok {
		t.Error("refused a small trace that fits")
	}
	taken := q.takeAll(nil)
	if q.heldBytes() != 5*size+traceBytes(&trace.Trace{}) {
		t.Error("taking the traces released their bytes: the writer still holds them")
	}
	var bytes int64
	for _, qt := range taken {
		bytes += qt.bytes
	}
	q.resolve(len(taken), bytes)
	if q.heldBytes() != 0 {
		t.Errorf("%d bytes held after everything was resolved", q.heldBytes())
	}
	if ok, _, _ := q.push(huge); !ok {
		t.Error("a resolved queue refused")
	}
}

// TestTraceBytesEstimatesTheHeap holds traceBytes against the Go heap that
// realistic traces take.
func TestTraceBytesEstimatesTheHeap(t *testing.T) {
	deep := func(n int) []*trace.Trace { return deepTraces(n/100, 9000) }
	for name, makeTraces := range map[string]func(int) []*trace.Trace{"fixtures": benchTraces, "call sites": callSiteTraces, "deep": deep} {
		t.Run(name, func(t *testing.T) {
			const n = 1000
			var before, after runtime.MemStats
			runtime.GC() // twice: the second frees what sync.Pools held
			runtime.GC()
			runtime.ReadMemStats(&before)
			traces := makeTraces(n)
			runtime.GC()
			runtime.ReadMemStats(&after)
			var estimate int64
			for _, tr := range traces {
				estimate += traceBytes(tr)
			}
			runtime.KeepAlive(traces)
			heap := int64(after.HeapAlloc - before.HeapAlloc)
			ratio := float64(estimate) / float64(heap)
			t.Logf("%d traces: heap %d B per trace, estimate %d: %.2f", len(traces), heap/int64(len(traces)), estimate/int64(len(traces)), ratio)
			if ratio < 0.75 || ratio > 1.5 {
				t.Errorf("estimate is %.2f times the heap", ratio)
			}
		})
	}
}

// hugeTrace is a deep-mode trace: spans function spans, each with a PHP
// stack of its own.
func hugeTrace(spans int) *trace.Trace {
	tr := &trace.Trace{Summary: trace.Summary{TraceID: trace.NewTraceID(), Service: "shop"}}
	for i := range spans {
		tr.Spans = append(tr.Spans, trace.Span{SpanID: trace.NewSpanID(), Name: "App\\Kernel::handle",
			Attributes: trace.Attributes{trace.AttrCodeStacktrace: strings.Repeat(fmt.Sprintf("frame %d\n", i), 100)}})
	}
	return tr
}

// A trace past walkedSpans spans is estimated from a sample of them: as
// the full walk would for deep mode's alike function spans, and near it
// when some spans are much larger than the others.
func TestTraceBytesSamplesLargeTraces(t *testing.T) {
	walkAll := func(tr *trace.Trace) int64 {
		return traceBytes(&trace.Trace{Summary: tr.Summary}) + int64(spansBytes(tr.Spans, 1))
	}
	deep := deepTraces(1, 9000)[0]
	mixed := deepTraces(1, 9000)[0]
	for i := 1; i < len(mixed.Spans); i += 10 { // one span in ten carries a statement of 0.5-2 KB
		mixed.Spans[i].SetAttr(trace.AttrDBQueryText, strings.Repeat("x", 500+i%1500))
	}
	for name, tr := range map[string]*trace.Trace{"deep": deep, "mixed": mixed, "small": hugeTrace(walkedSpans)} {
		got, want := traceBytes(tr), walkAll(tr)
		if ratio := float64(got) / float64(want); ratio < 0.95 || ratio > 1.05 {
			t.Errorf("%s: %d spans estimated at %d bytes, %.3f times the full walk's %d", name, len(tr.Spans), got, ratio, want)
		}
	}
	if small := hugeTrace(walkedSpans); traceBytes(small) != walkAll(small) {
		t.Error("a trace of walkedSpans spans is not walked in full")
	}
}

// TestLargeTracesAreWrittenBeforeTheTick: a quarter of the byte bound
// queued wakes the writer, so megabyte traces arriving faster than the
// flush interval are written instead of filling the queue and dropped.
func TestLargeTracesAreWrittenBeforeTheTick(t *testing.T) {
	s := openTestStore(t, Options{FlushInterval: time.Hour, QueueBytes: 4 << 20})
	spans := make([]trace.Span, 2000)
	for i := range spans {
		spans[i] = trace.Span{SpanID: trace.NewSpanID(), Name: strings.Repeat("x", 400)}
	}
	for i := range 20 {
		tr := &trace.Trace{Summary: trace.Summary{TraceID: trace.NewTraceID(), Service: "deep", StartUnixNano: int64(i)}, Spans: spans}
		if b := traceBytes(tr); b < 1<<20 || b > 4<<20/3 {
			t.Fatalf("a trace of %d bytes does not test a quarter of the bound", b)
		}
		s.Add(tr)
		deadline := time.Now().Add(10 * time.Second)
		for s.Stats().Written+s.Stats().Dropped < uint64(i+1) && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
	}
	if st := s.Stats(); st.Written != 20 || st.Dropped != 0 {
		t.Fatalf("written %d, dropped %d of 20, the writer's tick an hour away", st.Written, st.Dropped)
	}
}
