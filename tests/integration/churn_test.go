//go:build integration

package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tusk-php/tusk/pkg/agentapi"
	"github.com/tusk-php/tusk/tests/stack"
)

// TestFPMReloadUnderLoad reloads php-fpm (SIGUSR2: the master re-executes
// itself and replaces every worker) twice in the middle of a load. No
// request may lose its trace or get another's spans, the new workers must be
// traced, and PHP must not notice the agent.
func TestFPMReloadUnderLoad(t *testing.T) {
	s := startFixture(t, stack.StackOptions{Workers: 4, WithMariaDB: true, FPMIniArgs: jitOn})
	a := startAgent(t, s)
	generations := [][]int{s.FPM.WorkerPIDs(s.Pool)}

	const clients, total = 6, 480
	load := startMarkedLoad(s, clients, total)
	var reloads []string
	var reloadedAt []int64
	for _, at := range []int64{total / 3, 2 * total / 3} {
		if !load.waitDone(t, at) {
			t.Fatalf("the load ended before request %d: make it longer", at)
		}
		signalled := load.done.Load()
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		err := s.FPM.Reload(ctx)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		reloadedAt = append(reloadedAt, load.done.Load())
		reloads = append(reloads, fmt.Sprintf("SIGUSR2 after %d requests, new workers after %d", signalled, reloadedAt[len(reloadedAt)-1]))
		generations = append(generations, s.FPM.WorkerPIDs(s.Pool))
	}
	reqs, failed := load.wait(t)
	if reloadedAt[len(reloadedAt)-1] >= total {
		t.Fatalf("the last reload ended after the load (at request %d)", reloadedAt[len(reloadedAt)-1])
	}
	if failed != 0 {
		t.Errorf("%d of %d requests failed", failed, total)
	}
	perPID := checkMarkedTraces(t, a, s.Pool, reqs)

	// Every generation of workers served requests, and the agent traced them.
	for g, pids := range generations {
		n := 0
		for _, pid := range pids {
			n += perPID[pid]
		}
		if n == 0 {
			t.Errorf("no trace from the workers %v of generation %d", pids, g)
		}
		t.Logf("generation %d: workers %v, %d traces", g, pids, n)
	}
	checkFollowsWorkers(t, a, s)
	checkNoProbeErrors(t, a, s)
	if bad := fpmLogProblems(t, s); len(bad) > 0 {
		t.Errorf("php-fpm logged problems:\n%s", strings.Join(bad, "\n"))
	}
	t.Logf("%d requests (%d failed) by %d clients in %s; reloads: %s; traces from %d worker PIDs %v",
		total, failed, clients, load.took.Round(time.Millisecond), strings.Join(reloads, "; "), len(perPID), sortedPIDs(perPID))
}

