package store

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tusk-php/tusk/pkg/profile"
	"github.com/tusk-php/tusk/pkg/trace"
)

// Continuous profiles live in two tables next to the traces (migration 2):
// profile_minutes holds one row per minute and (service, pool, endpoint),
// trace_profiles one row per request (a long request may have a few, one
// per part the aggregator handed on). Both keep the profile as one blob in
// pkg/profile's storage format, labels and time as indexed columns. Rows
// are never updated: a minute or request that arrives twice is two rows,
// merged when read.
//
// Profiles take the same road as traces: AddProfile encodes on the
// caller's goroutine and appends to a bounded queue without waiting; the
// one writer goroutine writes them after each round of traces, at most
// profileRowsPerRound rows at a time so that trace batches queued behind
// them wait for milliseconds, not seconds. Retention deletes profiles with
// the traces of their time (see retention.go): the same age limit, and the
// size cap deletes the oldest traces and then every profile older than the
// oldest trace left.

// Limits of the profile write path.
const (
	// profileQueueRows and profileQueueBytes bound the profiles waiting
	// for the writer; past either, AddProfile drops and counts.
	profileQueueRows  = 4096
	profileQueueBytes = 32 << 20
	// profileRowsPerTx is the rows written per transaction,
	// profileRowsPerRound per writer round.
	profileRowsPerTx    = 128
	profileRowsPerRound = 1024
	// ProfileQueryMaxStacks caps the distinct stacks of a merged query
	// result (about 300 bytes each); past it stacks fold into
	// "[truncated]" under their root, totals stay exact.
	ProfileQueryMaxStacks = 50000
)

// ProfileQuery selects stored profiles. Zero fields do not filter; Service,
// Pool and Endpoint match exactly. With TraceID set only that request's
// profile is read and From/To are not used. A minute is included when it
// overlaps [From, To). Its fields are those of agentapi.ProfileQuery, so one
// converts to the other: store.ProfileQuery(q).
type ProfileQuery struct {
	From     time.Time
	To       time.Time
	Service  string
	Pool     string
	Endpoint string
	TraceID  trace.TraceID
}

// ProfileStats counts the profile side of the store since Open.
type ProfileStats struct {
	Written     uint64 // rows written
	Dropped     uint64 // buckets lost: queue full, closed, or given up on at Close
	WriteErrors uint64 // failed write attempts
	Corrupt     uint64 // stored profiles that did not decode and were left out of answers
	Queued      int    // buckets waiting for the writer
}

// profileRow is one encoded bucket waiting to be written.
type profileRow struct {
	traceID  trace.TraceID // zero: a minute row
	timeNs   int64         // trace rows: first sample
	minute   int64         // minute rows: unix seconds of the minute's start
	service  string
	pool     string
	endpoint string
	samples  int64
	blob     []byte
}

// profileQueue is the profiles' queue between AddProfile and the writer,
// plus the writer's own state; its zero value is ready (the Store embeds
// it without Open having to know).
type profileQueue struct {
	mu       sync.Mutex
	items    []profileRow
	bytes    int
	accepted uint64
	resolved uint64
	closed   bool
	progress chan struct{} // closed and replaced whenever resolved grows

	// Writer goroutine only.
	pending   []profileRow
	lastError string

	written, dropped, writeErrors, corrupt atomic.Uint64
	failing                                atomic.Bool
}

func (q *profileQueue) progressLocked() chan struct{} {
	if q.progress == nil {
		q.progress = make(chan struct{})
	}
	return q.progress
}

func (q *profileQueue) push(r profileRow) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed || len(q.items) >= profileQueueRows || q.bytes+len(r.blob) > profileQueueBytes {
		return false
	}
	q.items = append(q.items, r)
	q.bytes += len(r.blob)
	q.accepted++
	return true
}

func (q *profileQueue) takeAll() []profileRow {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := q.items
	q.items, q.bytes = nil, 0
	return out
}

