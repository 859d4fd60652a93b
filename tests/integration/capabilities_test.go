//go:build integration

package integration

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	appsv1 "k8s.io/api/apps/v1"
	"sigs.k8s.io/yaml"

	"github.com/tusk-php/tusk/pkg/agentapi"
	"github.com/tusk-php/tusk/pkg/trace"
	"github.com/tusk-php/tusk/tests/stack"
)

// capNumbers are the capabilities a DaemonSet may name, by number.
var capNumbers = map[string]uint{
	"BPF": unix.CAP_BPF, "PERFMON": unix.CAP_PERFMON, "SYS_ADMIN": unix.CAP_SYS_ADMIN, "SYS_PTRACE": unix.CAP_SYS_PTRACE,
	"SYS_RESOURCE": unix.CAP_SYS_RESOURCE, "DAC_READ_SEARCH": unix.CAP_DAC_READ_SEARCH, "DAC_OVERRIDE": unix.CAP_DAC_OVERRIDE,
	"CHECKPOINT_RESTORE": unix.CAP_CHECKPOINT_RESTORE, "NET_ADMIN": unix.CAP_NET_ADMIN, "IPC_LOCK": unix.CAP_IPC_LOCK,
	"SYS_NICE": unix.CAP_SYS_NICE,
}

// daemonSetCapabilities reads the capabilities the agent's container adds
// in deploy/kubernetes/daemonset.yaml.
func daemonSetCapabilities(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(), "deploy", "kubernetes", "daemonset.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var ds appsv1.DaemonSet
	if err := yaml.UnmarshalStrict(b, &ds); err != nil {
		t.Fatal(err)
	}
	for _, c := range ds.Spec.Template.Spec.Containers {
		if c.Name == "tusk-agent" {
			var caps []string
			for _, c := range c.SecurityContext.Capabilities.Add {
				caps = append(caps, string(c))
			}
			return caps
		}
	}
	t.Fatal("no tusk-agent container in daemonset.yaml")
	return nil
}

// launchAgentWithCaps runs the agent as root but with only caps, as the
// container runtime runs the DaemonSet's container (bounding, permitted,
// effective and ambient sets; no_new_privs), in a mount namespace where
// /sys/kernel/btf, /sys/kernel/tracing and /sys/kernel/debug are empty: the
// DaemonSet mounts none of them.
func launchAgentWithCaps(t *testing.T, dir string, caps []string, args ...string) *agentProc {
	t.Helper()
	set := "-all"
	for _, c := range caps {
		set += ",+" + strings.ToLower(c)
	}
	hide := `for d in /sys/kernel/btf /sys/kernel/tracing /sys/kernel/debug; do
  if [ -d "$d" ]; then mount -t tmpfs -o ro,size=4k tmpfs "$d" || exit 1; fi
done
exec "$@"`
	return launchAgentVia(t, dir, func(agentArgs []string) *exec.Cmd {
		wrapper := []string{"--mount", "--propagation", "private", "sh", "-c", hide, "sh",
			"setpriv", "--no-new-privs", "--bounding-set", set, "--inh-caps", set, "--ambient-caps", set, "--", agentBin}
		return exec.Command("unshare", append(wrapper, agentArgs...)...)
	}, args...)
}

