// Command overhead measures what the agent costs php-fpm, against a control
// measured in the same run: the fixture app behind nginx, loaded with wrk
// (bounded, loopback), alternating rounds with the agent detached and
// attached. It prints ratios, the agent's event rate and ring buffer drops.
//
//	go run ./bench/overhead [-rounds 3] [-duration 5s] [-connections 8]
//
// Needs root (the agent loads BPF), wrk, php-fpm 8.2 and nginx.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tusk-php/tusk/pkg/agentapi"
	"github.com/tusk-php/tusk/tests/stack"
)

var (
	rounds      = flag.Int("rounds", 3, "control/attached pairs")
	duration    = flag.Duration("duration", 5*time.Second, "wrk run length")
	connections = flag.Int("connections", 8, "wrk connections")
	path        = flag.String("path", "/status.php?code=200", "request path (a fast PHP script shows the overhead best)")
	deepPath    = flag.String("deep-path", "/calls.php?n=2000", "path for the deep-mode ingest run (every call becomes an event)")
)

type result struct {
	rps      float64
	p50, p99 time.Duration
}

func main() {
	flag.Parse()
	log.SetFlags(0)
	if os.Geteuid() != 0 {
		log.Fatal("run as root: the agent loads BPF programs")
	}
	ctx := context.Background()
	work, err := os.MkdirTemp("", "tusk-bench-")
	check(err)
	check(os.Chmod(work, 0o755))
	defer os.RemoveAll(work)

	agentBin := filepath.Join(work, "tusk-agent")
	build := exec.Command("go", "build", "-o", agentBin, "./pkg/cmd/tusk-agent")
	build.Stderr = os.Stderr
	check(build.Run())

	s, err := stack.StartFixture(ctx, filepath.Join(work, "stack"), stack.StackOptions{FPMEnv: []string{"USE_ZEND_DTRACE=1"}, Workers: 2})
	check(err)
	defer s.Stop()
	fmt.Printf("fixture: php-fpm 8.2 (USE_ZEND_DTRACE=1, 2 workers) behind nginx at %s; wrk -t2 -c%d -d%s %s\n\n",
		s.URL(), *connections, *duration, *path)

	var control, attached []result
	var events, lost uint64
	var eventRates, cpuPerReq []float64
	for r := 1; r <= *rounds; r++ {
		c := wrk(s.URL() + *path)
		control = append(control, c)
		a := startAgent(agentBin, work, s)
		before, cpu0 := a.status(), a.cpu()
		t := wrk(s.URL() + *path)
		after, cpu1 := a.status(), a.cpu()
		a.stop()
		cpuPerReq = append(cpuPerReq, float64(cpu1-cpu0)/(t.rps*duration.Seconds()))
		attached = append(attached, t)
		events += after.Events.Total - before.Events.Total
		lost += after.Events.Lost - before.Events.Lost
		eventRates = append(eventRates, float64(after.Events.Total-before.Events.Total)/duration.Seconds())
		fmt.Printf("round %d: control %8.0f req/s p50 %-9s | attached %8.0f req/s p50 %-9s (%.1f%%)\n",
			r, c.rps, c.p50, t.rps, t.p50, 100*t.rps/c.rps)
	}
	mc, ma := median(control), median(attached)
	fmt.Printf("\nalways-on (request probes) vs control, medians of %d rounds:\n", *rounds)
	fmt.Printf("  throughput  %8.0f vs %8.0f req/s   ratio %.3f\n", ma.rps, mc.rps, ma.rps/mc.rps)
	fmt.Printf("  p50 latency %8s vs %8s         ratio %.3f\n", ma.p50, mc.p50, float64(ma.p50)/float64(mc.p50))
	fmt.Printf("  p99 latency %8s vs %8s         ratio %.3f\n", ma.p99, mc.p99, float64(ma.p99)/float64(mc.p99))
	fmt.Printf("  agent: %d events (%.0f events/s), %d lost in the ring buffer, %.0f µs of agent CPU per request\n",
		events, medianF(eventRates), lost, medianF(cpuPerReq)/1e3)

	// Deep mode on every worker: first with the default threshold (the calls
	// are timed in the kernel and stay there), then with every call reported
	// (the agent's ingest under the heaviest load PHP can give it).
	calls := callsIn(*deepPath)
	base := wrk(s.URL() + *deepPath)
	a := startAgent(agentBin, work, s)
	_, err = a.client.EnableDeepMode(ctx, agentapi.DeepModeRequest{Pool: s.Pool, Threshold: agentapi.Duration(time.Millisecond), For: agentapi.Duration(time.Minute)})
	check(err)
	kept := wrk(s.URL() + *deepPath)
	_, err = a.client.EnableDeepMode(ctx, agentapi.DeepModeRequest{Pool: s.Pool, Threshold: agentapi.Duration(time.Nanosecond), For: agentapi.Duration(time.Minute)})
	check(err)
	before, cpu0 := a.status(), a.cpu()
	all := wrk(s.URL() + *deepPath)
	after, cpu1 := a.status(), a.cpu()
	a.stop()
	n := after.Events.Total - before.Events.Total
	// Two workers run in parallel, so per-call cost = 2 × (1/rate − 1/base) / calls.
	perCall := func(r result) time.Duration {
		return time.Duration(2 * (1/r.rps - 1/base.rps) / float64(calls) * 1e9)
	}
	fmt.Printf("\ndeep mode on every worker, %s (%d user calls per request):\n", *deepPath, calls)
	fmt.Printf("  without the agent              %8.0f req/s\n", base.rps)
	fmt.Printf("  threshold 1ms (none reported)  %8.0f req/s   ≈ %s per call\n", kept.rps, perCall(kept))
	fmt.Printf("  threshold 1ns (all reported)   %8.0f req/s   ≈ %s per call\n", all.rps, perCall(all))
	fmt.Printf("  agent ingest: %d events in %s = %.0f events/s, %d lost, agent CPU %.0f%% of one core\n",
		n, *duration, float64(n)/duration.Seconds(), after.Events.Lost-before.Events.Lost, 100*float64(cpu1-cpu0)/float64(*duration))
}

