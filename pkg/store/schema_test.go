package store

import (
	"context"
	"database/sql"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tusk-php/tusk/pkg/trace"
)

// TestSearchesUseIndexes asks SQLite how it would run the searches the UI
// makes all the time: each must read through an index, never scan the table.
func TestSearchesUseIndexes(t *testing.T) {
	s := openTestStore(t, Options{})
	end := time.Now()
	addAll(t, s, newTraceMaker(1).makeN(analyzeMinRows, end))
	checkPlans(t, s, end)
	// Retention gives the planner statistics; plans must still use indexes.
	if err := s.ApplyRetention(context.Background(), end); err != nil {
		t.Fatal(err)
	}
	var stats int
	s.readDB.QueryRow("SELECT count(*) FROM sqlite_stat1").Scan(&stats)
	if stats == 0 {
		t.Fatal("retention did not analyze a store of analyzeMinRows traces")
	}
	checkPlans(t, s, end)
}

func checkPlans(t *testing.T, s *Store, end time.Time) {
	t.Helper()
	hour := end.Add(-time.Hour)
	for name, q := range map[string]trace.Query{
		"newest":                 {},
		"slowest":                {Order: trace.OrderSlowest},
		"last hour":              {Start: hour, End: end},
		"last hour, slowest":     {Start: hour, End: end, Order: trace.OrderSlowest},
		"slower than 1s":         {MinDuration: time.Second, Order: trace.OrderSlowest},
		"service":                {Service: "shop"},
		"service, last hour":     {Service: "shop", Start: hour},
		"service and pool":       {Service: "shop", Pool: "www"},
		"pool":                   {Pool: "api"},
		"method":                 {Method: "POST"},
		"path prefix":            {PathPrefix: "/api/"},
		"status":                 {StatusCode: 500},
		"errors":                 {ErrorsOnly: true},
		"errors, last hour":      {ErrorsOnly: true, Start: hour},
		"everything at once":     {Start: hour, End: end, MinDuration: time.Millisecond, Service: "shop", Pool: "www", Method: "GET", PathPrefix: "/cart", StatusCode: 200, ErrorsOnly: true},
		"retention: oldest rows": {}, // replaced below
	} {
		query, args := searchSQL(&q, searchPlan{})
		if name == "retention: oldest rows" {
			query, args = "SELECT rowid FROM traces WHERE start_ns < ? ORDER BY start_ns LIMIT ?", []any{0, 10}
		}
		plan := queryPlan(t, s.readDB, query, args)
		if strings.Contains(plan, "SCAN traces\n") || !strings.Contains(plan, "INDEX") {
			t.Errorf("%s: scans the whole table:\n%s", name, plan)
		} else {
			t.Logf("%s:\n%s", name, plan)
		}
	}
}

// TestSlowestWithinAGroupNeedsNoSort: "the slowest of one service, pool or
// status" walks an index in duration order; before migration 4 SQLite read
// every row of the group and sorted them (156 ms at 166k traces).
func TestSlowestWithinAGroupNeedsNoSort(t *testing.T) {
	s := openTestStore(t, Options{})
	end := time.Now()
	addAll(t, s, newTraceMaker(2).makeN(analyzeMinRows, end))
	if err := s.ApplyRetention(context.Background(), end); err != nil { // gives the planner statistics
		t.Fatal(err)
	}
	for name, q := range map[string]trace.Query{
		"service": {Service: "shop", Order: trace.OrderSlowest, Limit: 20},
		"pool":    {Pool: "api", Order: trace.OrderSlowest, Limit: 100},
		"status":  {StatusCode: 500, Order: trace.OrderSlowest, Limit: 20},
	} {
		steps, err := s.SearchPlan(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		plan := strings.Join(steps, "\n")
		if strings.Contains(plan, "TEMP B-TREE") || !strings.Contains(plan, "_duration") {
			t.Errorf("slowest within one %s sorts instead of walking a duration index:\n%s", name, plan)
		}
	}
}

func queryPlan(t *testing.T, db *sql.DB, query string, args []any) string {
	t.Helper()
	rows, err := db.Query("EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		b.WriteString("  " + detail + "\n")
	}
	return b.String()
}

func TestOpenRefusesANewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "traces.db")
	s, err := Open(path, Options{Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.writeDB.Exec("PRAGMA user_version = 99"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err = Open(path, Options{Logger: testLogger(t)})
	if err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("got %v, want a refusal naming a newer version", err)
	}
	if !exists(path) {
		t.Error("a newer file must be left alone, not moved aside")
	}
}

func TestMigrationsRunOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "traces.db")
	for range 2 {
		s, err := Open(path, Options{Logger: testLogger(t)})
		if err != nil {
			t.Fatal(err)
		}
		var v int
		s.writeDB.QueryRowContext(context.Background(), "PRAGMA user_version").Scan(&v)
		if v != schemaVersion {
			t.Errorf("user_version %d, want %d", v, schemaVersion)
		}
		s.Close()
	}
}

