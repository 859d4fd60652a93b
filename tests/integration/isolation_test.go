//go:build integration

package integration

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/tusk-php/tusk/pkg/agentapi"
	"github.com/tusk-php/tusk/pkg/phpbin"
	"github.com/tusk-php/tusk/pkg/procmem"
	"github.com/tusk-php/tusk/pkg/trace"
	"github.com/tusk-php/tusk/tests/stack"
)

const fpmBinary = "/usr/sbin/php-fpm8.2"

// semaphore reads a USDT probe's semaphore in pid's memory: the kernel
// raises it in every process a uprobe with that ref_ctr is attached in, and
// PHP only calls the probe while it is non-zero. It is the ground truth of
// "this process pays for that probe".
func semaphore(t *testing.T, pid int, probe string) uint16 {
	t.Helper()
	info, err := phpbin.Inspect(fpmBinary)
	if err != nil {
		t.Fatal(err)
	}
	sites := info.ProbesNamed("php", probe)
	if len(sites) == 0 || sites[0].Semaphore == 0 {
		t.Fatalf("%s has no semaphore for %s", fpmBinary, probe)
	}
	bias, err := procmem.LoadBias("/proc", pid, info.LinkBase())
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 2)
	if err := procmem.Read("/proc", pid, sites[0].Semaphore+bias, buf); err != nil {
		t.Fatal(err)
	}
	return binary.LittleEndian.Uint16(buf)
}

func TestDeepModeOnOneWorkerLeavesTheOthersAlone(t *testing.T) {
	s := dtraceStack(t, 2)
	a := startAgent(t, s)
	workers := s.FPM.WorkerPIDs(s.Pool)
	chosen, other := workers[0], workers[1]

	if got := semaphore(t, chosen, "request__startup"); got == 0 {
		t.Fatalf("request probes attached but request__startup semaphore is 0 in %d", chosen)
	}
	d := enableDeep(t, a, agentapi.DeepModeRequest{PIDs: []int{chosen}, Threshold: agentapi.Duration(time.Millisecond), For: agentapi.Duration(time.Minute)})
	if len(d.AttachedPIDs) != 1 || d.AttachedPIDs[0] != chosen {
		t.Fatalf("attached to %v, want only %d", d.AttachedPIDs, chosen)
	}
	if got := semaphore(t, chosen, "function__entry"); got == 0 {
		t.Errorf("function__entry semaphore is 0 in the chosen worker %d", chosen)
	}
	if got := semaphore(t, other, "function__entry"); got != 0 {
		t.Errorf("function__entry semaphore is %d in worker %d, which deep mode was not asked for", got, other)
	}

	// The status lists the function probes, each for the chosen PID only.
	st, err := a.client.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	fn := 0
	for _, p := range st.Probes {
		if strings.HasPrefix(p.Name, "php:function__") {
			fn++
			if p.PID != chosen {
				t.Errorf("probe %s attached for pid %d", p.Name, p.PID)
			}
		}
	}
	if fn != 2 {
		t.Errorf("want function__entry and function__return attached, status shows %d", fn)
	}

	// Both workers serve requests; only the chosen one's have function spans.
	served := map[int]int{}
	for i := 0; i < 20 && (served[chosen] == 0 || served[other] == 0); i++ {
		get(t, s, "/index.php")
		for _, sum := range a.waitTraces(t, trace.Query{Pool: s.Pool}, i+1) {
			tr := a.fetch(t, sum.TraceID)
			pid := int(tr.Root().Attributes[trace.AttrProcessPID].(int64))
			served[pid] = len(tr.Spans)
		}
	}
	if served[chosen] != 7 || served[other] != 1 {
		t.Fatalf("spans per worker: %v (want 7 from %d, 1 from %d)", served, chosen, other)
	}
}

func TestDeepModeExpiresOnItsOwn(t *testing.T) {
	s := dtraceStack(t, 1)
	a := startAgent(t, s)
	worker := s.FPM.WorkerPIDs(s.Pool)[0]
	enableDeep(t, a, agentapi.DeepModeRequest{Pool: s.Pool, For: agentapi.Duration(2 * time.Second)})
	if semaphore(t, worker, "function__entry") == 0 {
		t.Fatal("deep mode on but function__entry semaphore is 0")
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		modes, err := a.client.DeepModes(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(modes) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("deep mode still on after 10s: %+v", modes)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The agent closes the probes just after it lists the mode as gone (outside
	// its lock, so tracing does not wait): give it a bounded moment. Closing
	// uprobes waits for RCU grace periods, which took over 5 s once with a
	// load average of 15 on this 2-CPU machine.
	for closeBy := time.Now().Add(20 * time.Second); semaphore(t, worker, "function__entry") != 0; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(closeBy) {
			t.Fatalf("deep mode expired but function__entry semaphore is still %d after 20s", semaphore(t, worker, "function__entry"))
		}
	}
	// Turning it off by hand works the same way.
	d := enableDeep(t, a, agentapi.DeepModeRequest{Pool: s.Pool})
	if err := a.client.DisableDeepMode(context.Background(), d.ID); err != nil {
		t.Fatal(err)
	}
	if got := semaphore(t, worker, "function__entry"); got != 0 {
		t.Fatalf("deep mode disabled but function__entry semaphore is %d", got)
	}
	if err := a.client.DisableDeepMode(context.Background(), d.ID); !agentapi.IsNotFound(err) {
		t.Fatalf("disabling twice: want 404, got %v", err)
	}
}

// ourPrograms lists the loaded BPF programs that are Tusk's.
func ourPrograms(t *testing.T) []string {
	t.Helper()
	out, err := exec.Command("bpftool", "-j", "prog", "show").Output()
	if err != nil {
		t.Fatalf("bpftool: %v", err)
	}
	var progs []struct {
		Name string `json:"name"`
	}
	if err := json.Unmarshal(out, &progs); err != nil {
		t.Fatal(err)
	}
	var ours []string
	for _, p := range progs {
		switch p.Name {
		case "request_startup", "request_shutdown", "exception_thrown", "php_error", "function_entry", "function_return":
			ours = append(ours, p.Name)
		}
	}
	return ours
}

// TestPIDOptionTracesOnlyThatMaster: the probes sit on the binary, so they
// fire in every php-fpm that runs it; pointed at one master (--pid), the
// agent keeps the requests of that master's workers only.
func TestPIDOptionTracesOnlyThatMaster(t *testing.T) {
	s := startFixture(t, stack.StackOptions{})
	other := startFixture(t, stack.StackOptions{})
	a := startAgent(t, s)
	if code, _ := get(t, other, "/status.php?code=201"); code != 201 {
		t.Fatalf("other master: HTTP %d", code)
	}
	if code, _ := get(t, s, "/status.php?code=200"); code != 200 {
		t.Fatalf("HTTP %d", code)
	}
	a.waitTraces(t, trace.Query{StatusCode: 200}, 1)
	a.waitSettled(t, 1) // the other master's request came first: its trace would be in by now
	sums, err := a.client.Search(t.Context(), trace.Query{Limit: trace.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	if len(sums) != 1 || sums[0].StatusCode != 200 {
		t.Fatalf("want only the request of master %d traced, got %+v", s.FPM.MasterPID, sums)
	}
}
