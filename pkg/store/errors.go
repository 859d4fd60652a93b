package store

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// describeError says in plain words what a failed write means for an
// operator, keeping SQLite's own message at the end for searching.
func describeError(err error, path string) string {
	se, ok := errors.AsType[*sqlite.Error](err)
	if !ok {
		return err.Error()
	}
	var plain string
	switch se.Code() & 0xff {
	case sqlite3.SQLITE_FULL:
		plain = "disk full: no space left on the file system holding " + filepath.Dir(path)
	case sqlite3.SQLITE_IOERR:
		plain = "I/O error on " + path + " (failing disk, or file system gone?)"
	case sqlite3.SQLITE_READONLY:
		plain = path + " became read-only (file system remounted read-only?)"
	case sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB:
		plain = path + " is corrupt; restart the agent to move it aside"
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
		plain = path + " is locked by another process"
	case sqlite3.SQLITE_CANTOPEN:
		plain = "cannot open " + path + " (directory removed, or permissions changed?)"
	default:
		return se.Error()
	}
	return fmt.Sprintf("%s (%s)", plain, se.Error())
}

// failureLog logs a failing write once per distinct error, not once per
// attempt: with retries every FlushInterval a full disk would otherwise
// flood the log. Only the writer goroutine uses it.
type failureLog struct {
	log     *slog.Logger
	current string    // the error last logged; "" while writes succeed
	since   time.Time // when the current run of failures began
	retries int       // failed attempts in the current run
	evicted int       // traces dropped in the current run
}

// failed records a failed attempt described by msg.
func (f *failureLog) failed(msg string, waiting int) {
	if f.current == "" {
		f.since = time.Now()
	}
	f.retries++
	if msg == f.current {
		return
	}
	f.current = msg
	f.log.Error("writing traces failed; keeping them in memory and retrying",
		"error", msg, "waiting", waiting)
}

// dropped records traces given up on while writes fail.
func (f *failureLog) dropped(n int, limit int) {
	if f.evicted == 0 {
		f.log.Warn("too many unwritten traces: dropping the oldest", "limit", limit)
	}
	f.evicted += n
}

// succeeded ends a run of failures, if there was one.
func (f *failureLog) succeeded() {
	if f.current == "" {
		return
	}
	f.log.Info("writing traces works again", "failed_for", time.Since(f.since).Round(time.Millisecond),
		"failed_attempts", f.retries, "dropped", f.evicted)
	*f = failureLog{log: f.log}
}
