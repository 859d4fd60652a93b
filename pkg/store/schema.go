package store

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
)

// migrations[i] takes the schema from version i to i+1; PRAGMA user_version
// records how far a file has come. Append, never edit a released entry.
var migrations = []string{
	// 1: one row per trace. spans goes last so that filtering on the other
	// columns never reads a row's overflow pages (migration 5 moves it out).
	`CREATE TABLE traces (
		trace_id    BLOB    NOT NULL PRIMARY KEY CHECK (length(trace_id) = 16),
		start_ns    INTEGER NOT NULL,
		duration_ns INTEGER NOT NULL,
		service     TEXT    NOT NULL,
		pool        TEXT    NOT NULL,
		host        TEXT    NOT NULL,
		method      TEXT    NOT NULL,
		path        TEXT    NOT NULL,
		status      INTEGER NOT NULL,
		error       INTEGER NOT NULL,
		incomplete  INTEGER NOT NULL,
		span_count  INTEGER NOT NULL,
		spans       BLOB    NOT NULL
	) STRICT;
	-- newest first, time ranges, and retention (oldest first)
	CREATE INDEX traces_start ON traces (start_ns);
	-- slowest first, duration ranges
	CREATE INDEX traces_duration ON traces (duration_ns);
	-- equality filters, each kept in start order so "newest N" needs no sort
	CREATE INDEX traces_service ON traces (service, start_ns);
	CREATE INDEX traces_pool ON traces (pool, start_ns);
	CREATE INDEX traces_status ON traces (status, start_ns);
	-- path prefix, searched as the range path >= prefix AND path < successor
	CREATE INDEX traces_path ON traces (path);
	-- errors only: a few percent of rows, so a partial index stays small
	CREATE INDEX traces_error ON traces (start_ns) WHERE error = 1;`,

	// 2: continuous profiles (profiles.go). One row per minute and
	// (service, pool, endpoint), one per request; the profile blob goes
	// last, as spans do. Rows are only inserted: duplicates merge on read.
	`CREATE TABLE profile_minutes (
		minute   INTEGER NOT NULL, -- unix seconds of the minute's start
		service  TEXT    NOT NULL,
		pool     TEXT    NOT NULL,
		endpoint TEXT    NOT NULL,
		samples  INTEGER NOT NULL,
		profile  BLOB    NOT NULL
	) STRICT;
	-- time ranges and retention
	CREATE INDEX profile_minutes_minute ON profile_minutes (minute);
	-- one endpoint over a long range
	CREATE INDEX profile_minutes_endpoint ON profile_minutes (endpoint, minute);
	CREATE TABLE trace_profiles (
		trace_id BLOB    NOT NULL CHECK (length(trace_id) = 16),
		start_ns INTEGER NOT NULL, -- first sample
		service  TEXT    NOT NULL,
		pool     TEXT    NOT NULL,
		endpoint TEXT    NOT NULL,
		samples  INTEGER NOT NULL,
		profile  BLOB    NOT NULL
	) STRICT;
	CREATE INDEX trace_profiles_trace ON trace_profiles (trace_id);
	CREATE INDEX trace_profiles_start ON trace_profiles (start_ns);`,

	// 3: repeated statements (N+1) found in the request, for search rows.
	`ALTER TABLE traces ADD COLUMN n_plus_one INTEGER NOT NULL DEFAULT 0;`,

	// 4: "slowest first" within one service, pool or status. Without these
	// SQLite read every row of the service through its start-ordered index
	// and sorted them: 156 ms for the slowest 20 of one service among 166k
	// traces, 0.13 ms with the index (bench/store). Each is ~1% of the file.
	`CREATE INDEX traces_service_duration ON traces (service, duration_ns);
	CREATE INDEX traces_pool_duration ON traces (pool, duration_ns);
	CREATE INDEX traces_status_duration ON traces (status, duration_ns);`,

	// 5: the spans move out of traces into trace_spans, so a traces row is
	// the ~150-byte summary and a leaf page holds ~25 of them instead of
	// 1-2: every search, RED query and retention pass that reads rows in a
	// range read ~40x the pages it needed (bench/store: 166k rows took
	// 121k leaf + 74k overflow pages).
	//
	// trace_spans is keyed by the traces row's integer key, not by
	// trace_id: ids are handed out in insertion order, so its inserts
	// append to the b-tree's right edge, retention (oldest first) deletes
	// from its left edge, and there is no second index on random 16-byte
	// ids to keep up; Get pays one more integer lookup. That key must be
	// an INTEGER PRIMARY KEY, an alias of the rowid: VACUUM may renumber a
	// bare rowid, which would pair summaries with other traces' spans. So
	// traces is rebuilt (copying every row, as DROP COLUMN would have
	// done; the file briefly needs the old and the new copies), keeping
	// each row's rowid as its id. A trigger deletes the spans with their
	// summary, so every delete, retention's or anyone's, keeps the two
	// tables paired.
	//
	// The indexes are rebuilt wider: after the column each is ordered or
	// looked up by, the row's id (the ORDER BY's tie-break, so the index
	// still delivers the whole order), then every other column a search
	// filters on. SQLite then tests a search's other filters on the index
	// entry and reads a row only for a hit: a search whose filters match
	// few of the rows its index walks ("the slowest 20 of pool wordpress
	// under /api/") no longer reads every row of the pool. traces_path
	// holds them too, so that search.go can count a path prefix's matches
	// from it alone. The two status indexes are gone: with status in every
	// index they changed nothing. bench/store at 333k traces, with
	// search.go's range planning: search p99 78 -> 12 ms, max 470 -> 33 ms,
	// for ~340 more bytes per trace (+7% of the file) and ~10% more ingest
	// CPU.
	`ALTER TABLE traces RENAME TO traces_v4;
	CREATE TABLE traces (
		id          INTEGER PRIMARY KEY,
		trace_id    BLOB    NOT NULL UNIQUE CHECK (length(trace_id) = 16),
		start_ns    INTEGER NOT NULL,
		duration_ns INTEGER NOT NULL,
		service     TEXT    NOT NULL,
		pool        TEXT    NOT NULL,
		host        TEXT    NOT NULL,
		method      TEXT    NOT NULL,
		path        TEXT    NOT NULL,
		status      INTEGER NOT NULL,
		error       INTEGER NOT NULL,
		incomplete  INTEGER NOT NULL,
		span_count  INTEGER NOT NULL,
		n_plus_one  INTEGER NOT NULL DEFAULT 0
	) STRICT;
	CREATE TABLE trace_spans (
		id    INTEGER PRIMARY KEY, -- traces.id
		spans BLOB    NOT NULL
	) STRICT;
	INSERT INTO traces (id, trace_id, start_ns, duration_ns, service, pool, host, method, path,
		status, error, incomplete, span_count, n_plus_one)
		SELECT rowid, trace_id, start_ns, duration_ns, service, pool, host, method, path,
		status, error, incomplete, span_count, n_plus_one FROM traces_v4 ORDER BY rowid;
	INSERT INTO trace_spans (id, spans) SELECT rowid, spans FROM traces_v4 ORDER BY rowid;
	DROP TABLE traces_v4;
	CREATE INDEX traces_start ON traces (start_ns, id, duration_ns, service, pool, method, status, error, path);
	CREATE INDEX traces_duration ON traces (duration_ns, id, start_ns, service, pool, method, status, error, path);
	CREATE INDEX traces_service ON traces (service, start_ns, id, duration_ns, pool, method, status, error, path);
	CREATE INDEX traces_pool ON traces (pool, start_ns, id, duration_ns, service, method, status, error, path);
	CREATE INDEX traces_path ON traces (path, start_ns, duration_ns, service, pool, method, status, error);
	CREATE INDEX traces_error ON traces (start_ns, id, duration_ns, service, pool, method, status, path) WHERE error = 1;
	CREATE INDEX traces_service_duration ON traces (service, duration_ns, id, start_ns, pool, method, status, error, path);
	CREATE INDEX traces_pool_duration ON traces (pool, duration_ns, id, start_ns, service, method, status, error, path);
	CREATE TRIGGER traces_delete_spans AFTER DELETE ON traces
		BEGIN DELETE FROM trace_spans WHERE id = old.id; END;`,
}

