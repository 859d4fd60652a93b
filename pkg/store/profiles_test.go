package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tusk-php/tusk/pkg/agentapi"
	"github.com/tusk-php/tusk/pkg/profile"
	"github.com/tusk-php/tusk/pkg/trace"
)

// The agent hands API queries to the store by conversion; this keeps the
// two types convertible.
var _ = ProfileQuery(agentapi.ProfileQuery{})

var (
	pfMain  = profile.Frame{Function: "{main}", File: "/www/index.php", Line: 3}
	pfRun   = profile.Frame{Function: "run", Class: "App\\Kernel", File: "/www/src/Kernel.php", Line: 40}
	pfQuery = profile.Frame{Function: "execute", Class: "PDOStatement", Line: 0}
	pfLoop  = profile.Frame{Function: "render", File: "/www/src/View.php", Line: 12}
	// 9:30:00 UTC, a whole minute.
	pfMinute = time.Date(2026, 11, 25, 9, 30, 0, 0, time.UTC)
)

// minuteBucket is a minute profile of n samples of stack.
func minuteBucket(at time.Time, pool, endpoint string, n int64, stack ...profile.Frame) profile.Bucket {
	p := profile.NewProfile(0)
	p.PeriodNs = 10_101_010
	p.Add(stack, profile.Labels{Service: "php-fpm", Pool: pool, Endpoint: endpoint}, n)
	return profile.Bucket{Time: at, End: at.Add(time.Minute), Service: "php-fpm", Pool: pool, Endpoint: endpoint, Profile: p}
}

func traceBucket(id trace.TraceID, at time.Time, n int64, stack ...profile.Frame) profile.Bucket {
	b := minuteBucket(at, "www", "GET /", n, stack...)
	b.TraceID = id
	return b
}

