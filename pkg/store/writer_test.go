package store

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tusk-php/tusk/pkg/trace"
)

// failWrites makes every insert fail, as a broken disk would, until the
// returned function is called. It is a real SQL error raised inside the
// writer's transaction: no test hook in the code under test.
func failWrites(t *testing.T, s *Store) (restore func()) {
	t.Helper()
	// busy_timeout, as the store's own connections: the writer may hold the
	// write lock at that moment (without it this failed 5 times in 30).
	db, err := sql.Open("sqlite", dsn(s.Path(), s.opts.MaxBytes))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec(`CREATE TRIGGER fail_writes BEFORE INSERT ON traces
		BEGIN SELECT RAISE(ABORT, 'injected write failure'); END`); err != nil {
		t.Fatal(err)
	}
	return func() {
		if _, err := db.Exec("DROP TRIGGER fail_writes"); err != nil {
			t.Fatal(err)
		}
	}
}

func TestFailedWritesAreKeptRetriedAndLoggedOnce(t *testing.T) {
	logs := &logRecorder{}
	s := openTestStore(t, Options{BatchSize: 8, FlushInterval: 5 * time.Millisecond, Logger: slog.New(logs)})
	ctx := context.Background()
	m := newTraceMaker(5)
	before := m.make(time.Now())
	s.Add(before)
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	restore := failWrites(t, s)
	traces := m.makeN(50, time.Now())
	for _, tr := range traces {
		s.Add(tr)
	}
	waitFor(t, "several failed attempts", func() bool { return s.Stats().WriteErrors >= 5 })

	st := s.Stats()
	if !st.Failing || !strings.Contains(st.LastError, "injected write failure") || st.Written != 1 {
		t.Errorf("while failing: %+v", st)
	}
	if n := logs.count(slog.LevelError, "writing traces failed"); n != 1 {
		t.Errorf("logged the failure %d times over %d attempts, want once:\n%s", n, st.WriteErrors, logs.text())
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if err := s.Flush(short); !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "injected write failure") {
		t.Errorf("Flush while failing: %v; want the deadline and the reason", err)
	}
	if _, err := s.Get(ctx, before.TraceID); err != nil {
		t.Errorf("reads must keep working: %v", err)
	}

	restore()
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	st = s.Stats()
	if st.Failing || st.Written != 51 || st.Dropped != 0 || countRows(t, s) != 51 {
		t.Errorf("after recovery: %+v, %d rows", st, countRows(t, s))
	}
	if n := logs.count(slog.LevelInfo, "works again"); n != 1 {
		t.Errorf("recovery logged %d times, want once:\n%s", n, logs.text())
	}
}

// TestFailedWritesKeepTheNewest: while writes fail, traces keep coming; the
// store holds QueueSize of them and gives up on the oldest.
func TestFailedWritesKeepTheNewest(t *testing.T) {
	logs := &logRecorder{}
	s := openTestStore(t, Options{QueueSize: 20, BatchSize: 5, FlushInterval: time.Millisecond, Logger: slog.New(logs)})
	restore := failWrites(t, s)
	traces := newTraceMaker(6).makeN(100, time.Now())
	for i := 0; i < len(traces); i += 20 {
		for _, tr := range traces[i : i+20] {
			s.Add(tr)
		}
		waitFor(t, "the writer to take the queue", func() bool { return s.queue.waiting() == 0 })
	}
	restore()
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	st := s.Stats()
	if st.Dropped != 80 || st.Written != 20 {
		t.Errorf("%+v; want the newest 20 written, 80 dropped", st)
	}
	for _, tr := range traces[80:] {
		if _, err := s.Get(context.Background(), tr.TraceID); err != nil {
			t.Fatalf("a newest trace is missing: %v", err)
		}
	}
	if n := logs.count(slog.LevelWarn, "dropping the oldest"); n != 1 {
		t.Errorf("dropping logged %d times, want once:\n%s", n, logs.text())
	}
}

func TestCloseReportsWhatItCouldNotWrite(t *testing.T) {
	logs := &logRecorder{}
	s := openTestStore(t, Options{FlushInterval: time.Hour, Logger: slog.New(logs)})
	failWrites(t, s)
	for _, tr := range newTraceMaker(7).makeN(30, time.Now()) {
		s.Add(tr)
	}
	err := s.Close()
	if err == nil || !strings.Contains(err.Error(), "30 traces unwritten") {
		t.Errorf("Close: %v", err)
	}
	if st := s.Stats(); st.Dropped != 30 {
		t.Errorf("Dropped = %d, want 30", st.Dropped)
	}
	if n := logs.count(slog.LevelError, "closing with traces unwritten"); n != 1 {
		t.Errorf("the loss was logged %d times, want once:\n%s", n, logs.text())
	}
}

func TestConcurrentAddSearchGet(t *testing.T) {
	s := openTestStore(t, Options{BatchSize: 32, FlushInterval: time.Millisecond})
	ctx := context.Background()
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for _, tr := range newTraceMaker(uint64(10+g)).makeN(200, time.Now()) {
				s.Add(tr)
			}
		})
	}
	stop := make(chan struct{})
	var readers sync.WaitGroup
	for range 2 {
		readers.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				sums, err := s.Search(ctx, trace.Query{Limit: 20})
				if err != nil {
					t.Error(err)
					return
				}
				for _, sum := range sums {
					if _, err := s.Get(ctx, sum.TraceID); err != nil {
						t.Error(err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	close(stop)
	readers.Wait()
	if st := s.Stats(); st.Written+st.Dropped != 800 || st.Traces != int64(st.Written) {
		t.Errorf("%+v", st)
	}
}

// countRows counts the traces rows, and fails t unless each has its spans
// row and no spans row is left without one.
func countRows(t testing.TB, s *Store) int64 {
	t.Helper()
	var n, spans, unpaired int64
	if err := s.readDB.QueryRow(`SELECT (SELECT count(*) FROM traces), (SELECT count(*) FROM trace_spans),
		(SELECT count(*) FROM trace_spans WHERE id NOT IN (SELECT id FROM traces))`).Scan(&n, &spans, &unpaired); err != nil {
		t.Fatal(err)
	}
	if spans != n || unpaired != 0 {
		t.Errorf("%d traces rows, %d spans rows, %d of them without a trace", n, spans, unpaired)
	}
	return n
}

// waitFor polls cond for up to 10s; the deadline only bounds a broken test.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