// effectiveCaps reads CapEff of a process, once it has exec'd the agent.
func effectiveCaps(t *testing.T, a *agentProc) uint64 {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", a.cmd.Process.Pid))
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", a.cmd.Process.Pid))
		if err == nil && exe == agentBin {
			for _, line := range strings.Split(string(b), "\n") {
				if v, ok := strings.CutPrefix(line, "CapEff:"); ok {
					n, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
					if err != nil {
						t.Fatal(err)
					}
					return n
				}
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("the agent did not start:\n%s", a.log.String())
	return 0
}

func capMask(t *testing.T, caps []string) uint64 {
	t.Helper()
	var m uint64
	for _, c := range caps {
		n, ok := capNumbers[c]
		if !ok {
			t.Fatalf("unknown capability %s", c)
		}
		m |= 1 << n
	}
	return m
}

// The DaemonSet's capabilities are enough for everything the agent does:
// request spans with FastCGI params, I/O hooks, the stack sampler, deep
// mode — without kernel BTF, tracefs or debugfs.
func TestAgentWorksWithTheDaemonSetCapabilities(t *testing.T) {
	caps := daemonSetCapabilities(t)
	s := startFixture(t, stack.StackOptions{FPMEnv: []string{"USE_ZEND_DTRACE=1"}, Workers: 2})
	a := launchAgentWithCaps(t, tempDir(t, "tusk-caps-"), caps, "--pid", fmt.Sprint(s.FPM.MasterPID))
	if got, want := effectiveCaps(t, a), capMask(t, caps); got != want {
		t.Fatalf("the agent runs with capabilities %#x, want exactly %v (%#x)", got, caps, want)
	}
	a.waitTracing(t, s)
	st, err := a.client.Status(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	b := st.Binaries[0]
	if b.Mode != "usdt" || len(b.IOHooks) == 0 || !b.StackWalk || !b.DeepAvailable || !st.Profiling.Enabled || st.Profiling.CPUs == 0 {
		t.Fatalf("with %v: binary %+v, profiling %+v", caps, b, st.Profiling)
	}

	if code, _ := get(t, s, "/index.php?caps=daemonset"); code != 200 {
		t.Fatal("GET /index.php")
	}
	tr := a.onlyTrace(t, "/index.php")
	if tr.StatusCode != 200 || tr.Root().Attributes[trace.AttrURLQuery] != "caps=daemonset" {
		t.Fatalf("trace %+v %v", tr.Summary, tr.Root().Attributes)
	}

	if code, _ := get(t, s, "/burn.php?ms=300"); code != 200 {
		t.Fatal("GET /burn.php")
	}
	burn := a.onlyTrace(t, "/burn.php")
	var fg *agentapi.Flamegraph
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if fg, err = a.client.TraceProfile(t.Context(), burn.TraceID, 0); err == nil && fg.Total > 0 {
			break
		}
	}
	if fg == nil || fg.Total == 0 {
		t.Fatalf("no stack samples of burn.php: %+v %v", fg, err)
	}

	d := enableDeep(t, a, agentapi.DeepModeRequest{Pool: s.Pool, Threshold: agentapi.Duration(time.Millisecond), For: agentapi.Duration(time.Minute)})
	if len(d.AttachedPIDs) != 2 {
		t.Fatalf("deep mode attached to %v", d.AttachedPIDs)
	}
	if code, _ := get(t, s, "/index.php?caps=deep"); code != 200 {
		t.Fatal("GET /index.php")
	}
	var deep *trace.Trace
	for _, sum := range a.waitTraces(t, trace.Query{PathPrefix: "/index.php"}, 2) {
		if cand := a.fetch(t, sum.TraceID); cand.Root().Attributes[trace.AttrURLQuery] == "caps=deep" {
			deep = cand
		}
	}
	if deep == nil || !hasSpan(deep, "{main}") {
		t.Fatalf("no function spans in deep mode: %+v", deep)
	}
	if err := a.client.DisableDeepMode(t.Context(), d.ID); err != nil {
		t.Fatal(err)
	}
	worker := d.AttachedPIDs[0]
	one := enableDeep(t, a, agentapi.DeepModeRequest{PIDs: []int{worker}, For: agentapi.Duration(time.Minute)})
	if one.NiceError != "" || niceOf(t, worker) != agentapi.DefaultDeepNice {
		t.Fatalf("deep mode on PID %d: worker at nice %d, error %q", worker, niceOf(t, worker), one.NiceError)
	}
	if err := a.client.DisableDeepMode(t.Context(), one.ID); err != nil {
		t.Fatal(err)
	}
	if got := niceOf(t, worker); got != 0 {
		t.Fatalf("deep mode off: worker left at nice %d", got)
	}
	t.Logf("with %v only (CapEff %#x): request, I/O (%d hooks), sampler (%d samples), deep mode all work; no BTF, tracefs or debugfs",
		caps, capMask(t, caps), len(b.IOHooks), fg.Total)
}

// Without each of the DaemonSet's capabilities in turn: CAP_SYS_PTRACE and
// CAP_SYS_ADMIN cannot go (this kernel requires CAP_SYS_ADMIN for uprobes);
// CAP_BPF and CAP_PERFMON are what the kernel checks first, but
// CAP_SYS_ADMIN satisfies those checks too, so here the agent works without
// either of them alone (they stay for the runtimes' seccomp profiles, see
// deploy/kubernetes/README.md).
func TestWhatEachDaemonSetCapabilityIsFor(t *testing.T) {
	caps := daemonSetCapabilities(t)
	s := startFixture(t, stack.StackOptions{Workers: 1})
	var uname unix.Utsname
	_ = unix.Uname(&uname)
	t.Logf("kernel %s", unix.ByteSliceToString(uname.Release[:]))
	for _, drop := range caps {
		t.Run("without "+drop, func(t *testing.T) {
			var rest []string
			for _, c := range caps {
				if c != drop {
					rest = append(rest, c)
				}
			}
			a := launchAgentWithCaps(t, tempDir(t, "tusk-caps-"), rest, "--pid", fmt.Sprint(s.FPM.MasterPID))
			outcome := capOutcome(t, a, s)
			t.Logf("with %v: %s", rest, outcome)
			switch drop {
			case "SYS_PTRACE", "SYS_ADMIN":
				if outcome == "traces" {
					t.Errorf("the agent traced without CAP_%s: the README says it is needed", drop)
				}
			}
		})
	}
}

// capOutcome says how far the agent got: "traces", or why not.
func capOutcome(t *testing.T, a *agentProc, s *stack.Stack) string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-a.done:
			a.done <- err
			lines := strings.Split(strings.TrimSpace(a.log.String()), "\n")
			return fmt.Sprintf("the agent exited (%v): %s", err, lines[len(lines)-1])
		default:
		}
		st, err := a.client.Status(context.Background())
		if err == nil && len(st.Binaries) > 0 && st.Binaries[0].Mode != "none" {
			get(t, s, "/index.php?caps=without")
			if list, err := a.client.Search(context.Background(), trace.Query{PathPrefix: "/index.php"}); err == nil && len(list) > 0 {
				return "traces"
			}
		} else if err == nil && len(st.Binaries) > 0 {
			return "not tracing: " + st.Binaries[0].ModeReason
		}
		time.Sleep(200 * time.Millisecond)
	}
	_ = a.cmd.Process.Signal(syscall.SIGTERM)
	return "nothing traced within 15s"
}

