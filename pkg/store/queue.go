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
//
// It is full when limit traces wait to be taken, or when the traces
// accepted and not yet resolved (waiting, or taken by the writer and not
// yet written) hold more than maxBytes by traceBytes' estimate: a count
// alone does not bound memory, as a deep-mode trace can have 10,000 spans.
type queue struct {
	limit    int
	maxBytes int64

	mu       sync.Mutex
	items    []queuedTrace
	bytes    int64  // traceBytes of the accepted traces not yet resolved
	accepted uint64 // traces ever pushed
	resolved uint64 // of those, how many were written or dropped
	closed   bool
	progress chan struct{} // closed, and replaced, whenever resolved grows
}

// queuedTrace is an accepted trace and the bytes it holds in the queue's
// budget until it is resolved.
type queuedTrace struct {
	t     *trace.Trace
	bytes int64
}

func newQueue(limit int, maxBytes int64) *queue {
	return &queue{limit: limit, maxBytes: maxBytes, progress: make(chan struct{})}
}

// push appends t unless the queue is full or closed. It returns whether t was
// taken and how many traces are now waiting.
func (q *queue) push(t *trace.Trace) (ok bool, waiting int, waitingBytes int64) {
	size := traceBytes(t)
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed || len(q.items) >= q.limit || q.bytes+size > q.maxBytes {
		return false, len(q.items), q.bytes
	}
	q.items = append(q.items, queuedTrace{t: t, bytes: size})
	q.bytes += size
	q.accepted++
	return true, len(q.items), q.bytes
}

// The constants of traceBytes: Go's sizes on 64-bit platforms, rounded up
// for the allocator's size classes and a map's empty slots.
const (
	traceBaseBytes = 256 // the Trace and its summary's strings headers
	spanBaseBytes  = 160 // a trace.Span
	attrBytes      = 64  // a map slot (key and value headers), its share of the map, a boxed number
	eventBaseBytes = 48  // a trace.Event
)

// traceBytes estimates the Go heap t holds: a constant per trace, span,
// event and attribute, plus the bytes of every string. It is computed once,
// at push, with no allocation. Strings shared between spans (attribute
// keys, which are constants, and repeated values) are counted each time,
// so it errs high: 1.07x the measured heap for fixtures' traces, 1.01x for
// traces of SQL calls with PHP stacks, 1.27x for deep mode's 9000 calls of
// one function, whose name and file every span shares
// (TestTraceBytesEstimatesTheHeap).
//
// Past walkedSpans spans, it walks that many of them, evenly spread, and
// scales: such a trace is deep mode's, thousands of function spans alike,
// and walking every attribute map of 9000-span traces took ~9% of the
// agent's CPU in bench/ingest.
func traceBytes(t *trace.Trace) int64 {
	n := traceBaseBytes + len(t.Service) + len(t.Pool) + len(t.Host) + len(t.Method) + len(t.Path)
	if len(t.Spans) <= walkedSpans {
		return int64(n + spansBytes(t.Spans, 1))
	}
	// The request span, the largest, is counted once as it is.
	rest := t.Spans[1:]
	stride := len(rest) / walkedSpans
	walked := (len(rest) + stride - 1) / stride
	return int64(n + spansBytes(t.Spans[:1], 1) + spansBytes(rest, stride)*len(rest)/walked)
}

// walkedSpans: see traceBytes.
const walkedSpans = 1000

// spansBytes is the estimate for every stride-th span of spans.
func spansBytes(spans []trace.Span, stride int) int {
	n := 0
	for i := 0; i < len(spans); i += stride {
		s := &spans[i]
		n += spanBaseBytes + len(s.Name) + len(s.Kind) + len(s.Status.Code) + len(s.Status.Message) + attributesBytes(s.Attributes)
		for j := range s.Events {
			n += eventBaseBytes + len(s.Events[j].Name) + attributesBytes(s.Events[j].Attributes)
		}
	}
	return n
}

func attributesBytes(attrs trace.Attributes) int {
	n := 0
	for k, v := range attrs {
		n += attrBytes + len(k)
		if s, ok := v.(string); ok {
			n += len(s)
		}
	}
	return n
}

// takeAll hands every waiting trace to the writer. done is the slice the
// writer got last time and has finished with; it is reused so that a busy
// queue makes no garbage.
func (q *queue) takeAll(done []queuedTrace) []queuedTrace {
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

// heldBytes is traceBytes of the traces accepted and not yet resolved.
func (q *queue) heldBytes() int64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.bytes
}

// resolve records that the n oldest unresolved traces, which held bytes,
// are written or dropped.
func (q *queue) resolve(n int, bytes int64) {
	if n == 0 {
		return
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	q.resolved += uint64(n)
	q.bytes -= bytes
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
