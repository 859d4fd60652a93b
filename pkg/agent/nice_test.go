package agent

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tusk-php/tusk/pkg/discover"
)

// TestMain lets the test binary be the process the nice tests renice:
// started again with TUSK_NICE_HELPER=1 it idles, with the Go runtime's
// several threads, until killed.
func TestMain(m *testing.M) {
	if os.Getenv("TUSK_NICE_HELPER") == "1" {
		time.Sleep(time.Minute)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// startNiceHelper starts the helper and returns it as discover would.
func startNiceHelper(t *testing.T) discover.Process {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("putting a nice value back down needs CAP_SYS_NICE (run as root)")
	}
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "TUSK_NICE_HELPER=1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	pid := cmd.Process.Pid
	for deadline := time.Now().Add(5 * time.Second); len(taskNices(t, pid)) < 2; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the helper did not start its threads")
		}
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	start, err := strconv.ParseUint(strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))[19], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return discover.Process{PID: pid, StartTime: start}
}

// taskNices is the nice value of each thread of pid.
func taskNices(t *testing.T, pid int) map[int]int {
	t.Helper()
	tids, err := threadIDs(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		t.Fatal(err)
	}
	out := map[int]int{}
	for _, tid := range tids {
		if n, err := processNice(tid); err == nil {
			out[tid] = n
		}
	}
	return out
}

func allAt(t *testing.T, pid, want int) {
	t.Helper()
	for tid, n := range taskNices(t, pid) {
		if n != want {
			t.Fatalf("thread %d of %d runs at nice %d, want %d (all: %v)", tid, pid, n, want, taskNices(t, pid))
		}
	}
}

func testKeeper(t *testing.T, dir string) *niceKeeper {
	return newNiceKeeper(filepath.Join(dir, "traces.db.reniced.json"), "/proc", slog.New(slog.DiscardHandler))
}

func TestNiceKeeperRenicesEveryThreadAndPutsItBack(t *testing.T) {
	p := startNiceHelper(t)
	k := testKeeper(t, t.TempDir())
	if err := k.apply(p, 19); err != nil {
		t.Fatal(err)
	}
	allAt(t, p.PID, 19)
	b, err := os.ReadFile(k.path)
	if err != nil {
		t.Fatalf("nothing recorded: %v", err)
	}
	var rec []renicedProcess
	if err := json.Unmarshal(b, &rec); err != nil || len(rec) != 1 || rec[0] != (renicedProcess{PID: p.PID, StartTime: p.StartTime, Was: 0, Nice: 19}) {
		t.Fatalf("record %s (%v), want pid %d from 0 to 19", b, err, p.PID)
	}
	if err := k.apply(p, 10); err != nil { // a grant updated to another value
		t.Fatal(err)
	}
	allAt(t, p.PID, 10)
	if err := k.apply(p, 0); err != nil {
		t.Fatal(err)
	}
	allAt(t, p.PID, 0)
	if _, err := os.Stat(k.path); !os.IsNotExist(err) {
		t.Fatalf("the record outlived what it recorded: %v", err)
	}
}

// A process already at the value or above keeps its own; a thread someone
// reniced while deep mode was on keeps theirs when it ends.
func TestNiceKeeperLeavesWhatOthersSet(t *testing.T) {
	p := startNiceHelper(t)
	k := testKeeper(t, t.TempDir())
	for tid := range taskNices(t, p.PID) {
		if err := unix.Setpriority(unix.PRIO_PROCESS, tid, 5); err != nil {
			t.Fatal(err)
		}
	}
	if err := k.apply(p, 3); err != nil {
		t.Fatal(err)
	}
	allAt(t, p.PID, 5)
	if _, err := os.Stat(k.path); !os.IsNotExist(err) {
		t.Fatalf("nothing was changed, yet something was recorded: %v", err)
	}
	if err := k.apply(p, 19); err != nil {
		t.Fatal(err)
	}
	allAt(t, p.PID, 19)
	if err := unix.Setpriority(unix.PRIO_PROCESS, p.PID, 12); err != nil {
		t.Fatal(err)
	}
	k.restoreAll()
	for tid, n := range taskNices(t, p.PID) {
		if want := map[bool]int{true: 12, false: 5}[tid == p.PID]; n != want {
			t.Fatalf("thread %d at nice %d after deep mode, want %d", tid, n, want)
		}
	}
}

// An agent killed with deep mode on left its record: the next one puts the
// old values back, but not on a process that took over the PID since.
func TestNiceKeeperRecoversAfterACrash(t *testing.T) {
	p, q := startNiceHelper(t), startNiceHelper(t)
	dir := t.TempDir()
	crashed := testKeeper(t, dir)
	for _, x := range []discover.Process{p, q} {
		if err := crashed.apply(x, 19); err != nil {
			t.Fatal(err)
		}
	}
	// q's PID now "belongs to another process": its recorded start differs.
	crashed.done[q.PID] = renicedProcess{PID: q.PID, StartTime: q.StartTime + 1, Was: 0, Nice: 19}
	if err := crashed.saveLocked(); err != nil {
		t.Fatal(err)
	}

	next := testKeeper(t, dir)
	next.recover()
	allAt(t, p.PID, 0)
	allAt(t, q.PID, 19)
	if _, err := os.Stat(next.path); !os.IsNotExist(err) {
		t.Fatalf("the record is still there after recovery: %v", err)
	}
}

func TestNiceKeeperMovesAnUnreadableRecordAside(t *testing.T) {
	k := testKeeper(t, t.TempDir())
	if err := os.WriteFile(k.path, []byte(`[{"pid": 1, "was": -20`), 0o600); err != nil {
		t.Fatal(err)
	}
	k.recover()
	if _, err := os.Stat(k.path); !os.IsNotExist(err) {
		t.Fatalf("the unreadable record stayed in place: %v", err)
	}
	if _, err := os.Stat(k.path + ".corrupt"); err != nil {
		t.Fatalf("not moved aside: %v", err)
	}
	if len(k.done) != 0 {
		t.Fatalf("took %v from an unreadable record", k.done)
	}
}

// Nothing is reniced that could not be recorded first: a crash would leave
// it so for the process's life.
func TestNiceKeeperRenicesNothingItCannotRecord(t *testing.T) {
	p := startNiceHelper(t)
	k := testKeeper(t, filepath.Join(t.TempDir(), "missing"))
	err := k.apply(p, 19)
	if err == nil || !strings.Contains(err.Error(), "not reniced") {
		t.Fatalf("apply with an unwritable record: %v", err)
	}
	allAt(t, p.PID, 0)
	if len(k.done) != 0 {
		t.Fatalf("remembered %v", k.done)
	}
}
