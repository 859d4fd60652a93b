package agent

import (
	"os"
	"runtime"
	"strconv"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

func threadPolicies(t *testing.T) map[int]uint32 {
	t.Helper()
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	out := map[int]uint32{}
	for _, task := range tasks {
		tid, _ := strconv.Atoi(task.Name())
		if attr, err := unix.SchedGetAttr(tid, 0); err == nil {
			out[tid] = attr.Policy
		}
	}
	return out
}

// TestCPUPolicyCoversEveryThread: the policy reaches the threads that exist
// and the ones the runtime starts afterwards, and keeps the nice value.
func TestCPUPolicyCoversEveryThread(t *testing.T) {
	before, err := unix.Getpriority(unix.PRIO_PROCESS, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := ApplyCPUPolicy("normal"); err != nil {
			t.Error(err)
		}
	})
	if err := ApplyCPUPolicy("batch"); err != nil {
		t.Fatal(err)
	}
	// Threads locked by goroutines that block force the runtime to start
	// new ones.
	var started, release sync.WaitGroup
	release.Add(1)
	tids := make(chan int, 8)
	for range 8 {
		started.Add(1)
		go func() {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			tids <- unix.Gettid()
			started.Done()
			release.Wait()
		}()
	}
	started.Wait()
	policies := threadPolicies(t)
	release.Done()
	close(tids)
	for tid := range tids {
		if policies[tid] != unix.SCHED_BATCH {
			t.Errorf("thread %d started after ApplyCPUPolicy: policy %d, want SCHED_BATCH", tid, policies[tid])
		}
	}
	for tid, p := range policies {
		if p != unix.SCHED_BATCH {
			t.Errorf("thread %d: policy %d, want SCHED_BATCH", tid, p)
		}
	}
	if after, _ := unix.Getpriority(unix.PRIO_PROCESS, 0); after != before {
		t.Errorf("nice changed: getpriority %d → %d", before, after)
	}
}

func TestCPUPolicyRefusesUnknown(t *testing.T) {
	if err := ApplyCPUPolicy("realtime"); err == nil {
		t.Fatal("realtime accepted")
	}
	cfg := DefaultConfig()
	cfg.CPUPolicy = "fifo"
	if err := cfg.Validate(); err == nil {
		t.Fatal("config with cpu_policy fifo validated")
	}
	cfg.CPUPolicy = "idle"
	if err := cfg.Validate(); err != nil {
		t.Fatalf("cpu_policy idle: %v", err)
	}
}
