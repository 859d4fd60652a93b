package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Defaults for the zero values of Options.
const (
	DefaultMaxAge    = 7 * 24 * time.Hour
	DefaultMaxBytes  = int64(1 << 30)
	DefaultBatchSize = 256
	// DefaultFlushInterval: a trace shows up within about a second. Each
	// write is a transaction whose commit rewrites the pages it touched
	// (the tables' and every index's last leaf) into the WAL; at WordPress
	// rates a second's traces share those pages, and committing once a
	// second instead of five times took the agent's CPU per request from
	// ~840 to ~710 µs at 29 requests/s.
	DefaultFlushInterval = time.Second
	DefaultQueueSize     = 10000
	DefaultQueueBytes    = int64(64 << 20)
)

// retentionInterval is how often the writer applies retention on its own.
// Size is also checked after every write, so this mainly serves MaxAge.
const retentionInterval = 30 * time.Second

var (
	// ErrNotFound is returned by Get for a trace the store does not hold.
	ErrNotFound = errors.New("trace not found")
	// ErrInvalidQuery wraps the reason a query was rejected, so an API can
	// answer 400 with errors.Is and show the reason as it is.
	ErrInvalidQuery = errors.New("invalid query")
	// ErrClosed is returned by calls made after Close.
	ErrClosed = errors.New("store is closed")
)

// Options tune a Store. Zero fields take the Default* values.
type Options struct {
	MaxAge        time.Duration // traces older than this are deleted
	MaxBytes      int64         // database plus WAL file size cap
	BatchSize     int           // traces written per transaction
	FlushInterval time.Duration // longest a trace waits in memory
	QueueSize     int           // traces held in memory waiting to be written
	// QueueBytes bounds the memory of the traces held waiting to be
	// written, as estimated when they are added (see traceBytes in
	// queue.go); a trace that would take the queue over it is dropped, as
	// one over QueueSize is. At DefaultQueueBytes that is ~1,600 traces of
	// 20 client spans with PHP stacks (40 KiB each), or ~9 of 10,000
	// function spans (~700 B each).
	QueueBytes int64
	Logger     *slog.Logger // slog.Default() when nil
}