func (q *profileQueue) resolve(n int) {
	if n == 0 {
		return
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	q.resolved += uint64(n)
	close(q.progressLocked())
	q.progress = make(chan struct{})
}

// AddProfile queues a finished bucket from the profile aggregator (it is a
// valid sink for profile.NewAggregator) and returns at once: it encodes the
// profile on the caller's goroutine and never waits for the disk. When the
// queue is full, or the store closed, the bucket is counted in
// ProfileStats().Dropped. Empty buckets are ignored.
func (s *Store) AddProfile(b profile.Bucket) {
	if b.Profile.Empty() {
		return
	}
	if s.closed.Load() {
		s.profiles.dropped.Add(1)
		return
	}
	r := profileRow{
		service: b.Service, pool: b.Pool, endpoint: b.Endpoint,
		samples: b.Profile.Total(), blob: profile.Encode(b.Profile),
	}
	if b.IsTrace() {
		r.traceID = b.TraceID
		r.timeNs = unixNano(b.Time)
	} else {
		r.minute = b.Time.Unix()
		r.minute -= ((r.minute % 60) + 60) % 60
	}
	if !s.profiles.push(r) {
		s.profiles.dropped.Add(1)
	}
}

// FlushProfiles waits until every profile added before the call is written
// or given up on, like Flush does for traces.
func (s *Store) FlushProfiles(ctx context.Context) error {
	if s.closed.Load() {
		return ErrClosed
	}
	q := &s.profiles
	q.mu.Lock()
	mark := q.accepted
	q.mu.Unlock()
	for {
		s.wakeWriter()
		q.mu.Lock()
		resolved, progress := q.resolved, q.progressLocked()
		q.mu.Unlock()
		if resolved >= mark {
			return nil
		}
		select {
		case <-progress:
		case <-ctx.Done():
			if q.failing.Load() {
				return fmt.Errorf("store: flush profiles: %w; profile writes are failing", ctx.Err())
			}
			return fmt.Errorf("store: flush profiles: %w", ctx.Err())
		}
	}
}

// ProfileStats returns the profile counters.
func (s *Store) ProfileStats() ProfileStats {
	q := &s.profiles
	q.mu.Lock()
	queued := int(q.accepted - q.resolved)
	q.mu.Unlock()
	return ProfileStats{
		Written:     q.written.Load(),
		Dropped:     q.dropped.Load(),
		WriteErrors: q.writeErrors.Load(),
		Corrupt:     q.corrupt.Load(),
		Queued:      queued,
	}
}

const (
	insertProfileMinute = `INSERT INTO profile_minutes (minute, service, pool, endpoint, samples, profile)
		VALUES (?, ?, ?, ?, ?, ?)`
	insertTraceProfile = `INSERT INTO trace_profiles (trace_id, start_ns, service, pool, endpoint, samples, profile)
		VALUES (?, ?, ?, ?, ?, ?, ?)`
)

// writeQueuedProfiles runs on the writer goroutine after the traces of a
// round: it writes up to profileRowsPerRound rows and wakes the writer
// again when more wait, so traces get their turn in between.
func (s *Store) writeQueuedProfiles(ctx context.Context) {
	q := &s.profiles
	q.pending = append(q.pending, q.takeAll()...)
	if over := len(q.pending) - profileQueueRows; over > 0 {
		// Writes keep failing and profiles keep coming: keep the newest.
		q.pending = slices.Delete(q.pending, 0, over)
		q.dropped.Add(uint64(over))
		q.resolve(over)
	}
	for written := 0; len(q.pending) > 0; {
		if written >= profileRowsPerRound {
			s.wakeWriter()
			return
		}
		n := min(profileRowsPerTx, len(q.pending))
		if err := s.writeProfileBatch(ctx, q.pending[:n]); err != nil {
			q.writeErrors.Add(1)
			q.failing.Store(true)
			if msg := describeError(err, s.path); msg != q.lastError {
				s.log.Error("writing profiles failed; keeping them in memory and retrying", "error", msg, "waiting", len(q.pending))
				q.lastError = msg
			}
			return
		}
		q.failing.Store(false)
		if q.lastError != "" {
			s.log.Info("writing profiles works again")
			q.lastError = ""
		}
		q.written.Add(uint64(n))
		q.pending = slices.Delete(q.pending, 0, n)
		written += n
		s.afterWrite(ctx)
		q.resolve(n)
	}
}

// giveUpProfiles counts what Close could not write.
func (s *Store) giveUpProfiles() {
	q := &s.profiles
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	n := len(q.pending) + len(q.takeAll())
	q.pending = nil
	if n == 0 {
		return
	}
	q.dropped.Add(uint64(n))
	q.resolve(n)
	s.log.Error("closing with profiles unwritten", "lost", n)
}

func (s *Store) writeProfileBatch(ctx context.Context, batch []profileRow) error {
	tx, err := s.writeDB.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	// Prepared once, as the trace inserts are: a request profile is
	// written per sampled request (30 of them and their commit: 770 →
	// 690 µs).
	minuteInsert := tx.StmtContext(ctx, s.insertProfileMinuteStmt)
	traceInsert := tx.StmtContext(ctx, s.insertTraceProfileStmt)
	for _, r := range batch {
		if r.traceID.IsZero() {
			_, err = minuteInsert.ExecContext(ctx, r.minute, r.service, r.pool, r.endpoint, r.samples, r.blob)
		} else {
			_, err = traceInsert.ExecContext(ctx, r.traceID[:], r.timeNs, r.service, r.pool, r.endpoint, r.samples, r.blob)
		}
		if err != nil {
			return err
		}
	}
	return tx.Commit()
}

// Profile returns the samples matching q merged into one profile: empty,
// not an error, when nothing matches. A stored profile that does not decode
// is left out, counted in ProfileStats().Corrupt and logged; it never fails
// the query. To before From is rejected with an error matching
// ErrInvalidQuery.
func (s *Store) Profile(ctx context.Context, q ProfileQuery) (*profile.Profile, error) {
	if !q.From.IsZero() && !q.To.IsZero() && q.To.Before(q.From) {
		return nil, fmt.Errorf("%w: to is before from", ErrInvalidQuery)
	}
	if s.closed.Load() {
		return nil, ErrClosed
	}
	s.settleProfiles(ctx)
	query, args := profileSQL(&q)
	rows, err := s.readDB.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: profile: %w", err)
	}
	defer rows.Close()
	out := profile.NewProfile(ProfileQueryMaxStacks)
	var corrupt int
	var firstErr error
	for rows.Next() {
		var blob []byte
		if err := rows.Scan(&blob); err != nil {
			return nil, fmt.Errorf("store: profile: %w", err)
		}
		if err := out.MergeEncoded(blob); err != nil {
			corrupt++
			firstErr = cmp.Or(firstErr, err)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: profile: %w", err)
	}
	if corrupt > 0 {
		s.profiles.corrupt.Add(uint64(corrupt))
		s.log.Warn("left corrupt stored profiles out of a profile query", "corrupt", corrupt, "error", firstErr)
	}
	return out, nil
}

// profileSQL translates q into one SELECT of profile blobs.
func profileSQL(q *ProfileQuery) (string, []any) {
	var where []string
	var args []any
	add := func(cond string, arg any) {
		where = append(where, cond)
		args = append(args, arg)
	}
	table := "profile_minutes"
	if !q.TraceID.IsZero() {
		table = "trace_profiles"
		add("trace_id = ?", q.TraceID[:])
	} else {
		// [minute, minute+60) overlaps [From, To).
		if !q.From.IsZero() {
			add("minute > ?", q.From.Unix()-60)
		}
		if !q.To.IsZero() {
			to := q.To.Unix()
			if q.To.Nanosecond() > 0 {
				to++
			}
			add("minute < ?", to)
		}
	}
	if q.Service != "" {
		add("service = ?", q.Service)
	}
	if q.Pool != "" {
		add("pool = ?", q.Pool)
	}
	if q.Endpoint != "" {
		add("endpoint = ?", q.Endpoint)
	}
	query := "SELECT profile FROM " + table
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	return query, args
}

// profileSettleTimeout bounds how long a query waits for queued profiles:
// a write takes milliseconds; while writes fail, the query answers with
// what is stored.
const profileSettleTimeout = 2 * time.Second

// settleProfiles has the profiles queued before a query written first. The
// profile aggregator keeps a minute or a request in memory (where queries
// see it) until it hands it here; from then until the writer's next round
// (up to a second) it would be in neither place, and a flame graph asked
// for just then would miss it.
func (s *Store) settleProfiles(ctx context.Context) {
	if s.ProfileStats().Queued == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, profileSettleTimeout)
	defer cancel()
	_ = s.FlushProfiles(ctx) // its error is the writer's; the query still answers
}

