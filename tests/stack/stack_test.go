//go:build integration

// Integration tests: real php-fpm, nginx, MariaDB and WordPress on loopback. Run as root:
//
//	go test -tags integration -count=1 ./tests/stack/...
package stack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// requireServices skips unless we are root and the Debian binaries are installed.
func requireServices(t *testing.T, binaries ...string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: php-fpm and nginx workers run as www-data")
	}
	for _, b := range binaries {
		if _, err := exec.LookPath(b); err != nil {
			t.Skipf("%s not installed: %v", b, err)
		}
	}
}

// stackDir is a fresh base dir that www-data can traverse (t.TempDir is 0700 under a 0700 parent).
func stackDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "tusk-stack-test-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := httpClient.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// recordedPIDs lists every PID the stack recorded: service masters plus the php-fpm workers.
func recordedPIDs(st State) []ProcessRecord {
	recs := append([]ProcessRecord(nil), st.Processes...)
	if st.FPM != nil {
		for _, pid := range st.FPM.WorkerPIDs {
			if s, err := readProcStat(pid); err == nil {
				recs = append(recs, ProcessRecord{Name: "php-fpm worker", PID: pid, StartTime: s.StartTime})
			}
		}
	}
	return recs
}

func assertGone(t *testing.T, recs []ProcessRecord) {
	t.Helper()
	for _, r := range recs {
		if r.Alive() {
			t.Errorf("%s (pid %d) still running after Stop", r.Name, r.PID)
		}
	}
}