func (o Options) withDefaults() (Options, error) {
	if o.MaxAge < 0 || o.MaxBytes < 0 || o.BatchSize < 0 || o.FlushInterval < 0 || o.QueueSize < 0 || o.QueueBytes < 0 {
		return o, errors.New("store: options must not be negative")
	}
	if o.MaxAge == 0 {
		o.MaxAge = DefaultMaxAge
	}
	if o.MaxBytes == 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.BatchSize == 0 {
		o.BatchSize = DefaultBatchSize
	}
	if o.FlushInterval == 0 {
		o.FlushInterval = DefaultFlushInterval
	}
	if o.QueueSize == 0 {
		o.QueueSize = DefaultQueueSize
	}
	if o.QueueBytes == 0 {
		o.QueueBytes = DefaultQueueBytes
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o, nil
}

// Store is an open trace store. All methods are safe for concurrent use.
type Store struct {
	path string
	opts Options
	log  *slog.Logger

	// writeDB has a single connection, used only by the writer goroutine
	// once Open returns; readDB is a pool of read-only connections.
	writeDB *sql.DB
	readDB  *sql.DB

	queue     *queue
	wake      chan struct{} // capacity 1: "there is work, don't wait for the tick"
	retention chan retentionRequest
	stop      chan struct{} // closed by Close
	done      chan struct{} // closed when the writer goroutine has exited

	// Statements the writer runs for every batch, prepared once on writeDB:
	// preparing them per batch was ~10% of the agent's CPU under WordPress
	// load, where a batch is a handful of traces.
	insertTraceStmt, insertSpansStmt, diskSizeStmt  *sql.Stmt
	insertProfileMinuteStmt, insertTraceProfileStmt *sql.Stmt

	// Writer goroutine only.
	lastRetentionError string // logged once per distinct error
	analyzedRows       int64  // rows at the last ANALYZE, 0 for never
	batchWAL           int64  // the WAL file's size after the last batch written

	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error

	stats counters

	profiles profileQueue // continuous profiles, see profiles.go
}

// Open opens the store at path, creating the file and its directory as
// needed. A damaged file is moved aside (see package doc), not an error.
func Open(path string, opts Options) (*Store, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	path, err = filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	log := opts.Logger.With("component", "store", "path", path)
	if err := ensureWritableDir(filepath.Dir(path)); err != nil {
		return nil, err
	}
	ctx := context.Background()
	writeDB, err := openChecked(ctx, path, opts.MaxBytes, log)
	if err != nil {
		return nil, err
	}
	if err := prepareSchema(ctx, writeDB, log); err != nil {
		writeDB.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	readDB, err := sql.Open("sqlite", dsn(path, opts.MaxBytes, "query_only(1)"))
	if err != nil {
		writeDB.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	readDB.SetMaxOpenConns(4)

	s := &Store{
		path:      path,
		opts:      opts,
		log:       log,
		writeDB:   writeDB,
		readDB:    readDB,
		queue:     newQueue(opts.QueueSize, opts.QueueBytes),
		wake:      make(chan struct{}, 1),
		retention: make(chan retentionRequest),
		stop:      make(chan struct{}),
		done:      make(chan struct{}),
	}
	if err := s.prepareWriterStatements(ctx); err != nil {
		s.closeDBs()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	if err := s.refreshCount(ctx); err != nil {
		s.closeDBs()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	s.refreshSize(ctx)
	log.Info("trace store open", "traces", s.stats.traces.Load(), "bytes", s.stats.sizeBytes.Load(),
		"max_age", opts.MaxAge, "max_bytes", opts.MaxBytes)
	go s.runWriter()
	return s, nil
}

// dsn builds a modernc.org/sqlite URI for path with our per-connection
// pragmas. The path is escaped: SQLite decodes %XX in file: URIs, and a bare
// '?' or '#' in a directory name would otherwise end it.
func dsn(path string, maxBytes int64, extraPragmas ...string) string {
	q := url.Values{}
	for _, p := range append(connPragmas(maxBytes), extraPragmas...) {
		q.Add("_pragma", p)
	}
	u := url.URL{Path: filepath.ToSlash(path)}
	// url.Values escapes the parentheses the driver wants verbatim.
	raw := strings.NewReplacer("%28", "(", "%29", ")").Replace(q.Encode())
	return "file:" + u.EscapedPath() + "?" + raw
}

// Close writes what is still queued, then closes the file. Traces it could
// not write are counted as dropped and reported in the error.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		s.queue.close()
		close(s.stop)
		<-s.done
		s.closeErr = errors.Join(s.closeErr, s.closeDBs())
		s.log.Info("trace store closed", "written", s.stats.written.Load(), "dropped", s.stats.dropped.Load())
	})
	return s.closeErr
}

func (s *Store) closeDBs() error {
	var errs []error
	for _, st := range []*sql.Stmt{s.insertTraceStmt, s.insertSpansStmt, s.diskSizeStmt, s.insertProfileMinuteStmt, s.insertTraceProfileStmt} {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	return errors.Join(append(errs, s.readDB.Close(), s.writeDB.Close())...)
}

// prepareWriterStatements prepares the writer's per-batch statements.
func (s *Store) prepareWriterStatements(ctx context.Context) error {
	for _, p := range []struct {
		stmt **sql.Stmt
		sql  string
	}{
		{&s.insertTraceStmt, insertTrace},
		{&s.insertSpansStmt, insertSpans},
		{&s.diskSizeStmt, selectDiskSize},
		{&s.insertProfileMinuteStmt, insertProfileMinute},
		{&s.insertTraceProfileStmt, insertTraceProfile},
	} {
		st, err := s.writeDB.PrepareContext(ctx, p.sql)
		if err != nil {
			return fmt.Errorf("prepare %q: %w", p.sql, err)
		}
		*p.stmt = st
	}
	return nil
}

// Path is the absolute path of the database file.
func (s *Store) Path() string { return s.path }