// Retention of profiles, called from retention.go on the writer goroutine.

// expireProfiles deletes profiles older than cutoff: minutes that ended by
// then, requests whose first sample was before it (as traces go by start).
func (s *Store) expireProfiles(ctx context.Context, cutoff time.Time) (int64, error) {
	n, err := s.deleteChunks(ctx,
		"DELETE FROM profile_minutes WHERE rowid IN (SELECT rowid FROM profile_minutes WHERE minute <= ? ORDER BY minute LIMIT ?)",
		cutoff.Unix()-60)
	if err != nil {
		return n, err
	}
	m, err := s.deleteChunks(ctx,
		"DELETE FROM trace_profiles WHERE rowid IN (SELECT rowid FROM trace_profiles WHERE start_ns < ? ORDER BY start_ns LIMIT ?)",
		unixNano(cutoff))
	return n + m, err
}

// trimProfilesToTraces deletes the profiles older than the oldest trace
// left, after the size cap deleted traces. With no trace left it deletes
// nothing: deleteOldestProfiles takes over.
func (s *Store) trimProfilesToTraces(ctx context.Context) error {
	_, err := s.deleteChunks(ctx, `DELETE FROM profile_minutes WHERE rowid IN (SELECT rowid FROM profile_minutes
		WHERE minute <= (SELECT min(start_ns) FROM traces) / 1000000000 - 60 ORDER BY minute LIMIT ?)`)
	if err != nil {
		return err
	}
	_, err = s.deleteChunks(ctx, `DELETE FROM trace_profiles WHERE rowid IN (SELECT rowid FROM trace_profiles
		WHERE start_ns < (SELECT min(start_ns) FROM traces) ORDER BY start_ns LIMIT ?)`)
	return err
}

