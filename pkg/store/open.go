package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// ensureWritableDir creates dir if needed and proves we can create files in
// it: SQLite needs that for the WAL and shared-memory files, and would
// otherwise fail later with a vaguer "unable to open database file".
func ensureWritableDir(dir string) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("store: cannot create directory %s: %v", dir, plainErr(err))
	}
	probe, err := os.CreateTemp(dir, ".tusk-store-probe-*")
	if err != nil {
		return fmt.Errorf("store: directory %s is not writable (%v); the trace store needs to create files there", dir, plainErr(err))
	}
	probe.Close()
	os.Remove(probe.Name())
	return nil
}

// plainErr drops the path an *fs.PathError repeats: the caller names it.
func plainErr(err error) error {
	if pe, ok := errors.AsType[*fs.PathError](err); ok {
		return pe.Err
	}
	return err
}

// openChecked opens the writer connection to path, first moving a damaged
// file aside. Errors that say nothing about the file's content (locked,
// permission, I/O) are returned: renaming a healthy file would lose data.
func openChecked(ctx context.Context, path string, maxBytes int64, log *slog.Logger) (*sql.DB, error) {
	db, err := openWriter(path, maxBytes)
	if err != nil {
		return nil, err
	}
	reason, err := checkFile(ctx, db)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	if reason == "" {
		return db, nil
	}
	db.Close()
	moved, err := moveAside(path)
	if err != nil {
		return nil, fmt.Errorf("store: %s is damaged (%s) and could not be moved aside: %w", path, reason, err)
	}
	log.Error("database file is damaged: moved it aside and starting an empty store",
		"reason", reason, "moved_to", moved)
	return openWriter(path, maxBytes)
}

func openWriter(path string, maxBytes int64) (*sql.DB, error) {
	db, err := sql.Open("sqlite", dsn(path, maxBytes))
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	// One connection: the writer goroutine is the only writer, and a single
	// connection makes that true for SQLite's lock as well.
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	return db, nil
}

// checkFile runs SQLite's quick check. It returns why the file is damaged,
// "" when it is fine, or an error when it could not tell.
func checkFile(ctx context.Context, db *sql.DB) (reason string, err error) {
	rows, err := db.QueryContext(ctx, "PRAGMA quick_check")
	if err != nil {
		if r, damaged := damageReason(err); damaged {
			return r, nil
		}
		return "", err
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return "", err
		}
		if line != "ok" {
			problems = append(problems, strings.ReplaceAll(line, "\n", " "))
		}
	}
	if err := rows.Err(); err != nil {
		if r, damaged := damageReason(err); damaged {
			return r, nil
		}
		return "", err
	}
	if len(problems) > 0 {
		if len(problems) > 3 {
			problems = append(problems[:3], fmt.Sprintf("and %d more", len(problems)-3))
		}
		return "quick_check: " + strings.Join(problems, "; "), nil
	}
	return "", nil
}

// damageReason tells whether err means the file's content is bad.
func damageReason(err error) (string, bool) {
	se, ok := errors.AsType[*sqlite.Error](err)
	if !ok {
		return "", false
	}
	switch se.Code() & 0xff {
	case sqlite3.SQLITE_NOTADB:
		return "not an SQLite database", true
	case sqlite3.SQLITE_CORRUPT:
		return "database is corrupt: " + se.Error(), true
	}
	return "", false
}

// moveAside renames path (and its WAL, which belongs to it) to
// <path>.corrupt-<unix time>, and deletes the shared-memory index, which
// SQLite rebuilds. It returns the new name.
func moveAside(path string) (string, error) {
	moved := fmt.Sprintf("%s.corrupt-%d", path, time.Now().Unix())
	for i := 1; exists(moved); i++ { // two bad opens in one second
		moved = fmt.Sprintf("%s.corrupt-%d.%d", path, time.Now().Unix(), i)
	}
	if err := os.Rename(path, moved); err != nil {
		return "", err
	}
	if exists(path + "-wal") {
		if err := os.Rename(path+"-wal", moved+"-wal"); err != nil {
			return "", err
		}
	}
	if err := os.Remove(path + "-shm"); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	syncDir(filepath.Dir(path))
	return moved, nil
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// syncDir makes a rename durable; best effort, as it only narrows a window.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
