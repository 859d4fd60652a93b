package store

import (
	"context"
	"fmt"

	"github.com/tusk-php/tusk/pkg/trace"
)

// Add queues t to be written and returns at once; it never waits for the
// disk. When the queue is full (Options.QueueSize traces, or
// Options.QueueBytes of them), or the store closed, t is counted in
// Stats().Dropped instead. The store owns t from now on: do not change it.
func (s *Store) Add(t *trace.Trace) {
	if t == nil {
		return
	}
	ok, waiting, waitingBytes := s.queue.push(t)
	if !ok {
		s.stats.dropped.Add(1)
		return
	}
	// A batch's worth, or a quarter of the byte bound: deep-mode traces are
	// megabytes each, and at ~50 of them a second the bound (64 MiB) fills
	// long before the writer's next tick; waiting for it dropped most of
	// them (bench/ingest: 715 of 967).
	if waiting >= s.opts.BatchSize || waitingBytes >= s.opts.QueueBytes/4 {
		s.wakeWriter()
	}
}

func (s *Store) wakeWriter() {
	select {
	case s.wake <- struct{}{}:
	default: // already woken
	}
}

// Flush waits until every trace added before the call is written, or given
// up on and counted as dropped. While writes fail it keeps waiting, as the
// writer keeps retrying; the context bounds that, and its error then carries
// the reason the writes fail.
func (s *Store) Flush(ctx context.Context) error {
	if s.closed.Load() {
		return ErrClosed
	}
	mark := s.queue.mark()
	s.wakeWriter()
	if err := s.queue.waitResolved(ctx, mark); err != nil {
		if st := s.Stats(); st.Failing {
			return fmt.Errorf("store: flush: %w; writes are failing: %s", err, st.LastError)
		}
		return fmt.Errorf("store: flush: %w", err)
	}
	return nil
}
