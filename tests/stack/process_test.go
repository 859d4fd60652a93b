package stack

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func spawnShell(t *testing.T, script string, stopTimeout time.Duration) *process {
	t.Helper()
	p, err := spawn(spawnSpec{
		Name:        "sh",
		Argv:        []string{"sh", "-c", script},
		Output:      filepath.Join(t.TempDir(), "out.log"),
		StopSignal:  syscall.SIGTERM,
		StopTimeout: stopTimeout,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Kill(-p.PID, syscall.SIGKILL) })
	return p
}

// waitChildren waits until the shell has started its background children.
func waitChildren(t *testing.T, p *process, n int) []procStat {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		members := groupMembers(p.PID, p.StartTime)
		if len(members) >= n {
			return members
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d children of %d started", len(members), n, p.PID)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestStopGraceful(t *testing.T) {
	p := spawnShell(t, "sleep 30", 5*time.Second)
	start := time.Now()
	if err := p.Stop(); err != nil {
		t.Fatal(err)
	}
	if p.Alive() {
		t.Error("still alive after Stop")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("graceful stop took %v", d)
	}
	if err := p.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
}

func TestStopKillsGroupWhenSignalIgnored(t *testing.T) {
	p := spawnShell(t, `trap "" TERM; sleep 30 & wait`, 200*time.Millisecond)
	kids := waitChildren(t, p, 1)
	if err := p.Stop(); err != nil {
		t.Fatal(err)
	}
	for _, k := range kids {
		if processAlive(k.PID, k.StartTime) {
			t.Errorf("child %d survived", k.PID)
		}
	}
}

func TestStopReapsChildrenTheLeaderLeft(t *testing.T) {
	// The shell exits on TERM but its background sleep (same group) would live on.
	p := spawnShell(t, `trap "exit 0" TERM; sleep 30 & wait`, 5*time.Second)
	kids := waitChildren(t, p, 1)
	if err := p.Stop(); err != nil {
		t.Fatal(err)
	}
	for _, k := range kids {
		if processAlive(k.PID, k.StartTime) {
			t.Errorf("orphaned child %d survived", k.PID)
		}
	}
}

func TestAdoptedStopByPID(t *testing.T) {
	p := spawnShell(t, "sleep 30", 5*time.Second)
	adopted := adopt(p.Record())
	if !adopted.Alive() {
		t.Fatal("adopted process should be alive")
	}
	if err := adopted.Stop(); err != nil {
		t.Fatal(err)
	}
	<-p.Exited()
	if adopted.Alive() {
		t.Error("still alive after Stop")
	}
}

func TestAdoptedDoesNotSignalReusedPID(t *testing.T) {
	p := spawnShell(t, "sleep 30", 5*time.Second)
	r := p.Record()
	r.StartTime++ // as if the PID now belonged to another process
	if err := adopt(r).Stop(); err != nil {
		t.Fatal(err)
	}
	if !p.Alive() {
		t.Error("a process with another start time was signalled")
	}
}

func TestExitReportNamesStatus(t *testing.T) {
	p := spawnShell(t, "exit 3", time.Second)
	<-p.Exited()
	if got := p.exitReport(); !strings.Contains(got, "exit status 3") {
		t.Errorf("exitReport = %q", got)
	}
}
