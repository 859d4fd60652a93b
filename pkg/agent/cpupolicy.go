package agent

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// The agent's work is never urgent: events wait in the ring buffer (8 MiB,
// seconds of WordPress traffic) and traces are stored a fraction of a
// second later whatever the agent does. PHP's requests are urgent. Under
// SCHED_NORMAL a woken agent thread may preempt a PHP worker mid-request
// (wakeup preemption), which adds its CPU time to that request's latency;
// SCHED_BATCH keeps its fair share of CPU but gives up wakeup preemption,
// so it runs when a CPU is free or at the end of a time slice. SCHED_IDLE
// runs only on otherwise idle CPUs: the least intrusive, but a machine
// saturated for longer than the ring buffer lasts loses events.
var cpuPolicies = map[string]int{
	"normal": unix.SCHED_NORMAL,
	"batch":  unix.SCHED_BATCH,
	"idle":   unix.SCHED_IDLE,
}

// ApplyCPUPolicy puts every thread of the agent under policy, keeping its
// nice value (an operator's `nice -n 10 tusk-agent` still holds). Threads
// the Go runtime starts later inherit it from the thread that creates them,
// and all of those already have it. Lowering one's own policy needs no
// privilege.
func ApplyCPUPolicy(policy string) error {
	p, ok := cpuPolicies[policy]
	if !ok {
		return fmt.Errorf("cpu_policy %q: want normal, batch or idle", policy)
	}
	tids, err := threadIDs("/proc/self/task")
	if err != nil {
		return fmt.Errorf("cpu_policy %s: %w", policy, err)
	}
	var errs []error
	for _, tid := range tids {
		// ESRCH: the thread exited since the listing.
		attr, err := unix.SchedGetAttr(tid, 0)
		if err == nil {
			attr.Policy = uint32(p)
			attr.Priority = 0
			err = unix.SchedSetAttr(tid, attr, 0)
		}
		if err != nil && !errors.Is(err, unix.ESRCH) {
			errs = append(errs, fmt.Errorf("thread %d: %w", tid, err))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("cpu_policy %s: %w", policy, errors.Join(errs...))
	}
	return nil
}

// threadIDs lists the threads of a /proc/<pid>/task directory. Linux keeps
// scheduling policy and nice value per thread.
func threadIDs(taskDir string) ([]int, error) {
	entries, err := os.ReadDir(taskDir)
	if err != nil {
		return nil, err
	}
	tids := make([]int, 0, len(entries))
	for _, e := range entries {
		if tid, err := strconv.Atoi(e.Name()); err == nil {
			tids = append(tids, tid)
		}
	}
	return tids, nil
}
