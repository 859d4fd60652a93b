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

	"golang.org/x/sys/unix"

	"github.com/tusk-php/tusk/pkg/agentapi"
	"github.com/tusk-php/tusk/pkg/privdrop"
	"github.com/tusk-php/tusk/pkg/trace"
)

// keptByTheAgent is what the README says the agent keeps once it runs.
var keptByTheAgent = privdrop.Of(unix.CAP_BPF, unix.CAP_PERFMON, unix.CAP_SYS_ADMIN, unix.CAP_SYS_PTRACE, unix.CAP_DAC_READ_SEARCH, unix.CAP_SYS_NICE)

// taskStatus is what /proc/<pid>/task/<tid>/status says of one thread's
// privileges.
type taskStatus struct {
	tid string
	privdrop.Status
}

func readTaskStatus(t *testing.T, path string) (taskStatus, bool) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		return taskStatus{}, false // the thread exited
	}
	return taskStatus{tid: filepath.Base(filepath.Dir(path)), Status: privdrop.ParseStatus(b)}, true
}

// agentThreads reads every thread of the agent once its capabilities were
// dropped (the log says so).
func agentThreads(t *testing.T, a *agentProc) []taskStatus {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(a.log.String(), "dropped capabilities: "); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the agent never logged its dropped capabilities:\n%s", a.log.String())
		}
	}
	paths, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/status", a.cmd.Process.Pid))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no threads of the agent: %v", err)
	}
	var out []taskStatus
	for _, p := range paths {
		if st, ok := readTaskStatus(t, p); ok {
			out = append(out, st)
		}
	}
	return out
}

// checkOnlyKept asserts every thread of the agent holds exactly want:
// effective, permitted and bounding; nothing inheritable or ambient;
// no_new_privs set.
func checkOnlyKept(t *testing.T, a *agentProc, want privdrop.Set) {
	t.Helper()
	threads := agentThreads(t, a)
	for _, th := range threads {
		if th.Effective != want || th.Permitted != want || th.Bounding != want || th.Inheritable != 0 || th.Ambient != 0 || th.NoNewPrivs != 1 {
			t.Errorf("agent thread %s: CapEff %#x CapPrm %#x CapBnd %#x CapInh %#x CapAmb %#x NoNewPrivs %d; want %#x (%v) in the first three",
				th.tid, uint64(th.Effective), uint64(th.Permitted), uint64(th.Bounding), uint64(th.Inheritable), uint64(th.Ambient), th.NoNewPrivs, uint64(want), want)
		}
	}
	t.Logf("%d agent threads: CapEff = CapPrm = CapBnd = %#x (%v), CapInh = CapAmb = 0, NoNewPrivs 1", len(threads), uint64(want), want)
}

// tracedPIDs waits until the agent lists exactly the pool's live workers
// and returns them.
func tracedPIDs(t *testing.T, a *agentProc, pool string, live func() []int) []int {
	t.Helper()
	var want, listed []int
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		want = live()
		slices.Sort(want)
		st, err := a.client.Status(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		listed = nil
		for _, b := range st.Binaries {
			for _, p := range b.Pools {
				if p.Name == pool {
					listed = append(listed, p.WorkerPIDs...)
				}
			}
		}
		slices.Sort(listed)
		if len(want) > 0 && slices.Equal(want, listed) {
			return want
		}
	}
	t.Fatalf("the agent lists workers %v, the pool has %v", listed, want)
	return nil
}

