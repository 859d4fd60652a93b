package store

import (
	"bytes"
	"database/sql"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDescribeErrorSpeaksPlainly(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.db")
	garbage := filepath.Join(dir, "garbage.db")
	os.WriteFile(garbage, bytes.Repeat([]byte("not a database "), 300), 0o644)
	run := func(dsn, query string) error {
		db, err := sql.Open("sqlite", dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		_, err = db.Exec(query)
		return err
	}
	exec := func(dsn, query string) error {
		err := run(dsn, query)
		if err == nil {
			t.Fatalf("%s on %s: no error", query, dsn)
		}
		return err
	}
	if err := run(good, "CREATE TABLE t (x)"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		err  error
		want string
	}{
		{"read-only", exec("file:"+good+"?mode=ro", "INSERT INTO t VALUES (1)"), "became read-only"},
		{"not a database", exec(garbage, "SELECT * FROM t"), "is corrupt"},
		{"cannot open", exec(filepath.Join(dir, "missing", "x.db"), "SELECT 1"), "cannot open"},
		{"anything else", exec(good, "SELECT * FROM no_such_table"), "no such table"},
		{"not from SQLite", errors.New("plain"), "plain"},
	} {
		got := describeError(c.err, "/x/traces.db")
		if !strings.Contains(got, c.want) {
			t.Errorf("%s: %q does not say %q", c.name, got, c.want)
		}
	}
	// The full-disk wording is checked on a real full disk in TestDiskFull.
}

func TestFailureLogOncePerDistinctError(t *testing.T) {
	logs := &logRecorder{}
	f := failureLog{log: slog.New(logs)}
	for _, msg := range []string{"disk full", "disk full", "disk full", "I/O error", "I/O error", "disk full"} {
		f.failed(msg, 1)
	}
	if n := logs.count(slog.LevelError, "writing traces failed"); n != 3 {
		t.Errorf("logged %d times, want 3 (each change of error):\n%s", n, logs.text())
	}
	f.dropped(5, 10)
	f.dropped(5, 10)
	if n := logs.count(slog.LevelWarn, "dropping"); n != 1 {
		t.Errorf("dropping logged %d times, want once", n)
	}
	f.succeeded()
	f.succeeded()
	if n := logs.count(slog.LevelInfo, "works again"); n != 1 {
		t.Errorf("recovery logged %d times, want once", n)
	}
	f.failed("disk full", 1) // a new run of failures is news again
	if n := logs.count(slog.LevelError, "writing traces failed"); n != 4 {
		t.Errorf("a failure after recovery was not logged")
	}
}
