package store

import (
	"context"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tusk-php/tusk/pkg/trace"
)

// TestDiskFull fills a small tmpfs until SQLite reports it full, and checks
// that the store says so plainly, keeps the traces, keeps serving reads, and
// writes everything once space is freed.
func TestDiskFull(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a 2 MiB tmpfs to fill up")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs (%v: %s)", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", dir).Run() }) // runs after Close, below
	filler := filepath.Join(dir, "filler")
	if err := os.WriteFile(filler, make([]byte, 1200<<10), 0o644); err != nil {
		t.Fatal(err)
	}
	logs := &logRecorder{}
	path := filepath.Join(dir, "traces.db")
	s, err := Open(path, Options{BatchSize: 25, FlushInterval: 5 * time.Millisecond, Logger: slog.New(logs)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ctx := context.Background()
	m := newTraceMaker(1)

	var added, flushed []*trace.Trace
	var flushErr error
	for s.Stats().WriteErrors == 0 {
		if len(added) > 5000 {
			t.Fatalf("wrote %d traces to a 2 MiB file system without it filling up", len(added))
		}
		batch := m.makeN(50, time.Now())
		for _, tr := range batch {
			s.Add(tr)
		}
		added = append(added, batch...)
		short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		flushErr = s.Flush(short)
		cancel()
		if flushErr == nil {
			flushed = append(flushed, batch...)
		}
	}
	waitFor(t, "a few retries", func() bool { return s.Stats().WriteErrors >= 3 })
	st := s.Stats()
	t.Logf("full after %d traces: %+v", len(flushed), st)
	if !st.Failing || !strings.Contains(st.LastError, "disk full") {
		t.Errorf("LastError %q does not say the disk is full", st.LastError)
	}
	if flushErr == nil || !strings.Contains(flushErr.Error(), "disk full") {
		t.Errorf("Flush on a full disk: %v; want it to say the disk is full", flushErr)
	}
	if n := logs.count(slog.LevelError, "writing traces failed"); n == 0 || uint64(n) >= st.WriteErrors {
		t.Errorf("logged %d times for %d failed attempts; want once per distinct error:\n%s", n, st.WriteErrors, logs.text())
	}

	// Reads keep working on a full disk.
	if len(flushed) == 0 {
		t.Fatal("nothing was written before the disk filled: make the filler smaller")
	}
	if _, err := s.Get(ctx, flushed[0].TraceID); err != nil {
		t.Errorf("Get on a full disk: %v", err)
	}
	if sums, err := s.Search(ctx, trace.Query{Limit: 10}); err != nil || len(sums) == 0 {
		t.Errorf("Search on a full disk: %d results, %v", len(sums), err)
	}
	// And Add keeps taking traces without blocking.
	more := m.makeN(20, time.Now())
	for _, tr := range more {
		s.Add(tr)
	}
	added = append(added, more...)

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(ctx); err != nil {
		t.Fatalf("Flush after freeing space: %v", err)
	}
	st = s.Stats()
	if st.Failing || st.Dropped != 0 || st.Written != uint64(len(added)) || countRows(t, s) != int64(len(added)) {
		t.Errorf("after freeing space: %+v, %d rows; want all %d traces written", st, countRows(t, s), len(added))
	}
	for _, tr := range added {
		if _, err := s.Get(ctx, tr.TraceID); err != nil {
			t.Fatalf("trace queued while the disk was full is missing: %v", err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	checkIntegrity(t, path)
}