// TestAgentDropsCapabilitiesItDoesNotNeed starts the agent as root: once its
// BPF objects are loaded it keeps only what attaching to more PHP needs, on
// every thread, with no_new_privs. It then still traces, follows the
// workers php-fpm starts on a reload, reads their memory, and loads and
// attaches the deep-mode programs, all after the drop.
func TestAgentDropsCapabilitiesItDoesNotNeed(t *testing.T) {
	self, ok := readTaskStatus(t, "/proc/self/status")
	if !ok {
		t.Fatal("no /proc/self/status")
	}
	if !self.Effective.Has(unix.CAP_SETPCAP) || self.Bounding&^keptByTheAgent == 0 {
		t.Skipf("the test runs without CAP_SETPCAP or with nothing to drop (CapBnd %#x)", uint64(self.Bounding))
	}
	want := keptByTheAgent & self.Bounding // what root gets at execve
	s := dtraceStack(t, 2)
	a := startAgent(t, s)
	checkOnlyKept(t, a, want)

	st, err := a.client.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if c := st.Capabilities; c == nil || c.Error != "" || !c.NoNewPrivs || !slices.Equal(c.Kept, want.Names()) ||
		!slices.Equal(c.Bounding, want.Names()) || !slices.Contains(c.Dropped, "CAP_NET_ADMIN") || !slices.Contains(c.Dropped, "CAP_SETUID") {
		t.Fatalf("status capabilities %+v, want kept %v", c, want.Names())
	}
	// The I/O hooks were found in a worker's memory (/proc/<pid>/mem,
	// map_files) and attached after the drop.
	if len(st.Binaries) != 1 || len(st.Binaries[0].IOHooks) == 0 || !st.Binaries[0].DeepAvailable {
		t.Fatalf("binaries %+v", st.Binaries)
	}
	if !strings.Contains(a.log.String(), "; kept: "+want.String()) {
		t.Errorf("the log does not say what was kept (%v):\n%s", want, a.log.String())
	}

	// Tracing works: every worker was found and attached after the drop.
	get(t, s, "/index.php?privdrop=before-reload")
	first := a.onlyTrace(t, "/index.php")
	if first.Root().Attributes[trace.AttrURLQuery] != "privdrop=before-reload" {
		t.Fatalf("trace %v", first.Root().Attributes)
	}

	// New workers: php-fpm replaces them all on a reload.
	old := s.FPM.WorkerPIDs(s.Pool)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	err = s.FPM.Reload(ctx)
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	fresh := tracedPIDs(t, a, s.Pool, func() []int { return s.FPM.WorkerPIDs(s.Pool) })
	for _, pid := range fresh {
		if slices.Contains(old, pid) {
			t.Fatalf("worker %d survived the reload (old %v, new %v)", pid, old, fresh)
		}
	}
	// Deep mode on the new workers: loads the function programs and opens
	// per-PID uprobes now, and reads each worker's zend_dtrace_enabled.
	d := enableDeep(t, a, agentapi.DeepModeRequest{Pool: s.Pool, Threshold: agentapi.Duration(time.Millisecond), For: agentapi.Duration(time.Minute)})
	if got := slices.Sorted(slices.Values(d.AttachedPIDs)); !slices.Equal(got, fresh) {
		t.Fatalf("deep mode attached to %v, the new workers are %v", got, fresh)
	}
	seen := map[int]bool{}
	for i := 0; i < 20 && len(seen) < len(fresh); i++ {
		q := fmt.Sprintf("privdrop=after-reload-%d", i)
		get(t, s, "/index.php?"+q)
		for _, sum := range a.waitTraces(t, trace.Query{PathPrefix: "/index.php", Limit: trace.MaxLimit}, i+2) {
			tr := a.fetch(t, sum.TraceID)
			if tr.Root().Attributes[trace.AttrURLQuery] != q {
				continue
			}
			pid, _ := tr.Root().Attributes[trace.AttrProcessPID].(int64)
			if !slices.Contains(fresh, int(pid)) {
				t.Fatalf("trace of %s from PID %v, not one of the new workers %v", q, pid, fresh)
			}
			if !hasSpan(tr, "{main}") {
				t.Fatalf("no function spans in deep mode from worker %v: %+v", pid, tr.Spans)
			}
			seen[int(pid)] = true
		}
	}
	if len(seen) == 0 {
		t.Fatal("no trace from the new workers")
	}
	checkOnlyKept(t, a, want) // nothing regained on the way
	t.Logf("after the drop: %d I/O hooks, traced workers %v, then the reloaded workers %v (traces from %d of them, with deep-mode spans)",
		len(st.Binaries[0].IOHooks), old, fresh, len(seen))
}
