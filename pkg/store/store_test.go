package store

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tusk-php/tusk/pkg/trace"
)

func TestOptionsDefaults(t *testing.T) {
	o, err := Options{}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if o.MaxAge != 7*24*time.Hour || o.MaxBytes != 1<<30 || o.BatchSize != 256 ||
		o.FlushInterval != time.Second || o.QueueSize != 10000 || o.QueueBytes != 64<<20 || o.Logger == nil {
		t.Errorf("defaults: %+v", o)
	}
	if _, err := (Options{BatchSize: -1}).withDefaults(); err == nil {
		t.Error("negative BatchSize accepted")
	}
}

func TestOpenConfiguresSQLite(t *testing.T) {
	s := openTestStore(t, Options{})
	ctx := context.Background()
	for _, db := range []struct {
		name string
		q    func(string) string
	}{
		{"writer", func(p string) string { return queryString(t, s.writeDB.QueryRowContext(ctx, "PRAGMA "+p)) }},
		{"reader", func(p string) string { return queryString(t, s.readDB.QueryRowContext(ctx, "PRAGMA "+p)) }},
	} {
		for pragma, want := range map[string]string{
			"journal_mode": "wal",
			"synchronous":  "1", // NORMAL
			"busy_timeout": "5000",
			"auto_vacuum":  "2", // INCREMENTAL
			"user_version": strconv.Itoa(schemaVersion),
		} {
			if got := db.q(pragma); got != want {
				t.Errorf("%s: PRAGMA %s = %s, want %s", db.name, pragma, got, want)
			}
		}
	}
	if _, err := s.readDB.ExecContext(ctx, "DELETE FROM traces"); err == nil {
		t.Error("the read pool can write")
	}
}

func queryString(t *testing.T, row interface{ Scan(...any) error }) string {
	t.Helper()
	var v string
	if err := row.Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestOpenCreatesDirectoryAndHandlesOddPaths(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a dir?with#odd%25chars", "sub", "traces.db")
	s, err := Open(path, Options{Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	tr := newTraceMaker(1).make(time.Now())
	s.Add(tr)
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("the file is not where asked: %v", err)
	}
}

func TestOpenUnwritableDirectory(t *testing.T) {
	file := filepath.Join(t.TempDir(), "plain-file")
	os.WriteFile(file, nil, 0o644)
	cases := map[string]string{"parent is a file": filepath.Join(file, "traces.db")}
	if dir, ok := readOnlyDir(t); ok {
		cases["read-only directory"] = filepath.Join(dir, "traces.db")
	}
	for name, path := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Open(path, Options{Logger: testLogger(t)})
			if err == nil {
				t.Fatal("Open succeeded")
			}
			msg := err.Error()
			t.Log(msg)
			if !strings.Contains(msg, filepath.Dir(path)) ||
				!(strings.Contains(msg, "not writable") || strings.Contains(msg, "cannot create directory")) {
				t.Errorf("error %q does not say which directory is unusable", msg)
			}
		})
	}
}

// readOnlyDir returns a directory this process cannot write in. Root ignores
// permission bits, so as root it is a read-only tmpfs mount.
func readOnlyDir(t *testing.T) (string, bool) {
	dir := t.TempDir()
	if os.Geteuid() != 0 {
		os.Chmod(dir, 0o555)
		t.Cleanup(func() { os.Chmod(dir, 0o755) })
		return dir, true
	}
	if err := exec.Command("mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", dir).Run(); err != nil {
		t.Logf("no read-only mount (%v): only the other cases run", err)
		return "", false
	}
	t.Cleanup(func() { exec.Command("umount", dir).Run() })
	return dir, true
}

func TestReopenKeepsTraces(t *testing.T) {
	path := filepath.Join(t.TempDir(), "traces.db")
	traces := newTraceMaker(2).makeN(300, time.Now())
	s, err := Open(path, Options{Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range traces {
		s.Add(tr)
	}
	if err := s.Close(); err != nil { // Close must flush
		t.Fatal(err)
	}
	s, err = Open(path, Options{Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := s.Stats().Traces; got != 300 {
		t.Errorf("Traces after reopen = %d, want 300", got)
	}
	if _, err := s.Get(context.Background(), traces[123].TraceID); err != nil {
		t.Error(err)
	}
}

func TestCalledAfterClose(t *testing.T) {
	s := openTestStore(t, Options{})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	tr := newTraceMaker(3).make(time.Now())
	s.Add(tr)
	if got := s.Stats().Dropped; got != 1 {
		t.Errorf("Add after Close: Dropped = %d, want 1", got)
	}
	ctx := context.Background()
	if err := s.Flush(ctx); !errors.Is(err, ErrClosed) {
		t.Errorf("Flush: %v", err)
	}
	if _, err := s.Search(ctx, emptyQuery); !errors.Is(err, ErrClosed) {
		t.Errorf("Search: %v", err)
	}
	if _, err := s.Get(ctx, tr.TraceID); !errors.Is(err, ErrClosed) {
		t.Errorf("Get: %v", err)
	}
	if err := s.ApplyRetention(ctx, time.Now()); !errors.Is(err, ErrClosed) {
		t.Errorf("ApplyRetention: %v", err)
	}
}

// TestNPlusOneCountIsSearchable: the number of repeated-statement groups a
// request had comes back in search rows and with the trace.
func TestNPlusOneCountIsSearchable(t *testing.T) {
	s := openTestStore(t, Options{})
	traces := newTraceMaker(7).makeN(3, time.Now())
	traces[1].NPlusOne = 2
	for _, tr := range traces {
		s.Add(tr)
	}
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	rows, err := s.Search(context.Background(), trace.Query{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, r := range rows {
		want := 0
		if r.TraceID == traces[1].TraceID {
			want = 2
		}
		if r.NPlusOne != want {
			t.Errorf("trace %s: NPlusOne %d, want %d", r.TraceID, r.NPlusOne, want)
		}
		found++
	}
	got, err := s.Get(context.Background(), traces[1].TraceID)
	if err != nil || got.NPlusOne != 2 || found != 3 {
		t.Fatalf("get: %v %+v (%d rows)", err, got, found)
	}
}
