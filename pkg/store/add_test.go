package store

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/tusk-php/tusk/pkg/trace"
)

func TestFlushWritesEverythingAddedBefore(t *testing.T) {
	s := openTestStore(t, Options{BatchSize: 64, FlushInterval: time.Hour})
	traces := newTraceMaker(1).makeN(1000, time.Now())
	for _, tr := range traces {
		s.Add(tr)
	}
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	st := s.Stats()
	if st.Written != 1000 || st.Traces != 1000 || st.Dropped != 0 || st.WriteErrors != 0 {
		t.Errorf("stats after flush: %+v", st)
	}
	if st.SizeBytes <= 0 {
		t.Errorf("SizeBytes = %d", st.SizeBytes)
	}
	if got := countRows(t, s); got != 1000 {
		t.Errorf("%d rows, want 1000", got)
	}
}

func TestWritesWithoutFlush(t *testing.T) {
	t.Run("after FlushInterval", func(t *testing.T) {
		s := openTestStore(t, Options{BatchSize: 1000, FlushInterval: 20 * time.Millisecond})
		s.Add(newTraceMaker(2).make(time.Now()))
		waitFor(t, "the lone trace to be written", func() bool { return s.Stats().Written == 1 })
	})
	t.Run("after BatchSize traces", func(t *testing.T) {
		s := openTestStore(t, Options{BatchSize: 10, FlushInterval: time.Hour})
		for _, tr := range newTraceMaker(3).makeN(10, time.Now()) {
			s.Add(tr)
		}
		waitFor(t, "the full batch to be written", func() bool { return s.Stats().Written == 10 })
	})
}

// TestAddDoesNotWaitForTheWriter holds SQLite's write lock from another
// connection, so the writer is stuck, and adds more than the queue holds:
// every Add returns, the excess is counted as dropped, and once the lock is
// released the rest is written.
func TestAddDoesNotWaitForTheWriter(t *testing.T) {
	s := openTestStore(t, Options{QueueSize: 100, BatchSize: 10, FlushInterval: time.Millisecond})
	lock := holdWriteLock(t, s.Path())
	for _, tr := range newTraceMaker(4).makeN(1000, time.Now()) {
		s.Add(tr)
	}
	st := s.Stats()
	if err := lock.Rollback(); err != nil {
		t.Fatal(err)
	}
	if st.Written != 0 {
		t.Fatalf("wrote %d traces while the file was locked", st.Written)
	}
	// The queue holds 100; the writer may have taken up to 100 more before
	// it blocked on the lock.
	if st.Dropped < 800 || st.Dropped > 900 {
		t.Errorf("Dropped = %d, want 800..900", st.Dropped)
	}
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	st = s.Stats()
	if st.Written+st.Dropped != 1000 || int64(st.Written) != countRows(t, s) {
		t.Errorf("after the lock: %+v, %d rows; want Written+Dropped = 1000", st, countRows(t, s))
	}
	if held := s.queue.heldBytes(); held != 0 {
		t.Errorf("the queue holds %d bytes after Flush", held)
	}
}

// TestAddDropsOverQueueBytes: with the writer stuck, huge traces are
// refused once their estimated size fills QueueBytes, long before
// QueueSize; after Flush the budget is whole again.
func TestAddDropsOverQueueBytes(t *testing.T) {
	huge := hugeTrace(2000)
	size := traceBytes(huge)
	s := openTestStore(t, Options{QueueSize: 1000, QueueBytes: 3*size + size/2, BatchSize: 2, FlushInterval: time.Millisecond})
	lock := holdWriteLock(t, s.Path())
	for range 10 {
		tr := *huge
		tr.TraceID = trace.NewTraceID()
		s.Add(&tr)
	}
	// Taken by the writer or not, the 3 accepted hold their bytes until
	// written.
	if st := s.Stats(); st.Dropped != 7 || s.queue.heldBytes() != 3*size {
		t.Errorf("dropped %d of 10 traces of %d bytes, holding %d; want 7 dropped under a budget of %d",
			st.Dropped, size, s.queue.heldBytes(), s.opts.QueueBytes)
	}
	if err := lock.Rollback(); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.Written != 3 || s.queue.heldBytes() != 0 {
		t.Errorf("after Flush: written %d, holding %d bytes; want 3 and 0", st.Written, s.queue.heldBytes())
	}
}

func holdWriteLock(t *testing.T, path string) *sql.Tx {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec("DELETE FROM traces WHERE 0"); err != nil { // takes the write lock
		t.Fatal(err)
	}
	return tx
}
