package store

import (
	"context"
	"os"
	"sync"
	"sync/atomic"
)

// Stats is the store's health at a glance; Stats() is cheap enough to call
// on every health check or metrics scrape.
type Stats struct {
	Traces      int64  // traces in the file
	SizeBytes   int64  // database file plus its WAL, in bytes
	Written     uint64 // traces written since Open
	Dropped     uint64 // traces lost since Open: queue full, or given up on after failed writes
	WriteErrors uint64 // failed write attempts since Open
	LastError   string // the most recent write failure, in plain words; "" if none yet
	Failing     bool   // the most recent write attempt failed
	Path        string // the database file
}

// counters back Stats. The writer goroutine refreshes Traces and SizeBytes
// after each write and retention pass, so reading them costs no query.
type counters struct {
	traces      atomic.Int64
	sizeBytes   atomic.Int64
	written     atomic.Uint64
	dropped     atomic.Uint64
	writeErrors atomic.Uint64
	failing     atomic.Bool

	mu        sync.Mutex
	lastError string
}

func (c *counters) setLastError(msg string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lastError = msg
}

// Stats returns the current counters.
func (s *Store) Stats() Stats {
	s.stats.mu.Lock()
	lastError := s.stats.lastError
	s.stats.mu.Unlock()
	return Stats{
		Traces:      s.stats.traces.Load(),
		SizeBytes:   s.stats.sizeBytes.Load(),
		Written:     s.stats.written.Load(),
		Dropped:     s.stats.dropped.Load(),
		WriteErrors: s.stats.writeErrors.Load(),
		LastError:   lastError,
		Failing:     s.stats.failing.Load(),
		Path:        s.path,
	}
}

// refreshCount recounts the rows. SQLite counts from the smallest index, so
// this is milliseconds even for a full store; it runs at open and after
// retention, while writes adjust the count as they go.
func (s *Store) refreshCount(ctx context.Context) error {
	var n int64
	if err := s.writeDB.QueryRowContext(ctx, "SELECT count(*) FROM traces").Scan(&n); err != nil {
		return err
	}
	s.stats.traces.Store(n)
	return nil
}

// refreshSize measures what the store occupies on disk. Failure keeps the
// previous value: a size is worth having even if slightly stale.
func (s *Store) refreshSize(ctx context.Context) {
	if size, _, err := s.diskSize(ctx); err == nil {
		s.stats.sizeBytes.Store(size)
	}
}

// selectDiskSize reads what diskSize needs; the writer runs it after every
// batch.
const selectDiskSize = "SELECT p.page_count, s.page_size FROM pragma_page_count() AS p, pragma_page_size() AS s"

// diskSize is the database (page_count × page_size, which counts pages still
// only in the WAL) plus the WAL file itself, wal.
func (s *Store) diskSize(ctx context.Context) (size, wal int64, err error) {
	var pages, pageSize int64
	err = s.diskSizeStmt.QueryRowContext(ctx).Scan(&pages, &pageSize)
	if err != nil {
		return 0, 0, err
	}
	if fi, err := os.Stat(s.path + "-wal"); err == nil {
		wal = fi.Size()
	}
	return pages*pageSize + wal, wal, nil
}
