package store

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tusk-php/tusk/pkg/trace"
)

const crashChildEnv = "TUSK_STORE_CRASH_CHILD"

// TestCrashSurvivesKill9 runs a child process (this test binary again) that
// writes traces as fast as it can and prints each row count it has seen
// Flush acknowledge; the test kills it with SIGKILL, at a different moment
// each time, and checks the file: intact, and holding every acknowledged
// trace. The same file goes through all the kills, so each child also
// starts from a crashed file.
func TestCrashSurvivesKill9(t *testing.T) {
	if path := os.Getenv(crashChildEnv); path != "" {
		runCrashChild(path)
		return
	}
	if testing.Short() {
		t.Skip("starts child processes")
	}
	path := filepath.Join(t.TempDir(), "traces.db")
	for i, acks := range []int{2, 5, 9} {
		acked := runAndKill(t, path, acks, time.Duration(2+5*i)*time.Millisecond)
		checkIntegrity(t, path)
		rows := rowsIn(t, path)
		t.Logf("kill %d: acknowledged %d, found %d rows", i+1, acked, rows)
		if rows < acked {
			t.Fatalf("kill %d: %d rows, but %d were acknowledged", i+1, rows, acked)
		}
	}
	if moved, _ := filepath.Glob(path + ".corrupt-*"); len(moved) != 0 {
		t.Errorf("a child found the file damaged: %v", moved)
	}
}

// runAndKill starts a child on path, lets it acknowledge acks batches, waits
// delay more (so the kill lands somewhere in a write), kills it, and
// returns the last row count it acknowledged.
func runAndKill(t *testing.T, path string, acks int, delay time.Duration) int64 {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashSurvivesKill9$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var acked int64
	lines := bufio.NewScanner(out)
	for seen := 0; seen < acks && lines.Scan(); {
		if n, ok := strings.CutPrefix(lines.Text(), "acked "); ok {
			acked, _ = strconv.ParseInt(n, 10, 64)
			seen++
		}
	}
	time.Sleep(delay)
	cmd.Process.Signal(syscall.SIGKILL)
	// Acknowledgements printed before the kill count too.
	for lines.Scan() {
		if n, ok := strings.CutPrefix(lines.Text(), "acked "); ok {
			acked, _ = strconv.ParseInt(n, 10, 64)
		}
	}
	err = cmd.Wait()
	if status, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || status.Signal() != syscall.SIGKILL {
		t.Fatalf("child did not die by SIGKILL: %v", err)
	}
	if acked == 0 {
		t.Fatal("child acknowledged nothing")
	}
	return acked
}

// runCrashChild writes until killed, printing "acked N" after each Flush,
// N being the rows the file then holds.
func runCrashChild(path string) {
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	s, err := Open(path, Options{BatchSize: 50, FlushInterval: time.Millisecond, Logger: logger})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(2)
	}
	rows := s.Stats().Traces
	// Made up front, so that the child spends its time writing and the
	// kill lands in a write rather than in the fixture code.
	templates := newTraceMaker(uint64(time.Now().UnixNano())).makeN(300, time.Now())
	for i := 0; ; i++ {
		batch := make([]*trace.Trace, 100)
		for j := range batch {
			tr := *templates[(i*len(batch)+j)%len(templates)]
			tr.TraceID = trace.NewTraceID()
			batch[j] = &tr
			s.Add(&tr)
		}
		if err := s.Flush(context.Background()); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(2)
		}
		rows += int64(len(batch))
		fmt.Printf("acked %d\n", rows)
	}
}

func rowsIn(t *testing.T, path string) int64 {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int64
	if err := db.QueryRow("SELECT count(*) FROM traces").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
