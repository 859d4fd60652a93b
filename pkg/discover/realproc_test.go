package discover

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Tests on the real /proc with real PHP processes.

func TestScanRealFPM(t *testing.T) {
	bin := realFPMBinary(t)
	conf, errorLog := writeFPMConfig(t)
	master := startFPM(t, exec.Command(bin, "-F", "-y", conf), errorLog)
	wantID, err := statBinaryID(bin)
	must(t, err)
	ns := ownMountNS(t)

	procs, err := Scan(Options{PIDs: []int{master}})
	if err != nil {
		t.Fatal(err)
	}
	if len(procs) != 1+fpmWorkers {
		t.Fatalf("Scan(PIDs: master) = %+v, want the master and %d workers", procs, fpmWorkers)
	}
	for _, p := range procs {
		if p.BinaryID != wantID || p.Exe != bin || p.MountNS != ns || p.StartTime == 0 ||
			p.ExeOpenPath != "/proc/"+strconv.Itoa(p.PID)+"/exe" {
			t.Errorf("process %+v: want binary %v (%s) in %s", p, wantID, bin, ns)
		}
		switch {
		case p.PID == master:
			if p.Role != RoleFPMMaster || !strings.HasPrefix(p.Cmdline, "php-fpm: master process (") {
				t.Errorf("master = %+v", p)
			}
		case p.Role != RoleFPMWorker || p.Pool != "disc" || p.PPID != master || p.Cmdline != "php-fpm: pool disc":
			t.Errorf("worker = %+v", p)
		}
	}

	// The unfiltered scan finds the same processes among any others.
	all, err := Scan(Options{})
	if _, denied := errors.AsType[*DeniedError](err); err != nil && !denied {
		t.Fatal(err)
	}
	for _, p := range procs {
		if !slices.Contains(all, p) {
			t.Errorf("Scan(all) lacks %+v", p)
		}
	}

	groups := Group(procs)
	if len(groups) != 1 || len(groups[0].Pools) != 1 {
		t.Fatalf("Group = %+v, want one binary with one pool", groups)
	}
	g := groups[0].Pools[0]
	if groups[0].ID != wantID || g.Name != "disc" || g.MasterPID != master || len(g.Workers) != fpmWorkers {
		t.Errorf("Group = %+v", groups)
	}
	f, err := os.Open(groups[0].OpenPath)
	must(t, err)
	f.Close()
}

func TestWatcherSeesARealWorkerRespawn(t *testing.T) {
	bin := realFPMBinary(t)
	conf, errorLog := writeFPMConfig(t)
	master := startFPM(t, exec.Command(bin, "-F", "-y", conf), errorLog)

	ctx, cancel := context.WithCancel(t.Context())
	changes := make(chan Change, 64)
	done := make(chan error, 1)
	go func() {
		done <- NewWatcher(Options{PIDs: []int{master}}, 5*time.Millisecond).Run(ctx, func(c Change) {
			select {
			case changes <- c:
			case <-ctx.Done():
			}
		})
	}()
	defer func() { cancel(); <-done }()

	var first Change
	select {
	case first = <-changes:
	case <-time.After(10 * time.Second):
		t.Fatal("no first change")
	}
	if len(first.Added) != 1+fpmWorkers || len(first.Removed) != 0 {
		t.Fatalf("first change = %+v, want the master and %d workers added", first, fpmWorkers)
	}
	var victim Process
	for _, p := range first.Added {
		if p.Role == RoleFPMWorker {
			victim = p
			break
		}
	}
	must(t, syscall.Kill(victim.PID, syscall.SIGKILL))

	removed, replaced := false, false
	timeout := time.After(10 * time.Second)
	for !removed || !replaced {
		select {
		case c := <-changes:
			for _, p := range c.Removed {
				removed = removed || p.PID == victim.PID && p.StartTime == victim.StartTime
			}
			for _, p := range c.Added {
				replaced = replaced || p.Role == RoleFPMWorker && p.Pool == "disc" && p.PPID == master &&
					!slices.ContainsFunc(first.Added, func(q Process) bool { return q.PID == p.PID && q.StartTime == p.StartTime })
			}
		case <-timeout:
			t.Fatalf("after killing worker %d: removed %v, replacement added %v", victim.PID, removed, replaced)
		}
	}
}

func TestScanRealCLIOnlyWhenAsked(t *testing.T) {
	bin, err := exec.LookPath("php8.2")
	if err != nil {
		t.Skip("php8.2 is not installed")
	}
	cmd := exec.Command(bin, "-r", "sleep(5);")
	must(t, cmd.Start()) // returns once the exec is done
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	pid := cmd.Process.Pid
	// Start returns when exec has closed the close-on-exec pipe, a moment
	// before the kernel sets up the new arguments: until then cmdline reads
	// empty.
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline"); len(b) > 0 {
			break
		}
	}

	if procs, err := Scan(Options{PIDs: []int{pid}}); err != nil || len(procs) != 0 {
		t.Errorf("Scan without CLI = %+v, %v; want nothing", procs, err)
	}
	if _, err := Lookup(Options{}, pid); !errors.Is(err, ErrCLIOff) {
		t.Errorf("Lookup without CLI = %v, want ErrCLIOff", err)
	}
	procs, err := Scan(Options{PIDs: []int{pid}, CLI: true})
	if err != nil || len(procs) != 1 {
		t.Fatalf("Scan with CLI = %+v, %v; want the php process", procs, err)
	}
	p := procs[0]
	if p.Role != RoleCLI || filepath.Base(p.Exe) != "php8.2" || !strings.Contains(p.Cmdline, "sleep(5);") {
		t.Errorf("cli process = %+v", p)
	}
}

func TestLookupRealNonPHP(t *testing.T) {
	self, err := os.Executable()
	must(t, err)
	_, err = Lookup(Options{CLI: true}, os.Getpid())
	if !errors.Is(err, ErrNotPHP) || !strings.HasSuffix(err.Error(), "(exe "+self+")") {
		t.Errorf("Lookup(self) = %v, want not a PHP process (exe %s)", err, self)
	}
	b, err := os.ReadFile("/proc/sys/kernel/pid_max")
	must(t, err)
	max, err := strconv.Atoi(strings.TrimSpace(string(b)))
	must(t, err)
	if _, err := Lookup(Options{}, max+1); err == nil || err.Error() != "pid "+strconv.Itoa(max+1)+": no such process" {
		t.Errorf("Lookup(pid_max+1) = %v", err)
	}
}

// BenchmarkScanRealProc measures one pass over this machine's /proc as it is,
// and with sleep processes added up to the ~500 of a busy node.
func BenchmarkScanRealProc(b *testing.B) {
	b.Run("host", benchmarkScan)
	b.Run("500procs", func(b *testing.B) {
		pids, err := dirFS{root: "/proc"}.pids()
		if err != nil {
			b.Skip(err)
		}
		for range 500 - len(pids) {
			cmd := exec.Command("sleep", "600")
			if err := cmd.Start(); err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		}
		benchmarkScan(b)
	})
}

func benchmarkScan(b *testing.B) {
	pids, err := dirFS{root: "/proc"}.pids()
	if err != nil {
		b.Skip(err)
	}
	for b.Loop() {
		if _, err := Scan(Options{CLI: true}); err != nil && !errors.Is(err, os.ErrPermission) {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(pids)), "procs")
}