// TestWorkerRecyclingUnderLoad runs the load on a pool whose workers exit
// after 5 requests (pm.max_requests), with deep mode on the pool: workers
// come and go all the time. No trace is lost or mixed up, the agent follows
// the live workers, and what it held for the dead ones — process state,
// per-PID function probes — is gone once the load ends.
func TestWorkerRecyclingUnderLoad(t *testing.T) {
	const workers, maxRequests = 3, 5
	s := startFixture(t, stack.StackOptions{FPMEnv: []string{"USE_ZEND_DTRACE=1"}, Workers: workers, MaxRequests: maxRequests, WithMariaDB: true})
	a := startAgent(t, s)
	enableDeep(t, a, agentapi.DeepModeRequest{Pool: s.Pool, For: agentapi.Duration(2 * time.Minute)})
	perfBefore := perfEventFDs(t, a.cmd.Process.Pid)

	const clients, total = 6, 480
	load := startMarkedLoad(s, clients, total)
	reqs, failed := load.wait(t)
	if failed != 0 {
		t.Errorf("%d of %d requests failed", failed, total)
	}
	perPID := checkMarkedTraces(t, a, s.Pool, reqs)
	if atLeast := total/maxRequests - workers; len(perPID) < atLeast {
		t.Errorf("traces from %d worker PIDs; %d requests at %d per worker need at least %d", len(perPID), total, maxRequests, atLeast)
	}
	for pid, n := range perPID {
		if n > maxRequests {
			t.Errorf("worker %d has %d traces, but serves at most %d requests", pid, n, maxRequests)
		}
	}

	live := checkFollowsWorkers(t, a, s)
	checkNoProbeErrors(t, a, s)
	// Once a scan has seen the dead workers go, nothing of theirs is left:
	// process state, deep-mode probes (perf events) and grants.
	var text string
	var perfAfter int
	var deep []int
	var probePIDs []int
	deadline := time.Now().Add(10 * time.Second)
	for {
		text, perfAfter = scrapeMetrics(t, a), perfEventFDs(t, a.cmd.Process.Pid)
		st, err := a.client.Status(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		deep, probePIDs = nil, nil
		for _, d := range st.DeepModes {
			deep = append(deep, d.AttachedPIDs...)
		}
		for _, p := range st.Probes {
			if p.PID != 0 && !slices.Contains(probePIDs, p.PID) {
				probePIDs = append(probePIDs, p.PID)
			}
		}
		slices.Sort(probePIDs)
		clean := metric(text, "tusk_php_processes") == float64(1+workers) &&
			metric(text, "tusk_php_process_states") <= workers &&
			perfAfter == perfBefore && slices.Equal(deep, live) && slices.Equal(probePIDs, live)
		if clean {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("state of exited workers left behind: live workers %v, deep mode on %v, per-PID probes on %v, perf events %d (before the load %d)\n%s",
				live, deep, probePIDs, perfAfter, perfBefore, grepLines(text, "tusk_php_process"))
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if bad := fpmLogProblems(t, s); len(bad) > 0 {
		t.Errorf("php-fpm logged problems:\n%s", strings.Join(bad, "\n"))
	}
	t.Logf("%d requests (%d failed) by %d clients in %s; traces from %d worker PIDs; afterwards: live %v, deep mode on %v, %v PHP processes followed, %v process states, perf events %d (before %d)",
		total, failed, clients, load.took.Round(time.Millisecond), len(perPID), live, deep,
		metric(text, "tusk_php_processes"), metric(text, "tusk_php_process_states"), perfAfter, perfBefore)
}

// checkFollowsWorkers waits until the agent's status lists exactly the
// pool's live workers, and returns them.
func checkFollowsWorkers(t *testing.T, a *agentProc, s *stack.Stack) []int {
	t.Helper()
	var live, listed []int
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		live = s.FPM.WorkerPIDs(s.Pool)
		slices.Sort(live)
		st, err := a.client.Status(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		listed = nil // the pool is missing while a scan sees only just-forked workers
		for _, b := range st.Binaries {
			for _, p := range b.Pools {
				if p.Name == s.Pool {
					listed = append(listed, p.WorkerPIDs...)
				}
			}
		}
		slices.Sort(listed)
		if slices.Equal(live, listed) {
			return live
		}
	}
	t.Errorf("status lists workers %v, the pool has %v", listed, live)
	return live
}

// checkNoProbeErrors asserts the agent traced the pool's binary without
// trouble: request probes attached, every I/O hook too, no event lost or
// undecodable, nothing dropped by the store.
func checkNoProbeErrors(t *testing.T, a *agentProc, s *stack.Stack) {
	t.Helper()
	st, err := a.client.Status(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range st.Binaries {
		if len(b.Pools) == 0 {
			continue
		}
		if b.Mode != "usdt" || strings.Contains(b.ModeReason, "fail") || strings.Contains(b.IOReason, "fail") || len(b.IOHooks) == 0 || !b.StackWalk {
			t.Errorf("binary %s: mode %s (%s), %d I/O hooks (%s), stack walk %v", b.Path, b.Mode, b.ModeReason, len(b.IOHooks), b.IOReason, b.StackWalk)
		}
	}
	text := scrapeMetrics(t, a)
	if st.Events.Lost != 0 || metric(text, "tusk_events_undecodable_total") != 0 || st.Store.WriteErrors != 0 || st.Store.Dropped != 0 || st.Profiling.Error != "" {
		t.Errorf("events %+v, undecodable %v, store %+v, profiling %+v", st.Events, metric(text, "tusk_events_undecodable_total"), st.Store, st.Profiling)
	}
	t.Logf("agent: %d events, %d lost; store wrote %d, dropped %d; %v traces, %v incomplete",
		st.Events.Total, st.Events.Lost, st.Store.Written, st.Store.Dropped, metric(text, "tusk_traces_total"), metric(text, "tusk_traces_incomplete_total"))
}

// perfEventFDs counts the perf events a process holds open: one per uprobe
// attached through perf_event_open (per binary, or per PID for deep mode).
func perfEventFDs(t *testing.T, pid int) int {
	t.Helper()
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if target, err := os.Readlink(filepath.Join(dir, e.Name())); err == nil && target == "anon_inode:[perf_event]" {
			n++
		}
	}
	return n
}