func addProfiles(t testing.TB, s *Store, buckets ...profile.Bucket) {
	t.Helper()
	for _, b := range buckets {
		s.AddProfile(b)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.FlushProfiles(ctx); err != nil {
		t.Fatal(err)
	}
}

func queryProfile(t testing.TB, s *Store, q ProfileQuery) *profile.Profile {
	t.Helper()
	p, err := s.Profile(context.Background(), q)
	if err != nil {
		t.Fatalf("Profile(%+v): %v", q, err)
	}
	return p
}

func TestProfileRoundTripThroughTheAggregator(t *testing.T) {
	s := openTestStore(t, Options{})
	agg := profile.NewAggregator(s.AddProfile, profile.AggregatorOptions{})
	id := trace.TraceID{0xab, 1}
	for i := range 120 { // two minutes, one sample a second
		at := pfMinute.Add(time.Duration(i) * time.Second)
		smp := profile.Sample{Time: at, Service: "php-fpm", Pool: "www", Endpoint: "GET /", Count: 1, PeriodNs: 10_101_010,
			Stack: []profile.Frame{pfMain, pfRun, pfQuery}}
		if i%4 == 0 {
			smp.Stack = []profile.Frame{pfMain, pfRun}
			smp.Pool, smp.Endpoint = "admin", "POST /wp-admin/"
		}
		if i < 10 {
			smp.TraceID = id
		}
		agg.Add(smp)
	}
	agg.FlushAll()
	if err := s.FlushProfiles(context.Background()); err != nil {
		t.Fatal(err)
	}

	all := queryProfile(t, s, ProfileQuery{From: pfMinute, To: pfMinute.Add(2 * time.Minute)})
	if all.Total() != 120 || all.PeriodNs != 10_101_010 {
		t.Errorf("everything: total %d period %d", all.Total(), all.PeriodNs)
	}
	fg := profile.Flamegraph(all, 0)
	if len(fg.Nodes) != 4 || fg.Nodes[3].Label != "PDOStatement::execute" || fg.Nodes[3].Value != 90 || fg.Nodes[2].Self != 30 {
		t.Errorf("flame graph %+v", fg.Nodes)
	}
	www := queryProfile(t, s, ProfileQuery{Pool: "www", From: pfMinute, To: pfMinute.Add(time.Minute)})
	if www.Total() != 45 || len(www.Labels) != 1 || www.Labels[0] != (profile.Labels{Service: "php-fpm", Pool: "www", Endpoint: "GET /"}) {
		t.Errorf("pool www, first minute: total %d labels %+v", www.Total(), www.Labels)
	}
	if got := queryProfile(t, s, ProfileQuery{Endpoint: "POST /wp-admin/", Service: "php-fpm"}).Total(); got != 30 {
		t.Errorf("endpoint: %d samples, want 30", got)
	}
	if got := queryProfile(t, s, ProfileQuery{Endpoint: "POST /wp-admin"}).Total(); got != 0 {
		t.Errorf("endpoint matched as a prefix: %d samples", got)
	}
	tp := queryProfile(t, s, ProfileQuery{TraceID: id, From: pfMinute.Add(time.Hour)}) // From is not used
	if tp.Total() != 10 {
		t.Errorf("trace profile: %d samples, want 10", tp.Total())
	}
	if got := queryProfile(t, s, ProfileQuery{TraceID: trace.TraceID{9}}); !got.Empty() {
		t.Errorf("unknown trace: %d samples", got.Total())
	}
	if st := s.ProfileStats(); st.Written != 5 || st.Dropped != 0 || st.Queued != 0 || st.Corrupt != 0 {
		t.Errorf("stats %+v, want 4 minute rows and 1 trace row written", st)
	}
}

func TestProfileTimeRangeIsRoundedToWholeMinutes(t *testing.T) {
	s := openTestStore(t, Options{})
	for i := range 5 { // 9:30 .. 9:34, minute i has 1<<i samples
		addProfiles(t, s, minuteBucket(pfMinute.Add(time.Duration(i)*time.Minute), "www", "GET /", 1<<i, pfMain))
	}
	for _, c := range []struct {
		from, to time.Duration // after 9:30
		want     int64
	}{
		{0, 5 * time.Minute, 31},
		{0, time.Minute, 1},                                   // 9:30 only
		{30 * time.Second, 90 * time.Second, 1 + 2},           // overlaps 9:30 and 9:31
		{time.Minute, time.Minute + time.Nanosecond, 2},       // a nanosecond of 9:31
		{time.Minute, time.Minute, 0},                         // empty range
		{2*time.Minute - time.Nanosecond, 2 * time.Minute, 2}, // last nanosecond of 9:31
		{-time.Hour, 0, 0},
		{10 * time.Minute, time.Hour, 0},
	} {
		q := ProfileQuery{From: pfMinute.Add(c.from), To: pfMinute.Add(c.to)}
		if got := queryProfile(t, s, q).Total(); got != c.want {
			t.Errorf("from +%v to +%v: %d samples, want %d", c.from, c.to, got, c.want)
		}
	}
	if got := queryProfile(t, s, ProfileQuery{}).Total(); got != 31 {
		t.Errorf("no range: %d samples, want all 31", got)
	}
	if _, err := s.Profile(context.Background(), ProfileQuery{From: pfMinute, To: pfMinute.Add(-1)}); !errors.Is(err, ErrInvalidQuery) {
		t.Errorf("to before from: %v", err)
	}
}

func TestProfileRowsOfOneKeyMerge(t *testing.T) {
	s := openTestStore(t, Options{})
	id := trace.TraceID{1, 2, 3}
	addProfiles(t, s,
		minuteBucket(pfMinute, "www", "GET /", 3, pfMain, pfRun),
		minuteBucket(pfMinute.Add(10*time.Second), "www", "GET /", 4, pfMain, pfRun), // a late part of the same minute
		traceBucket(id, pfMinute, 2, pfMain, pfLoop),
		traceBucket(id, pfMinute.Add(time.Minute), 5, pfMain, pfLoop), // a long request's second part
	)
	p := queryProfile(t, s, ProfileQuery{From: pfMinute, To: pfMinute.Add(time.Minute)})
	if p.Total() != 7 || len(p.Stacks) != 1 {
		t.Errorf("minute: total %d in %d stacks, want 7 in 1", p.Total(), len(p.Stacks))
	}
	p = queryProfile(t, s, ProfileQuery{TraceID: id})
	if p.Total() != 7 || len(p.Stacks) != 1 {
		t.Errorf("trace: total %d in %d stacks, want 7 in 1", p.Total(), len(p.Stacks))
	}
}

// TestCorruptProfileIsSkippedAndCounted: a broken blob costs its own
// samples, never the query.
func TestCorruptProfileIsSkippedAndCounted(t *testing.T) {
	s := openTestStore(t, Options{})
	addProfiles(t, s, minuteBucket(pfMinute, "www", "GET /", 3, pfMain, pfRun))
	db, err := sql.Open("sqlite", dsn(s.Path(), s.opts.MaxBytes)) // with busy_timeout: the writer is busy
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	good := profile.Encode(minuteBucket(pfMinute, "www", "GET /", 1, pfMain).Profile)
	for _, blob := range [][]byte{{0x77, 1, 2}, good[:len(good)-2], {}} {
		if _, err := db.Exec(`INSERT INTO profile_minutes (minute, service, pool, endpoint, samples, profile)
			VALUES (?, 'php-fpm', 'www', 'GET /', 1, ?)`, pfMinute.Unix(), blob); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Exec(`INSERT INTO trace_profiles (trace_id, start_ns, service, pool, endpoint, samples, profile)
		VALUES (?, 0, '', '', '', 1, X'02FFFF')`, []byte{0xcc, 15: 0}); err != nil {
		t.Fatal(err)
	}
	p := queryProfile(t, s, ProfileQuery{From: pfMinute, To: pfMinute.Add(time.Minute)})
	if p.Total() != 3 {
		t.Errorf("total %d, want the good row's 3", p.Total())
	}
	if got := s.ProfileStats().Corrupt; got != 3 {
		t.Errorf("Corrupt = %d, want 3", got)
	}
	if tp := queryProfile(t, s, ProfileQuery{TraceID: trace.TraceID{0xcc}}); !tp.Empty() || s.ProfileStats().Corrupt != 4 {
		t.Errorf("corrupt trace profile: %d samples, Corrupt = %d", tp.Total(), s.ProfileStats().Corrupt)
	}
}

func TestProfileRetentionByAge(t *testing.T) {
	s := openTestStore(t, Options{MaxAge: time.Hour})
	now := pfMinute.Add(3 * time.Hour)
	old, fresh := trace.TraceID{1}, trace.TraceID{2}
	addProfiles(t, s,
		minuteBucket(now.Add(-2*time.Hour), "www", "GET /", 1, pfMain),
		minuteBucket(now.Add(-61*time.Minute), "www", "GET /", 2, pfMain), // ended 1 minute past the cutoff
		minuteBucket(now.Add(-30*time.Minute), "www", "GET /", 4, pfMain),
		traceBucket(old, now.Add(-61*time.Minute), 1, pfMain),
		traceBucket(fresh, now.Add(-59*time.Minute), 1, pfMain),
	)
	if err := s.ApplyRetention(context.Background(), now); err != nil {
		t.Fatal(err)
	}
	if got := queryProfile(t, s, ProfileQuery{}).Total(); got != 4 {
		t.Errorf("after retention: %d samples, want the last minute's 4", got)
	}
	if !queryProfile(t, s, ProfileQuery{TraceID: old}).Empty() || queryProfile(t, s, ProfileQuery{TraceID: fresh}).Empty() {
		t.Error("trace profiles: want the old one gone, the fresh one kept")
	}
}

// TestProfilesGoWithTheTracesOfTheirTime fills a store past its size cap
// with traces and profiles of the same times: the cap deletes the oldest
// traces, and every profile older than the oldest trace left.
func TestProfilesGoWithTheTracesOfTheirTime(t *testing.T) {
	const maxBytes = 512 << 10
	s := openTestStore(t, Options{MaxBytes: maxBytes, BatchSize: 64, FlushInterval: time.Millisecond})
	ctx := context.Background()
	m := newTraceMaker(21)
	start := time.Now().Add(-time.Hour).Truncate(time.Minute)
	for i := range 20 { // a minute each: 60 traces and a profile of 10 endpoints
		minute := start.Add(time.Duration(i) * time.Minute)
		for j := range 60 {
			s.Add(m.make(minute.Add(time.Duration(j) * time.Second)))
		}
		var buckets []profile.Bucket
		for e := range 10 {
			buckets = append(buckets, bigMinuteBucket(minute, e))
		}
		addProfiles(t, s, buckets...)
		if err := s.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.ApplyRetention(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	if size := filesOnDisk(s.Path()); size > maxBytes {
		t.Errorf("%d bytes on disk, cap %d", size, maxBytes)
	}
	var oldestTrace, oldestMinute, minutes int64
	s.writeDB.QueryRow("SELECT min(start_ns) FROM traces").Scan(&oldestTrace)
	s.writeDB.QueryRow("SELECT min(minute), count(*) FROM profile_minutes").Scan(&oldestMinute, &minutes)
	t.Logf("%d traces from %s, %d minute profiles from %s", s.Stats().Traces,
		time.Unix(0, oldestTrace).Format(time.TimeOnly), minutes, time.Unix(oldestMinute, 0).Format(time.TimeOnly))
	if s.Stats().Traces == 0 || minutes == 0 {
		t.Fatal("retention deleted everything")
	}
	if oldestMinute+60 <= oldestTrace/1e9 {
		t.Errorf("a profile of %s survived the traces of its time (oldest trace %s)",
			time.Unix(oldestMinute, 0), time.Unix(0, oldestTrace))
	}
	if oldestMinute <= start.Unix() {
		t.Error("the oldest profiles were not deleted")
	}
}

// bigMinuteBucket is a minute profile of some 60 distinct stacks, a few KB.
func bigMinuteBucket(minute time.Time, endpoint int) profile.Bucket {
	p := profile.NewProfile(0)
	p.PeriodNs = 10_101_010
	l := profile.Labels{Service: "php-fpm", Pool: "www", Endpoint: fmt.Sprintf("GET /e%d", endpoint)}
	for i := range 60 {
		p.Add([]profile.Frame{pfMain, pfRun, {Function: fmt.Sprintf("f%d_%d", endpoint, i), File: fmt.Sprintf("/www/src/F%d.php", i)}}, l, int64(i+1))
	}
	return profile.Bucket{Time: minute, Service: l.Service, Pool: l.Pool, Endpoint: l.Endpoint, Profile: p}
}

// TestProfilesAloneAreKeptUnderTheCap: with no traces to delete, the size
// cap deletes the oldest profiles.
func TestProfilesAloneAreKeptUnderTheCap(t *testing.T) {
	const maxBytes = 512 << 10
	s := openTestStore(t, Options{MaxBytes: maxBytes})
	start := time.Now().Add(-2 * time.Hour).Truncate(time.Minute)
	for i := range 100 {
		for e := range 10 {
			s.AddProfile(bigMinuteBucket(start.Add(time.Duration(i)*time.Minute), e))
		}
		if err := s.FlushProfiles(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.ApplyRetention(context.Background(), time.Now()); err != nil {
		t.Fatal(err)
	}
	var oldest, n int64
	s.writeDB.QueryRow("SELECT min(minute), count(*) FROM profile_minutes").Scan(&oldest, &n)
	t.Logf("%d rows left, from %s; %d bytes", n, time.Unix(oldest, 0).Format(time.TimeOnly), filesOnDisk(s.Path()))
	if size := filesOnDisk(s.Path()); size > maxBytes {
		t.Errorf("%d bytes on disk, cap %d", size, maxBytes)
	}
	if n == 0 || n == 1000 || oldest == start.Unix() {
		t.Errorf("%d rows left from %d: want the oldest deleted, the newest kept", n, oldest)
	}
}

// TestFailingProfileWritesDoNotHoldUpTraces: profile inserts fail, traces
// are still written; the profiles are retried and written once it works.
func TestFailingProfileWritesDoNotHoldUpTraces(t *testing.T) {
	logs := &logRecorder{}
	s := openTestStore(t, Options{FlushInterval: 5 * time.Millisecond, Logger: slog.New(logs)})
	db, err := sql.Open("sqlite", dsn(s.Path(), s.opts.MaxBytes)) // with busy_timeout: the writer is busy
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TRIGGER fail_profiles BEFORE INSERT ON profile_minutes
		BEGIN SELECT RAISE(ABORT, 'injected profile failure'); END`); err != nil {
		t.Fatal(err)
	}
	s.AddProfile(minuteBucket(pfMinute, "www", "GET /", 3, pfMain))
	waitFor(t, "failed profile writes", func() bool { return s.ProfileStats().WriteErrors >= 3 })
	traces := newTraceMaker(4).makeN(10, time.Now())
	addAll(t, s, traces) // Flush returns: traces are written meanwhile
	if n := logs.count(slog.LevelError, "writing profiles failed; keeping them in memory and retrying"); n != 1 {
		t.Errorf("logged %d times, want once:\n%s", n, logs.text())
	}
	if st := s.ProfileStats(); st.Queued != 1 || st.Written != 0 {
		t.Errorf("while failing: %+v", st)
	}
	if _, err := db.Exec("DROP TRIGGER fail_profiles"); err != nil {
		t.Fatal(err)
	}
	if err := s.FlushProfiles(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := queryProfile(t, s, ProfileQuery{}).Total(); got != 3 {
		t.Errorf("after recovery: %d samples, want 3", got)
	}
}

func TestCloseWritesQueuedProfilesAndReopenKeepsThem(t *testing.T) {
	path := filepath.Join(t.TempDir(), "traces.db")
	s, err := Open(path, Options{Logger: testLogger(t), FlushInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	s.AddProfile(minuteBucket(pfMinute, "www", "GET /", 3, pfMain))
	s.AddProfile(traceBucket(trace.TraceID{5}, pfMinute, 2, pfMain))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s.AddProfile(minuteBucket(pfMinute, "www", "GET /", 3, pfMain))
	if st := s.ProfileStats(); st.Dropped != 1 || st.Written != 2 {
		t.Errorf("after Close: %+v", st)
	}
	if _, err := s.Profile(context.Background(), ProfileQuery{}); !errors.Is(err, ErrClosed) {
		t.Errorf("Profile after Close: %v", err)
	}
	if err := s.FlushProfiles(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("FlushProfiles after Close: %v", err)
	}
	s, err = Open(path, Options{Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := queryProfile(t, s, ProfileQuery{}).Total(); got != 3 {
		t.Errorf("after reopen: %d samples", got)
	}
	if got := queryProfile(t, s, ProfileQuery{TraceID: trace.TraceID{5}}).Total(); got != 2 {
		t.Errorf("trace after reopen: %d samples", got)
	}
}

// TestMigratesAVersion1File: a store written before profiles existed gets
// the profile tables and keeps its traces.
func TestMigratesAVersion1File(t *testing.T) {
	path := filepath.Join(t.TempDir(), "traces.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("PRAGMA auto_vacuum = INCREMENTAL"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(migrations[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("PRAGMA user_version = 1"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s, err := Open(path, Options{Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	addAll(t, s, newTraceMaker(6).makeN(5, time.Now()))
	addProfiles(t, s, minuteBucket(pfMinute, "www", "GET /", 3, pfMain))
	if got := queryProfile(t, s, ProfileQuery{}).Total(); got != 3 || s.Stats().Traces != 5 {
		t.Errorf("after migration: %d samples, %d traces", got, s.Stats().Traces)
	}
}

func TestProfileQueriesUseIndexes(t *testing.T) {
	s := openTestStore(t, Options{})
	for _, q := range []ProfileQuery{
		{From: pfMinute, To: pfMinute.Add(time.Hour)},
		{From: pfMinute, To: pfMinute.Add(time.Hour), Endpoint: "GET /"},
		{TraceID: trace.TraceID{1}},
	} {
		query, args := profileSQL(&q)
		plan := queryPlan(t, s.readDB, query, args)
		if !strings.Contains(plan, "USING INDEX") && !strings.Contains(plan, "USING COVERING INDEX") {
			t.Errorf("%+v: plan does not use an index:\n%s", q, plan)
		}
	}
}

// TestQueuedProfilesAreInTheAnswer: a profile handed to the store is in
// the next query's answer even with the writer's tick far away: the
// aggregator no longer has it, so it must not be in neither place.
func TestQueuedProfilesAreInTheAnswer(t *testing.T) {
	s := openTestStore(t, Options{FlushInterval: time.Hour})
	id := trace.NewTraceID()
	s.AddProfile(minuteBucket(pfMinute, "www", "GET /", 7, pfMain, pfLoop))
	s.AddProfile(traceBucket(id, pfMinute.Add(time.Second), 3, pfMain, pfQuery))
	ctx := context.Background()
	p, err := s.Profile(ctx, ProfileQuery{From: pfMinute, To: pfMinute.Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	if p.Total() != 7 {
		t.Errorf("minute profile just handed over: %d samples, want 7", p.Total())
	}
	p, err = s.Profile(ctx, ProfileQuery{TraceID: id})
	if err != nil {
		t.Fatal(err)
	}
	if p.Total() != 3 {
		t.Errorf("request profile just handed over: %d samples, want 3", p.Total())
	}
}