func TestFixtureStack(t *testing.T) {
	requireServices(t, "php-fpm8.2", "nginx")
	t.Parallel()
	dir := stackDir(t)
	started := time.Now()
	s, err := StartFixture(t.Context(), dir, StackOptions{
		FPMEnv:        []string{"USE_ZEND_DTRACE=1"},
		FastCGIParams: []FastCGIParam{{"TUSK_PARAM", "from-nginx"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop() })
	t.Logf("fixture stack up in %v at %s", time.Since(started).Round(time.Millisecond), s.URL())

	for _, tc := range []struct {
		path   string
		status int
		body   string
	}{
		{"/index.php", http.StatusOK, "ok total=120\n"},
		{"/notfound.php", http.StatusNotFound, "not found\n"},
		{"/error.php", http.StatusInternalServerError, ""},
		{"/status.php?code=503", http.StatusServiceUnavailable, "status 503\n"},
		{"/caught.php", http.StatusOK, "caught caught\n"},
		{"/recursion.php?n=6", http.StatusOK, "fib(6) = 8\n"},
		{"/sleep.php?ms=5", http.StatusOK, "slept 5 ms\n"},
		{"/env.php?name=USE_ZEND_DTRACE", http.StatusOK, "USE_ZEND_DTRACE=1\n"},
		{"/env.php?name=TUSK_PARAM", http.StatusOK, "TUSK_PARAM=from-nginx\n"},
		{"/no-such-file.php", http.StatusNotFound, ""},
	} {
		status, body := get(t, s.URL()+tc.path)
		if status != tc.status || (tc.body != "" && body != tc.body) {
			t.Errorf("GET %s = %d %q, want %d %q", tc.path, status, body, tc.status, tc.body)
		}
	}
	if status, body := get(t, s.URL()+"/burn.php?ms=30"); status != http.StatusOK || !strings.HasPrefix(body, "burned 30 ms") {
		t.Errorf("GET /burn.php?ms=30 = %d %q", status, body)
	}
	if tail := s.FPM.LogTail(); !strings.Contains(tail, "Uncaught RuntimeException: boom") {
		t.Errorf("php-fpm log lacks the uncaught exception:\n%s", tail)
	}

	st, err := LoadState(dir)
	if err != nil {
		t.Fatal(err)
	}
	if st.URL != s.URL() || !st.Ready || len(st.FPM.WorkerPIDs) != 2 || len(st.Processes) != 2 {
		t.Errorf("state.json = %+v", st)
	}
	recs := recordedPIDs(*st)
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	assertGone(t, recs)
	if _, err := os.Stat(StatePath(dir)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("state.json left behind: %v", err)
	}
	if err := s.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
}

func TestSecondStartInSameDirIsRefusedAndStopDirStops(t *testing.T) {
	requireServices(t, "php-fpm8.2", "nginx")
	t.Parallel()
	dir := stackDir(t)
	s, err := StartFixture(t.Context(), dir, StackOptions{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop() })
	if _, err := StartFixture(t.Context(), dir, StackOptions{}); !errors.Is(err, ErrAlreadyRunning) {
		t.Errorf("second start: err = %v, want ErrAlreadyRunning", err)
	}
	if status, _ := get(t, s.URL()+"/index.php"); status != http.StatusOK {
		t.Errorf("first stack disturbed by the refused start: GET /index.php = %d", status)
	}
	recs := recordedPIDs(s.State())
	// As `tusk-stack down` does it from another process: by PID from state.json.
	if err := StopDir(t.Context(), dir); err != nil {
		t.Fatal(err)
	}
	assertGone(t, recs)
	if err := StopDir(t.Context(), dir); err != nil {
		t.Errorf("StopDir of a stopped stack: %v", err)
	}
}

func TestFPMReloadReplacesWorkers(t *testing.T) {
	requireServices(t, "php-fpm8.2")
	t.Parallel()
	dir := stackDir(t)
	f, err := StartFPM(t.Context(), FPMOptions{Dir: dir, Pools: []Pool{{Name: "a", Workers: 1}, {Name: "b", Workers: 3}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Stop() })
	before := append(f.WorkerPIDs("a"), f.WorkerPIDs("b")...)
	if len(before) != 4 || f.Listen("a") == "" || f.Listen("a") == f.Listen("b") {
		t.Fatalf("workers %v, listen a=%q b=%q", before, f.Listen("a"), f.Listen("b"))
	}
	if err := f.Reload(t.Context()); err != nil {
		t.Fatal(err)
	}
	after := append(f.WorkerPIDs("a"), f.WorkerPIDs("b")...)
	for _, old := range before {
		for _, now := range after {
			if old == now {
				t.Errorf("worker %d survived the reload (before %v, after %v)", old, before, after)
			}
		}
	}
	if err := f.Stop(); err != nil {
		t.Fatal(err)
	}
	for _, pid := range append(after, f.MasterPID) {
		if processAlive(pid, 0) {
			t.Errorf("pid %d still running after Stop", pid)
		}
	}
}

func TestStartFPMReportsBadConfig(t *testing.T) {
	requireServices(t, "php-fpm8.2")
	t.Parallel()
	_, err := StartFPM(t.Context(), FPMOptions{Dir: stackDir(t), Pools: []Pool{{Name: "x", User: "no-such-user-tusk"}}})
	if err == nil || !strings.Contains(err.Error(), "no-such-user-tusk") {
		t.Errorf("err = %v, want one quoting php-fpm's complaint about the user", err)
	}
}

func TestWordPressStack(t *testing.T) {
	requireServices(t, "php-fpm8.2", "nginx", "mariadbd", "mariadb-install-db")
	if _, err := os.Stat(wordpressRoot + "/wp-settings.php"); err != nil {
		t.Skipf("Debian's wordpress package is not installed: %v", err)
	}
	t.Parallel()
	dir := stackDir(t)
	var allRecs []ProcessRecord
	for round, name := range []string{"fresh install", "restart reusing the database"} {
		started := time.Now()
		s, err := StartWordPress(t.Context(), dir, StackOptions{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		t.Logf("wordpress stack (%s) up in %v at %s", name, time.Since(started).Round(time.Millisecond), s.URL())
		t.Cleanup(func() { _ = s.Stop() })

		status, body := get(t, s.URL()+"/")
		if status != http.StatusOK || !strings.Contains(body, "<title>Tusk Test Blog") {
			t.Errorf("%s: GET / = %d, title missing: %.300s", name, status, body)
		}
		status, body = get(t, s.URL()+"/?s=hello")
		if status != http.StatusOK || !strings.Contains(body, "Hello from Tusk") {
			t.Errorf("%s: GET /?s=hello = %d, post missing: %.300s", name, status, body)
		}
		rows, err := s.DB.Query(t.Context(), "SELECT COUNT(*) FROM wordpress.wp_posts WHERE post_type = 'post' AND post_status = 'publish'")
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprint(len(DefaultPosts) + 1); rows[0][0] != want { // + WordPress's "Hello world!"
			t.Errorf("%s: %s published posts, want %s", name, rows[0][0], want)
		}
		conf := s.State().WordPressConfigFiles
		if round == 0 {
			if _, err := os.Stat(conf[0]); err != nil {
				t.Errorf("config file: %v", err)
			}
		}

		recs := recordedPIDs(s.State())
		allRecs = append(allRecs, recs...)
		if err := s.Stop(); err != nil {
			t.Fatal(err)
		}
		assertGone(t, recs)
		if _, err := os.Stat(conf[0]); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s left behind: %v", conf[0], err)
		}
	}
	assertGone(t, allRecs)
}

func TestInstallWordPressNeedsDBAndURL(t *testing.T) {
	err := InstallWordPress(context.Background(), WordPressOptions{})
	if err == nil {
		t.Error("want an error without DB and URL")
	}
}