// deleteOldestProfiles deletes about enough of the oldest profiles to take
// the pages in use from used to target, for a store over its size cap with
// no traces left to delete: the oldest whole minutes, and the requests
// profiled up to their end. It returns how many rows it deleted.
func (s *Store) deleteOldestProfiles(ctx context.Context, used, target int64) (int64, error) {
	var rows int64
	if err := s.writeDB.QueryRowContext(ctx,
		"SELECT (SELECT count(*) FROM profile_minutes) + (SELECT count(*) FROM trace_profiles)").Scan(&rows); err != nil {
		return 0, err
	}
	if rows == 0 {
		return 0, nil
	}
	n := min((used-target)/max(used/rows, 1)+1, retentionChunk)
	var last sql.NullInt64
	if err := s.writeDB.QueryRowContext(ctx,
		"SELECT max(minute) FROM (SELECT minute FROM profile_minutes ORDER BY minute LIMIT ?)", n).Scan(&last); err != nil {
		return 0, err
	}
	if !last.Valid { // only request profiles
		res, err := s.writeDB.ExecContext(ctx,
			"DELETE FROM trace_profiles WHERE rowid IN (SELECT rowid FROM trace_profiles ORDER BY start_ns LIMIT ?)", n)
		if err != nil {
			return 0, err
		}
		deleted, _ := res.RowsAffected()
		return deleted, nil
	}
	deleted, err := s.deleteChunks(ctx,
		"DELETE FROM profile_minutes WHERE rowid IN (SELECT rowid FROM profile_minutes WHERE minute <= ? ORDER BY minute LIMIT ?)",
		last.Int64)
	if err != nil {
		return deleted, err
	}
	more, err := s.deleteChunks(ctx,
		"DELETE FROM trace_profiles WHERE rowid IN (SELECT rowid FROM trace_profiles WHERE start_ns < ? ORDER BY start_ns LIMIT ?)",
		(last.Int64+60)*1e9)
	return deleted + more, err
}
