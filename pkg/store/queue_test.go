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
		if ok, _ := q.push(tr); ok != want {
			t.Fatalf("push %d: %v, want %v", i, ok, want)
		}
	}
	if got := q.takeAll(nil); len(got) != 2 {
		t.Fatalf("took %d, want 2", len(got))
	}
	q.close()
	if ok, _ := q.push(tr); ok {
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
		if ok, _ := q.push(huge); ok {
			accepted++
		}
	}
	if accepted != 5 || q.heldBytes() != 5*size {
		t.Fatalf("accepted %d traces of %d bytes, holding %d; want 5 under a budget of %d", accepted, size, q.heldBytes(), q.maxBytes)
	}
	if ok, _ := q.push(&trace.Trace{}); !ok {
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
	if ok, _ := q.push(huge); !ok {
		t.Error("a resolved queue refused")
	}
}

// TestTraceBytesEstimatesTheHeap holds traceBytes against the Go heap that
// realistic traces take.
func TestTraceBytesEstimatesTheHeap(t *testing.T) {
	for name, makeTraces := range map[string]func(int) []*trace.Trace{"fixtures": benchTraces, "call sites": callSiteTraces} {
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
			t.Logf("%d traces: heap %d B per trace, estimate %d: %.2f", n, heap/n, estimate/n, ratio)
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
