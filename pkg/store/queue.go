package store

import (
	"context"
	"sync"

	"github.com/tusk-php/tusk/pkg/trace"
)

// queue holds traces between Add and the writer. Pushing never blocks: a full
// queue refuses the trace. Every accepted trace is later resolved (written,
// or dropped after failures) in the order it was accepted, so "everything
// accepted before now is resolved" is one counter comparison.
type queue struct {
	limit int

	mu       sync.Mutex
	items    []*trace.Trace
	accepted uint64 // traces ever pushed
	resolved uint64 // of those, how many were written or dropped
	closed   bool
	progress chan struct{} // closed, and replaced, whenever resolved grows
}

func newQueue(limit int) *queue {
	return &queue{limit: limit, progress: make(chan struct{})}
}

// push appends t unless the queue is full or closed. It returns whether t was
// taken and how many traces are now waiting.
func (q *queue) push(t *trace.Trace) (ok bool, waiting int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed || len(q.items) >= q.limit {
		return false, len(q.items)
	}
	q.items = append(q.items, t)
	q.accepted++
	return true, len(q.items)
}

// takeAll hands every waiting trace to the writer. done is the slice the
// writer got last time and has finished with; it is reused so that a busy
// queue makes no garbage.
func (q *queue) takeAll(done []*trace.Trace) []*trace.Trace {
	clear(done)
	q.mu.Lock()
	defer q.mu.Unlock()
	taken := q.items
	q.items = done[:0]
	return taken
}

// waiting is how many traces wait to be taken.
func (q *queue) waiting() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items)
}

// resolve records that the n oldest unresolved traces are written or dropped.
func (q *queue) resolve(n int) {
	if n == 0 {
		return
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	q.resolved += uint64(n)
	close(q.progress)
	q.progress = make(chan struct{})
}

// mark is the position a Flush waits for: everything accepted so far.
func (q *queue) mark() uint64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.accepted
}

// waitResolved waits until the traces up to mark are resolved.
func (q *queue) waitResolved(ctx context.Context, mark uint64) error {
	for {
		q.mu.Lock()
		resolved, progress := q.resolved, q.progress
		q.mu.Unlock()
		if resolved >= mark {
			return nil
		}
		select {
		case <-progress:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// close makes push refuse everything from now on.
func (q *queue) close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closed = true
}
