//go:build integration

package stack

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestFixtureIOPages starts the fixture with MariaDB, Redis, memcached and the upstream pool and checks
// every io/ page's JSON summary, so a broken page shows up here and not as a missing span elsewhere.
func TestFixtureIOPages(t *testing.T) {
	requireServices(t, "php-fpm8.2", "nginx", "mariadbd", "mariadb-install-db", "redis-server", "memcached")
	t.Parallel()
	dir := stackDir(t)
	started := time.Now()
	s, err := StartFixture(t.Context(), dir, StackOptions{}.WithIO())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop() })
	t.Logf("fixture stack with services up in %v at %s", time.Since(started).Round(time.Millisecond), s.URL())

	st := s.State()
	if st.MariaDB == nil || st.Redis == nil || st.Memcached == nil || len(st.Processes) != 5 {
		t.Errorf("state.json = %+v", st)
	}
	if got := len(s.FPM.WorkerPIDs(UpstreamPool)); got != 2 {
		t.Errorf("%d upstream workers, want 2", got)
	}
	rows, err := s.DB.Query(t.Context(), "SELECT (SELECT COUNT(*) FROM tusk_fixture.posts), (SELECT COUNT(*) FROM tusk_fixture.comments)")
	if err != nil {
		t.Fatal(err)
	}
	if rows[0][0] != "20" || rows[0][1] != "60" {
		t.Errorf("posts, comments = %v, want 20, 60", rows[0])
	}

	for _, tc := range []struct {
		path   string
		status int
		body   string
	}{
		{"/upstream/ok", 200, "upstream ok\n"},
		{"/upstream/missing", 404, "upstream missing\n"},
		{"/upstream/slow", 200, "upstream slow\n"},
		{"/upstream/other", 404, "no such upstream\n"},
		{"/upstream/x.php", 404, "no such upstream\n"},
	} {
		status, body := get(t, s.URL()+tc.path)
		if status != tc.status || body != tc.body {
			t.Errorf("GET %s = %d %q, want %d %q", tc.path, status, body, tc.status, tc.body)
		}
	}

	pages := []struct {
		path string
		want string // the page's JSON summary, compared as parsed JSON
	}{
		{"/io/sql.php", `{"page":"sql",
			"mysqli":{"count":20,"latest":[20,19,18,17,16],"title":"Post 3","error":1146,
				"n_plus_one":{"posts":8,"comments":24},"owner":"alice"},
			"pdo":{"titles":["Post 1","Post 2","Post 3"],"title":"Post 7","updated":1}}`},
		{"/io/wrapped.php", `{"page":"wrapped","count":20,"titles":["Post 1","Post 2","Post 3"],"comments":[3,3,3],"queries":5}`},
		{"/io/http.php", `{"page":"http",
			"ok":{"status":200,"body":"upstream ok"},"missing":{"status":404,"body":"upstream missing"},
			"guzzle":{"status":200,"body":"upstream slow"},"multi":[200,200],
			"refused":{"ok":false,"errno":7},"stream":{"status":200,"body":"upstream ok"},"secrets":{"status":200}}`},
		{"/io/redis.php", `{"page":"redis","greeting":"hello","user":{"name":"alice","role":"admin"},"visits":2,"missing":true,"deleted":3}`},
		{"/io/memcached.php", `{"page":"memcached","stored":true,"a":"alpha","multi":{"fixture:a":"alpha","fixture:b":"beta"},"forgotten":true}`},
	}
	for round := range 2 { // the second round checks the pages leave nothing behind that changes them
		for _, p := range pages {
			status, body := get(t, s.URL()+p.path)
			if round == 0 {
				t.Logf("GET %s: %d %s", p.path, status, strings.TrimSpace(body))
			}
			var got, want any
			if err := json.Unmarshal([]byte(p.want), &want); err != nil {
				t.Fatalf("%s: bad expectation: %v", p.path, err)
			}
			if status != http.StatusOK || json.Unmarshal([]byte(body), &got) != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("round %d: GET %s = %d %s\nwant 200 %s", round, p.path, status, body, strings.Join(strings.Fields(p.want), ""))
			}
		}
	}
	if t.Failed() {
		t.Logf("php-fpm log:\n%s", s.FPM.LogTail())
	}
	if tail := tailFile(s.FPM.ErrorLog, 200); strings.Contains(tail, "PHP ") {
		t.Errorf("the io/ pages made PHP complain:\n%s", tail)
	}
	t0 := time.Now()
	if status, _ := get(t, s.URL()+"/upstream/slow"); status != http.StatusOK || time.Since(t0) < 50*time.Millisecond {
		t.Errorf("GET /upstream/slow = %d after %v, want 200 after >= 50 ms", status, time.Since(t0))
	}
	if status, body := get(t, s.URL()+"/io/http.php"); status == http.StatusOK {
		if strings.Contains(body, "secret-token") {
			t.Errorf("http.php leaks: %s", body)
		}
	}
	rows, err = s.DB.Query(t.Context(), "SELECT views FROM tusk_fixture.posts WHERE id = 1")
	if err != nil || rows[0][0] != "2" {
		t.Errorf("posts.views of post 1 after two sql.php = %v (%v), want 2", rows, err)
	}

	recs := recordedPIDs(s.State())
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	assertGone(t, recs)
}

// TestFixtureIOPagesWithoutServices: pages whose service was not started answer 503 with a JSON error,
// and /upstream/slow is served by the fixture's own pool.
func TestFixtureIOPagesWithoutServices(t *testing.T) {
	requireServices(t, "php-fpm8.2", "nginx")
	t.Parallel()
	s, err := StartFixture(t.Context(), stackDir(t), StackOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop() })
	for _, path := range []string{"/io/sql.php", "/io/wrapped.php", "/io/redis.php", "/io/memcached.php"} {
		status, body := get(t, s.URL()+path)
		if status != http.StatusServiceUnavailable || !strings.Contains(body, `"error":`) {
			t.Errorf("GET %s = %d %q, want 503 with a JSON error", path, status, body)
		}
	}
	if status, body := get(t, s.URL()+"/upstream/slow"); status != http.StatusOK || body != "upstream slow\n" {
		t.Errorf("GET /upstream/slow = %d %q", status, body)
	}
	if status, body := get(t, s.URL()+"/io/http.php"); status != http.StatusOK || !strings.Contains(body, `"multi":[200,200]`) {
		t.Errorf("GET /io/http.php = %d %s", status, body)
	}
}
