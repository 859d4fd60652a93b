//go:build integration

package integration

import (
	"bytes"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite" // PRAGMA integrity_check on the agent's file

	"github.com/tusk-php/tusk/pkg/trace"
	"github.com/tusk-php/tusk/tests/stack"
)

// TestAgentDiskFullUnderLoad puts the agent's database on a small tmpfs and
// fills it while PHP is under load. The agent says so once and plainly, goes
// on serving its API and tracing (the traces wait in memory), writes them
// all once space is freed, and leaves a sound file behind that a restarted
// agent opens as it is. PHP notices nothing.
func TestAgentDiskFullUnderLoad(t *testing.T) {
	s := startFixture(t, stack.StackOptions{Workers: 2})
	dir := tempDir(t, "tusk-agent-tmpfs-")
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Fatalf("mount a tmpfs on %s: %v %s", dir, err, out)
	}
	t.Cleanup(func() { // after the agents' cleanups: they were registered later
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", dir, err, out)
		}
	})
	a := launchAgent(t, dir, "--pid", fmt.Sprint(s.FPM.MasterPID))
	a.waitTracing(t, s)

	// Every request has its own path (index.php answers them all), so its
	// trace is found by path.
	var paths []string
	load := func(phase string, n int) {
		t.Helper()
		batch := make([]string, n)
		for i := range batch {
			batch[i] = fmt.Sprintf("/shop/%s/%d", phase, len(paths)+i)
		}
		if failed := getAll(s, batch, 4); len(failed) > 0 {
			t.Fatalf("PHP failed %d of %d requests while the agent's disk was %s: %v", len(failed), n, phase, failed[:min(len(failed), 5)])
		}
		paths = append(paths, batch...)
	}
	load("free", 40)
	a.waitSettled(t, len(paths))
	before, err := a.client.Status(t.Context())
	if err != nil {
		t.Fatal(err)
	}

	filler := filepath.Join(dir, "filler")
	fillBytes, err := fill(filler)
	if err != nil {
		t.Fatal(err)
	}
	// SQLite reuses the WAL and free pages it has: send load until a write
	// fails, then some more, all while the disk stays full.
	for i := 0; ; i++ {
		load("full", 50)
		if st, err := a.client.Status(t.Context()); err == nil && st.Store.WriteErrors > 0 {
			break
		}
		if i == 20 {
			t.Fatalf("no store write failed after %d requests on a full disk", 50*(i+1))
		}
	}
	load("full", 100)
	text := scrapeMetrics(t, a) // the API still answers
	full, err := a.client.Status(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	assembled, written, dropped := metric(text, "tusk_traces_total"), metric(text, "tusk_store_written_total"), metric(text, "tusk_store_dropped_total")
	queued := assembled - written - dropped
	if !strings.Contains(full.Store.LastError, "disk full") || full.Store.Dropped != 0 || int(queued) < 100 {
		t.Errorf("on a full disk: store %+v; %v traces assembled, %v written, %v dropped, %v queued", full.Store, assembled, written, dropped, queued)
	}
	if sums, err := a.client.Search(t.Context(), trace.Query{Limit: trace.MaxLimit}); err != nil || len(sums) < 40 {
		t.Errorf("search on a full disk: %d traces, %v", len(sums), err)
	}
	if failing := logLines(a.log.String(), "writing traces failed"); len(failing) != 1 || !strings.Contains(failing[0], "disk full") {
		t.Errorf("want one log line saying the disk is full, got %d:\n%s", len(failing), strings.Join(failing, "\n"))
	}
	for _, line := range logLines(a.log.String(), "level=ERROR") { // profiles may fail to be written too: say so as plainly
		if !strings.Contains(line, "disk full") {
			t.Errorf("an error that does not say the disk is full: %s", line)
		}
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	a.waitSettled(t, len(paths))
	after, err := a.client.Status(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	checkOneTracePerPath(t, a, paths)
	if after.Store.Dropped != 0 || len(logLines(a.log.String(), "writing traces works again")) != 1 {
		t.Errorf("after freeing space: store %+v; log:\n%s", after.Store, strings.Join(logLines(a.log.String(), "level=ERROR", "level=WARN", "works again"), "\n"))
	}
	if err := a.stop(); err != nil {
		t.Fatalf("agent stop: %v", err)
	}
	db := filepath.Join(dir, "traces.db")
	if res := integrityCheck(t, db); res != "ok" {
		t.Fatalf("PRAGMA integrity_check of %s after the disk was full: %s", db, res)
	}

	// Restarted on the same file, the agent opens it as it is.
	b := launchAgent(t, dir, "--pid", fmt.Sprint(s.FPM.MasterPID))
	b.waitTracing(t, s)
	load("reopened", 1)
	b.waitSettled(t, 1)
	if moved := logLines(b.log.String(), "damaged"); len(moved) > 0 {
		t.Fatalf("the restarted agent found its file damaged: %s", moved)
	}
	checkOneTracePerPath(t, b, paths)
	t.Logf("filled %d KiB; before: %d traces written; full: %d write errors, %v traces assembled, %v written, %v queued in memory, %d dropped (%q); after freeing: %d written, %d dropped; restart: integrity ok, %d traces",
		fillBytes>>10, before.Store.Written, full.Store.WriteErrors, assembled, written, queued, full.Store.Dropped, full.Store.LastError,
		after.Store.Written, after.Store.Dropped, len(paths))
}

// TestAgentStartsOnACorruptDB: a garbage file where the database should be
// is moved aside with one message naming both places, and the agent starts
// on a fresh store and traces.
func TestAgentStartsOnACorruptDB(t *testing.T) {
	s := startFixture(t, stack.StackOptions{})
	dir := tempDir(t, "tusk-agent-")
	db := filepath.Join(dir, "traces.db")
	garbage := bytes.Repeat([]byte("this is not a database\n"), 2000)
	if err := os.WriteFile(db, garbage, 0o600); err != nil {
		t.Fatal(err)
	}
	a := launchAgent(t, dir, "--pid", fmt.Sprint(s.FPM.MasterPID))
	a.waitTracing(t, s)

	damaged := logLines(a.log.String(), "damaged")
	moved, _ := filepath.Glob(db + ".corrupt-*")
	if len(damaged) != 1 || len(moved) != 1 || !strings.Contains(damaged[0], "path="+db+" ") ||
		!strings.Contains(damaged[0], "moved_to="+moved[0]) || !strings.Contains(damaged[0], "not an SQLite database") {
		t.Fatalf("want one line naming %s and where it went (%v):\n%s", db, moved, a.log.String())
	}
	if kept, err := os.ReadFile(moved[0]); err != nil || !bytes.Equal(kept, garbage) {
		t.Errorf("%s does not hold the original file: %v", moved[0], err)
	}
	if errs := logLines(a.log.String(), "level=ERROR"); len(errs) != 1 {
		t.Errorf("want the one error, got:\n%s", strings.Join(errs, "\n"))
	}
	st, err := a.client.Status(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if st.Store.Path != db || st.Store.Traces != 0 {
		t.Errorf("store %+v, want an empty one at %s", st.Store, db)
	}
	if code, _ := get(t, s, "/shop/cart?id=7"); code != 200 {
		t.Fatalf("HTTP %d", code)
	}
	tr := a.onlyTrace(t, "/shop/cart")
	a.waitSettled(t, 1)
	if res := integrityCheck(t, db); res != "ok" {
		t.Errorf("integrity_check of the fresh store: %s", res)
	}
	t.Logf("%s moved to %s; fresh store traced %s %s (%d)", db, moved[0], tr.Method, tr.Path, tr.StatusCode)
}

// getAll sends GET requests for paths from clients concurrent clients and
// returns the failures.
func getAll(s *stack.Stack, paths []string, clients int) []string {
	var mu sync.Mutex
	var failed []string
	var wg sync.WaitGroup
	next := make(chan string)
	client := &http.Client{Timeout: 10 * time.Second}
	for range clients {
		wg.Go(func() {
			for p := range next {
				resp, err := client.Get(s.URL() + p)
				code := 0
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					code = resp.StatusCode
				}
				if err != nil || code != 200 {
					mu.Lock()
					failed = append(failed, fmt.Sprintf("%s: %d %v", p, code, err))
					mu.Unlock()
				}
			}
		})
	}
	for _, p := range paths {
		next <- p
	}
	close(next)
	wg.Wait()
	return failed
}

// fill writes zeros to path until the file system is full, and returns how
// much it wrote.
func fill(path string) (int64, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	n, err := io.Copy(f, zeros{})
	if !errors.Is(err, syscall.ENOSPC) {
		return n, fmt.Errorf("filling %s: %v after %d bytes, want ENOSPC", path, err, n)
	}
	return n, nil
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// logLines returns the lines of log that contain one of subs.
func logLines(log string, subs ...string) []string {
	if s := grepLines(log, subs...); s != "" {
		return strings.Split(s, "\n")
	}
	return nil
}

// checkOneTracePerPath asserts that each path has exactly one trace, with
// status 200.
func checkOneTracePerPath(t *testing.T, a *agentProc, paths []string) {
	t.Helper()
	sums, err := a.client.Search(t.Context(), trace.Query{Limit: trace.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, s := range sums {
		seen[s.Path]++
		if s.StatusCode != 200 || s.Incomplete {
			t.Errorf("trace of %s: status %d, incomplete %v", s.Path, s.StatusCode, s.Incomplete)
		}
	}
	var wrong []string
	for _, p := range paths {
		if seen[p] != 1 {
			wrong = append(wrong, fmt.Sprintf("%s: %d", p, seen[p]))
		}
	}
	if len(wrong) > 0 || len(sums) != len(paths) {
		t.Errorf("%d traces for %d requests; traces per path, where not 1: %v", len(sums), len(paths), wrong[:min(len(wrong), 10)])
	}
}

// integrityCheck runs SQLite's full check on a database file (a consistent
// snapshot of it, if the agent is writing).
func integrityCheck(t *testing.T, path string) string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var lines []string
	rows, err := db.QueryContext(t.Context(), "PRAGMA integrity_check")
	if err != nil {
		return err.Error()
	}
	defer rows.Close()
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return err.Error()
		}
		lines = append(lines, line)
	}
	if err := rows.Err(); err != nil {
		return err.Error()
	}
	return strings.Join(lines, "; ")
}