// Without CAP_SYS_NICE deep mode on a worker still works; the worker keeps
// its priority and the grant says why, once.
func TestDeepModeWithoutCapSysNice(t *testing.T) {
	var caps []string
	for _, c := range daemonSetCapabilities(t) {
		if c != "SYS_NICE" {
			caps = append(caps, c)
		}
	}
	s := startFixture(t, stack.StackOptions{FPMEnv: []string{"USE_ZEND_DTRACE=1"}, Workers: 2})
	a := launchAgentWithCaps(t, tempDir(t, "tusk-caps-"), caps, "--pid", fmt.Sprint(s.FPM.MasterPID))
	a.waitTracing(t, s)
	worker := s.FPM.WorkerPIDs(s.Pool)[0]
	d := enableDeep(t, a, agentapi.DeepModeRequest{PIDs: []int{worker}, For: agentapi.Duration(time.Minute)})
	if !slices.Equal(d.AttachedPIDs, []int{worker}) {
		t.Fatalf("deep mode attached to %v, want [%d]", d.AttachedPIDs, worker)
	}
	if !strings.Contains(d.NiceError, "needs CAP_SYS_NICE") || niceOf(t, worker) != 0 {
		t.Fatalf("without CAP_SYS_NICE: worker at nice %d, error %q", niceOf(t, worker), d.NiceError)
	}
	if _, err := os.Stat(filepath.Join(a.dir, "traces.db.reniced.json")); !os.IsNotExist(err) {
		t.Fatalf("a record of a renice that did not happen: %v", err)
	}
	t.Logf("with %v: deep mode on PID %d, %q", caps, worker, d.NiceError)
}