// schemaVersion is the version this build writes.
var schemaVersion = len(migrations)

// connPragmas are per connection, so they go in the DSN, which database/sql
// replays on every connection it opens.
func connPragmas(maxBytes int64) []string {
	return []string{
		// The writer holds the lock only for a batch; readers and the
		// retention pass wait that long rather than fail.
		"busy_timeout(5000)",
		// In WAL mode NORMAL cannot corrupt the file; a power cut may undo
		// the last commits, a crashed process cannot.
		"synchronous(NORMAL)",
		// A WAL is reused, not shrunk, after a checkpoint; cap what stays
		// on disk so the WAL cannot eat the size budget.
		fmt.Sprintf("journal_size_limit(%d)", walLimit(maxBytes)),
		// Checkpoint before the WAL outgrows that; SQLite's default of
		// 1000 pages (4 MiB) would be most of a small store's budget.
		fmt.Sprintf("wal_autocheckpoint(%d)", min(1000, walLimit(maxBytes)/4096)),
	}
}

// walLimit is what the WAL may keep on disk: 1/16 of the size cap, at least
// 64 KiB, at most 64 MiB.
func walLimit(maxBytes int64) int64 {
	return min(max(maxBytes/16, 64<<10), 64<<20)
}

// prepareSchema brings a freshly opened file to schemaVersion. It must run on
// the writer connection before anything else touches the file: auto_vacuum
// can only be chosen before the first table exists.
func prepareSchema(ctx context.Context, db *sql.DB, log *slog.Logger) error {
	// INCREMENTAL keeps the free-page bookkeeping that lets retention give
	// space back to the file system with PRAGMA incremental_vacuum.
	if _, err := db.ExecContext(ctx, "PRAGMA auto_vacuum = INCREMENTAL"); err != nil {
		return fmt.Errorf("set auto_vacuum: %w", err)
	}
	var mode string
	if err := db.QueryRowContext(ctx, "PRAGMA journal_mode = WAL").Scan(&mode); err != nil {
		return fmt.Errorf("set WAL mode: %w", err)
	}
	if mode != "wal" {
		return fmt.Errorf("set WAL mode: file system refused it (journal_mode is %q)", mode)
	}
	var version int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if version > schemaVersion {
		return fmt.Errorf("file has schema version %d, this build knows up to %d: written by a newer Tusk", version, schemaVersion)
	}
	for v := version; v < schemaVersion; v++ {
		if err := migrate(ctx, db, v); err != nil {
			return err
		}
	}
	if version > 0 && version < schemaVersion {
		// A migration that rebuilt a table (5) leaves the old copy's pages
		// free inside the file, as large as the store itself; give them
		// back now rather than at the first retention pass that deletes a
		// trace. Migrating a 402 MiB store (83k traces) took 6.5 s, this
		// included; the files peaked at 1.2 GiB, WAL included, and ended at
		// 420 MiB.
		if _, err := db.ExecContext(ctx, "PRAGMA incremental_vacuum"); err != nil {
			return fmt.Errorf("give back the pages a migration freed: %w", err)
		}
		if _, err := db.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
			return fmt.Errorf("give back the pages a migration freed: %w", err)
		}
	}
	var autoVacuum int
	if err := db.QueryRowContext(ctx, "PRAGMA auto_vacuum").Scan(&autoVacuum); err != nil {
		return fmt.Errorf("read auto_vacuum: %w", err)
	}
	if autoVacuum != 2 { // a file created by something else: convert it once
		log.Info("converting database to incremental auto-vacuum (one-time, rewrites the file)")
		if _, err := db.ExecContext(ctx, "VACUUM"); err != nil {
			return fmt.Errorf("convert to incremental auto-vacuum: %w", err)
		}
	}
	return nil
}

func migrate(ctx context.Context, db *sql.DB, from int) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate schema to version %d: %w", from+1, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, migrations[from]); err != nil {
		return fmt.Errorf("migrate schema to version %d: %w", from+1, err)
	}
	// PRAGMA takes no bound parameters; from+1 is our own integer.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", from+1)); err != nil {
		return fmt.Errorf("migrate schema to version %d: %w", from+1, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate schema to version %d: %w", from+1, err)
	}
	return nil
}
