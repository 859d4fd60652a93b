package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tusk-php/tusk/pkg/trace"
)

func TestQueueRefusesWhenFullOrClosed(t *testing.T) {
	q := newQueue(2)
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
	q := newQueue(10)
	tr := &trace.Trace{}
	q.push(tr)
	first := q.takeAll(nil)
	q.push(tr)
	second := q.takeAll(first)
	if first[0] != nil {
		t.Error("the returned slice still points at a written trace")
	}
	q.push(tr)
	if got := q.takeAll(second); &got[0] != &first[0] {
		t.Error("the queue allocated instead of reusing the slice it got back")
	}
}

func TestQueueWaitResolved(t *testing.T) {
	q := newQueue(10)
	for range 3 {
		q.push(&trace.Trace{})
	}
	mark := q.mark()
	done := make(chan error)
	go func() { done <- q.waitResolved(context.Background(), mark) }()
	q.resolve(2)
	select {
	case err := <-done:
		t.Fatalf("returned with 1 of 3 traces unresolved: %v", err)
	case <-time.After(10 * time.Millisecond):
	}
	q.resolve(1)
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