// TestMigrationMovesSpansOutOfTraces opens a file written at schema
// version 4, spans inside the traces rows in both formats that version
// wrote, and reads the same traces back after migration 5.
func TestMigrationMovesSpansOutOfTraces(t *testing.T) {
	path := filepath.Join(t.TempDir(), "traces.db")
	end := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	traces := newTraceMaker(6).makeN(300, end)
	traces[0].Spans = traces[0].Spans[:1] // small: stored as plain JSON
	traces[0].SpanCount = 1
	writeSchema4File(t, path, traces)

	s, err := Open(path, Options{Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	var version int
	s.writeDB.QueryRow("PRAGMA user_version").Scan(&version)
	if version != schemaVersion || countRows(t, s) != int64(len(traces)) || s.Stats().Traces != int64(len(traces)) {
		t.Fatalf("after migration: version %d, %d rows, Stats %+v", version, countRows(t, s), s.Stats())
	}
	var spansColumns, free int
	s.readDB.QueryRow("SELECT count(*) FROM pragma_table_info('traces') WHERE name = 'spans'").Scan(&spansColumns)
	if spansColumns != 0 {
		t.Error("traces still has its spans column")
	}
	s.writeDB.QueryRow("PRAGMA freelist_count").Scan(&free)
	if free != 0 {
		t.Errorf("%d free pages left in the file after the migration", free)
	}
	for _, want := range traces {
		got, err := s.Get(ctx, want.TraceID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("Get(%s) after migration:\n got %+v\nwant %+v", want.TraceID, got, want)
		}
	}
	for _, q := range []trace.Query{{Limit: trace.MaxLimit}, {Service: "shop", Order: trace.OrderSlowest}, {PathPrefix: "/api/"}} {
		got, err := s.Search(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if want := referenceSearch(traces, q); !reflect.DeepEqual(got, want) {
			t.Errorf("Search(%+v) after migration: %d results, want %d", q, len(got), len(want))
		}
	}

	// The migrated rows take part in everything as new ones do.
	more := newTraceMaker(7).makeN(50, end.Add(time.Minute))
	addAll(t, s, more)
	if err := s.ApplyRetention(ctx, time.Unix(0, traces[150].StartUnixNano).Add(DefaultMaxAge)); err != nil {
		t.Fatal(err)
	}
	if n := countRows(t, s); n != 150+50 {
		t.Errorf("%d rows after retention, want %d", n, 150+50)
	}
	if _, err := s.Get(ctx, more[0].TraceID); err != nil {
		t.Error(err)
	}
	s.Close()
	checkIntegrity(t, path)
}

// writeSchema4File creates path at schema version 4, as the build before
// migration 5 did, holding traces.
func writeSchema4File(t *testing.T, path string, traces []*trace.Trace) {
	t.Helper()
	ctx := context.Background()
	db, err := openWriter(path, DefaultMaxBytes)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, pragma := range []string{"PRAGMA auto_vacuum = INCREMENTAL", "PRAGMA journal_mode = WAL"} {
		if _, err := db.Exec(pragma); err != nil {
			t.Fatal(err)
		}
	}
	for v := range 4 {
		if err := migrate(ctx, db, v); err != nil {
			t.Fatal(err)
		}
	}
	for _, tr := range traces {
		_, err := db.Exec(`INSERT INTO traces (trace_id, start_ns, duration_ns, service, pool, host,
			method, path, status, error, incomplete, span_count, n_plus_one, spans)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			append(traceRow(tr), legacySpansColumn(t, tr.Spans))...)
		if err != nil {
			t.Fatal(err)
		}
	}
}
