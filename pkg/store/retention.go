package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Retention deletes in chunks of this many rows, one transaction each, so a
// big cleanup neither holds the write lock nor grows the WAL for long.
const retentionChunk = 2000

// vacuumStep is how many free pages each incremental_vacuum step returns to
// the file system; between steps the WAL is checkpointed, so it stays small.
const vacuumStep = 1024

// sizeTarget is the fraction of MaxBytes a size-triggered cleanup shrinks
// the store to, so that it is not triggered again by the next batch.
const sizeTarget = 0.9

// highWater is the size at which the writer starts a cleanup: the cap less
// what the WAL may still add on top of the pages in use (walAllowance).
// Waiting for the cap itself let the files reach 103% of it (bench/store:
// 62.8 MiB for a 60.7 MiB cap, 5.7 MiB of it WAL).
func (s *Store) highWater() int64 { return s.opts.MaxBytes - s.walAllowance() }

// walAllowance is what the WAL may add to the pages in use: walLimit, which
// it is truncated to after a checkpoint, or more if a batch made it larger.
// A batch's WAL holds every page it touched, and with index entries at
// random places (durations, paths) that is most index pages of a small
// store: ~330 KB for 32 traces at a 1 MiB cap, 5x walLimit.
func (s *Store) walAllowance() int64 { return max(walLimit(s.opts.MaxBytes), s.batchWAL) }

// afterWrite runs on the writer after each committed batch: it measures the
// files and, when they near the cap, cleans up at once rather than at the
// retention tick: a busy node can write a lot in 30s, and a backlog a lot
// in one go.
func (s *Store) afterWrite(ctx context.Context) {
	if size, wal, err := s.diskSize(ctx); err == nil {
		s.stats.sizeBytes.Store(size)
		s.batchWAL = wal
	}
	if s.stats.sizeBytes.Load() > s.highWater() {
		s.applyRetention(ctx, time.Now())
	}
}

type retentionRequest struct {
	ctx    context.Context
	now    time.Time
	result chan error
}