// callsIn reads n= from a calls.php path.
func callsIn(path string) int {
	if i := strings.Index(path, "n="); i >= 0 {
		if n, err := strconv.Atoi(path[i+2:]); err == nil {
			return n
		}
	}
	return 1000
}

type agent struct {
	cmd    *exec.Cmd
	client *agentapi.Client
}

func startAgent(bin, work string, s *stack.Stack) *agent {
	addr := "127.0.0.1:17070"
	cmd := exec.Command(bin, "run", "--listen", addr, "--db", filepath.Join(work, "traces.db"), "--pid", strconv.Itoa(s.FPM.MasterPID))
	cmd.Env = append(os.Environ(), "TUSK_TOKEN=bench")
	logf, err := os.Create(filepath.Join(work, "agent.log"))
	check(err)
	cmd.Stdout, cmd.Stderr = logf, logf
	check(cmd.Start())
	a := &agent{cmd: cmd, client: agentapi.NewClient("http://"+addr, "bench")}
	for i := 0; i < 200; i++ {
		st, err := a.client.Status(context.Background())
		if err == nil {
			for _, b := range st.Binaries {
				if b.Mode == "usdt" && len(b.Pools) > 0 {
					return a
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	log.Fatalf("agent did not attach; see %s", logf.Name())
	return nil
}

func (a *agent) status() *agentapi.Status {
	st, err := a.client.Status(context.Background())
	check(err)
	return st
}

// cpu is the agent's CPU time so far (user + system), in nanoseconds.
func (a *agent) cpu() time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", a.cmd.Process.Pid))
	check(err)
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64) // fields 14 and 15 of stat, in clock ticks
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond // USER_HZ is 100 on Linux
}

func (a *agent) stop() {
	_ = a.cmd.Process.Signal(os.Interrupt)
	_ = a.cmd.Wait()
}

var (
	rpsRe = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	latRe = regexp.MustCompile(`(?m)^\s+(50|99)%\s+([0-9.]+)(us|ms|s)$`)
)

// wrk runs one bounded load and parses its figures.
func wrk(url string) result {
	out, err := exec.Command("wrk", "-t2", "-c"+strconv.Itoa(*connections), "-d"+duration.String(), "--latency", url).CombinedOutput()
	if err != nil {
		log.Fatalf("wrk: %v\n%s", err, out)
	}
	text := string(out)
	if strings.Contains(text, "Non-2xx") {
		log.Fatalf("wrk saw errors:\n%s", text)
	}
	var r result
	if m := rpsRe.FindStringSubmatch(text); m != nil {
		r.rps, _ = strconv.ParseFloat(m[1], 64)
	}
	for _, m := range latRe.FindAllStringSubmatch(text, -1) {
		v, _ := strconv.ParseFloat(m[2], 64)
		unit := map[string]time.Duration{"us": time.Microsecond, "ms": time.Millisecond, "s": time.Second}[m[3]]
		d := time.Duration(v * float64(unit))
		if m[1] == "50" {
			r.p50 = d
		} else {
			r.p99 = d
		}
	}
	return r
}

func median(rs []result) result {
	pick := func(f func(result) float64) float64 {
		v := make([]float64, len(rs))
		for i, r := range rs {
			v[i] = f(r)
		}
		return medianF(v)
	}
	return result{
		rps: pick(func(r result) float64 { return r.rps }),
		p50: time.Duration(pick(func(r result) float64 { return float64(r.p50) })),
		p99: time.Duration(pick(func(r result) float64 { return float64(r.p99) })),
	}
}

func medianF(v []float64) float64 {
	sort.Float64s(v)
	return v[len(v)/2]
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
