package store

import (
	"context"
	"database/sql"
	"path/filepath"
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
		query, args := searchSQL(&q)
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
