package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"github.com/tusk-php/tusk/pkg/trace"
)

// pendingTrace is a trace taken from the queue and not yet written.
type pendingTrace struct {
	queuedTrace
	spans []byte // the encoded spans column, kept across retries
}

// pendingBytes is what the traces of p hold in the queue's budget.
func pendingBytes(p []pendingTrace) (n int64) {
	for i := range p {
		n += p[i].bytes
	}
	return n
}

// writer is the state only the writer goroutine touches.
type writer struct {
	pending  []pendingTrace // oldest first
	taken    []queuedTrace  // the slice last taken from the queue, for reuse
	failures failureLog
}

const insertTrace = `INSERT INTO traces (trace_id, start_ns, duration_ns, service, pool, host,
	method, path, status, error, incomplete, span_count, n_plus_one)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (trace_id) DO NOTHING`

// insertSpans pairs the spans with the traces row just inserted (schema.go,
// migration 5).
const insertSpans = `INSERT INTO trace_spans (id, spans) VALUES (?, ?)`

// runWriter is the one goroutine that writes to the file: batches, retention,
// and the final flush at Close.
func (s *Store) runWriter() {
	defer close(s.done)
	ctx := context.Background()
	w := &writer{failures: failureLog{log: s.log}}
	flush := time.NewTicker(s.opts.FlushInterval)
	defer flush.Stop()
	retention := time.NewTicker(retentionInterval)
	defer retention.Stop()
	for {
		select {
		case <-s.wake:
		case <-flush.C:
		case <-retention.C:
			s.applyRetention(ctx, time.Now())
		case req := <-s.retention:
			req.result <- s.applyRetention(req.ctx, req.now)
		case <-s.stop:
			s.writeQueued(ctx, w)
			s.giveUp(w)
			s.writeQueuedProfiles(ctx)
			s.giveUpProfiles()
			return
		}
		s.writeQueued(ctx, w)
		s.writeQueuedProfiles(ctx)
	}
}

// writeQueued writes everything queued so far, in batches, stopping at the
// first failure; what is left is retried next time.
func (s *Store) writeQueued(ctx context.Context, w *writer) {
	w.taken = s.queue.takeAll(w.taken)
	for _, q := range w.taken {
		w.pending = append(w.pending, pendingTrace{queuedTrace: q})
	}
	if over := len(w.pending) - s.opts.QueueSize; over > 0 {
		// Writes keep failing and traces keep coming: keep the newest.
		dropped := pendingBytes(w.pending[:over])
		w.pending = slices.Delete(w.pending, 0, over)
		s.stats.dropped.Add(uint64(over))
		s.queue.resolve(over, dropped)
		w.failures.dropped(over, s.opts.QueueSize)
	}
	for len(w.pending) > 0 {
		n := min(s.opts.BatchSize, len(w.pending))
		if err := s.writeBatch(ctx, w.pending[:n]); err != nil {
			msg := describeError(err, s.path)
			s.stats.writeErrors.Add(1)
			s.stats.setLastError(msg)
			s.stats.failing.Store(true)
			w.failures.failed(msg, len(w.pending)+s.queue.waiting())
			break
		}
		s.stats.failing.Store(false)
		w.failures.succeeded()
		written := pendingBytes(w.pending[:n])
		w.pending = slices.Delete(w.pending, 0, n)
		s.afterWrite(ctx)
		// Only now: a Flush that returns has the store back under its cap.
		s.queue.resolve(n, written)
	}
}

// giveUp counts what Close could not write.
func (s *Store) giveUp(w *writer) {
	lost := s.queue.takeAll(nil)
	n, bytes := len(w.pending)+len(lost), pendingBytes(w.pending)
	for _, q := range lost {
		bytes += q.bytes
	}
	if n == 0 {
		return
	}
	s.stats.dropped.Add(uint64(n))
	s.queue.resolve(n, bytes)
	st := s.Stats()
	s.closeErr = fmt.Errorf("store: closed with %d traces unwritten: %s", n, st.LastError)
	s.log.Error("closing with traces unwritten", "lost", n, "error", st.LastError)
}

// writeBatch writes batch in one transaction.
func (s *Store) writeBatch(ctx context.Context, batch []pendingTrace) error {
	for i := range batch {
		if batch[i].spans == nil {
			batch[i].spans = encodeSpans(batch[i].t.Spans)
		}
	}
	tx, err := s.writeDB.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	// Prepared once on the writer's only connection: the transaction
	// reuses them without preparing again.
	insert := tx.StmtContext(ctx, s.insertTraceStmt)
	spansInsert := tx.StmtContext(ctx, s.insertSpansStmt)
	inserted := 0
	for _, p := range batch {
		res, err := insert.ExecContext(ctx, traceRow(p.t)...)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 1 {
			id, err := res.LastInsertId()
			if err != nil {
				return err
			}
			if _, err := spansInsert.ExecContext(ctx, id, p.spans); err != nil {
				return err
			}
			inserted++
			continue
		}
		if err := mergeInto(ctx, tx, p.t); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	s.stats.written.Add(uint64(len(batch)))
	s.stats.traces.Add(int64(inserted))
	return nil
}

// traceRow is the insertTrace arguments for t.
func traceRow(t *trace.Trace) []any {
	spanCount := t.SpanCount
	if spanCount == 0 {
		spanCount = len(t.Spans)
	}
	return []any{
		t.TraceID[:], t.StartUnixNano, t.DurationNano, t.Service, t.Pool, t.Host,
		t.Method, t.Path, t.StatusCode, t.Error, t.Incomplete, spanCount, t.NPlusOne,
	}
}

// execer is what mergeInto needs from a transaction.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}