// ApplyRetention runs a retention pass as if the time were now: deletes
// traces that started before now-MaxAge, and when the files exceed MaxBytes,
// the oldest traces until they are under 90% of it, then gives the space
// back to the file system. The writer does this every 30s and whenever a
// write takes the store over MaxBytes; this is for tests and tools.
func (s *Store) ApplyRetention(ctx context.Context, now time.Time) error {
	req := retentionRequest{ctx: ctx, now: now, result: make(chan error, 1)}
	select {
	case s.retention <- req:
	case <-s.done:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-req.result:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// applyRetention runs on the writer goroutine.
func (s *Store) applyRetention(ctx context.Context, now time.Time) error {
	expired, err := s.deleteChunks(ctx,
		"DELETE FROM traces WHERE rowid IN (SELECT rowid FROM traces WHERE start_ns < ? ORDER BY start_ns LIMIT ?)",
		now.Add(-s.opts.MaxAge).UnixNano())
	if err == nil {
		var expiredProfiles int64
		expiredProfiles, err = s.expireProfiles(ctx, now.Add(-s.opts.MaxAge))
		expired += expiredProfiles
	}
	if err == nil {
		var oversize int64
		var over bool
		oversize, over, err = s.shrinkToCap(ctx)
		if expired > 0 || over {
			// Even with nothing deleted, the files may be over the cap
			// through free pages or the WAL alone.
			s.log.Debug("retention deleted traces", "expired", expired, "over_size_cap", oversize)
			err = errors.Join(err, s.giveSpaceBack(ctx))
		}
	}
	err = errors.Join(err, s.refreshCount(ctx))
	if err == nil {
		err = s.analyzeIfChanged(ctx)
	}
	s.refreshSize(ctx)
	if err != nil {
		msg := describeError(err, s.path)
		if msg != s.lastRetentionError {
			s.log.Error("retention failed", "error", msg)
		}
		s.lastRetentionError = msg
		return fmt.Errorf("store: retention: %w", err)
	}
	s.lastRetentionError = ""
	return nil
}

// shrinkToCap deletes the oldest traces if the files exceed MaxBytes, until
// the pages in use are under sizeTarget of it. over is whether they did.
// Profiles older than the oldest trace left go with them; once no trace is
// left, the oldest profiles go (profiles.go).
func (s *Store) shrinkToCap(ctx context.Context) (deleted int64, over bool, err error) {
	size, _, err := s.diskSize(ctx)
	if err != nil || size <= s.highWater() {
		return 0, false, err
	}
	// The pages in use shrink to under 90% of the cap less the WAL's
	// allowance, so that pages and WAL together stay under the cap.
	target := int64(float64(s.opts.MaxBytes)*sizeTarget) - s.walAllowance()
	for {
		used, err := s.usedBytes(ctx)
		rows := s.stats.traces.Load() - deleted
		if err != nil || used <= target {
			return deleted, true, err
		}
		var affected int64
		if rows > 0 {
			// Estimate how many rows hold the excess; overshooting by one
			// chunk at most, the loop measures again after each.
			n := min((used-target)/max(used/rows, 1)+1, retentionChunk)
			res, err := s.writeDB.ExecContext(ctx,
				"DELETE FROM traces WHERE rowid IN (SELECT rowid FROM traces ORDER BY start_ns LIMIT ?)", n)
			if err != nil {
				return deleted, true, err
			}
			affected, _ = res.RowsAffected()
		}
		if affected == 0 { // no trace left: only profiles to delete
			n, err := s.deleteOldestProfiles(ctx, used, target)
			if err != nil || n == 0 {
				return deleted, true, err
			}
			continue
		}
		deleted += affected
		if err := s.trimProfilesToTraces(ctx); err != nil {
			return deleted, true, err
		}
	}
}

// usedBytes is the size of the pages holding data: free pages excluded.
func (s *Store) usedBytes(ctx context.Context) (int64, error) {
	var pages, free, pageSize int64
	err := s.writeDB.QueryRowContext(ctx, `SELECT p.page_count, f.freelist_count, s.page_size
		FROM pragma_page_count() AS p, pragma_freelist_count() AS f, pragma_page_size() AS s`).
		Scan(&pages, &free, &pageSize)
	return (pages - free) * pageSize, err
}

// deleteChunks runs del (whose last parameter is the chunk size) until it
// deletes nothing, and returns how many rows it deleted.
func (s *Store) deleteChunks(ctx context.Context, del string, args ...any) (deleted int64, err error) {
	for {
		res, err := s.writeDB.ExecContext(ctx, del, append(args, retentionChunk)...)
		if err != nil {
			return deleted, err
		}
		n, _ := res.RowsAffected()
		if n == 0 {
			return deleted, nil
		}
		deleted += n
	}
}

// giveSpaceBack shrinks the files: deleting rows only frees pages inside
// the file. incremental_vacuum moves free pages to the end and truncates
// them; the TRUNCATE checkpoint then copies the WAL back and empties it.
func (s *Store) giveSpaceBack(ctx context.Context) error {
	for last := int64(-1); ; {
		var free int64
		if err := s.writeDB.QueryRowContext(ctx, "PRAGMA freelist_count").Scan(&free); err != nil {
			return err
		}
		if free == 0 || free == last { // done, or (never seen) stuck
			break
		}
		last = free
		if _, err := s.writeDB.ExecContext(ctx, fmt.Sprintf("PRAGMA incremental_vacuum(%d)", vacuumStep)); err != nil {
			return err
		}
		// Lets the next step reuse the WAL from its start.
		if _, err := s.writeDB.ExecContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)"); err != nil {
			return err
		}
	}
	// A reader in the middle of a search can keep the checkpoint from
	// finishing; that is not an error, the next pass finishes it.
	_, err := s.writeDB.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
	return err
}
