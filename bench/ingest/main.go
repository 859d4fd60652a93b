// Command ingest measures how many probe events the agent takes in per
// second and per second of its own CPU, and how many it drops, under the
// heaviest load real PHP can give it: deep mode with a 1 ns threshold (every
// user function call becomes one event) on the fixture's calls.php, which
// makes N calls of a one-line function per request.
//
//	go run ./bench/ingest [-duration 20s] [-n 9000] [-workers 2] [-connections 2] [-pprof=true]
//	                      [-agent-flags "--ring-bytes 67108864"] [-profile-out agent.pb.gz]
//
// The agent keeps at most 10000 function spans per trace and only counts the
// rest, so the default -n 9000 makes every event a stored span (the full
// ingest path); -n 200000 measures reading and decoding alone.
//
// It starts the fixture (php-fpm 8.2 with USE_ZEND_DTRACE=1 behind nginx,
// tests/stack), the agent on its master with deep mode on the pool, and keeps
// every worker busy with a Go HTTP loop for -duration. It reads the agent's
// /api/v1/status before and after (events, ring buffer drops, store), the
// CPU time of the agent and of the PHP workers (/proc/<pid>/stat) and the
// agent's RSS, and with -pprof a CPU profile of the agent over the run
// (TUSK_DEBUG_PPROF), whose top it prints.
//
// Needs root (the agent loads BPF), php-fpm 8.2 and nginx.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/tusk-php/tusk/bench/internal/cleanup"
	"github.com/tusk-php/tusk/pkg/agentapi"
	"github.com/tusk-php/tusk/tests/stack"
)

var (
	duration    = flag.Duration("duration", 20*time.Second, "load length")
	calls       = flag.Int("n", 9000, "calls of tiny() per request (calls.php?n=, 1..200000); above 10000 the extra calls are only read and counted, not stored")
	workers     = flag.Int("workers", 2, "php-fpm workers (pm = static)")
	connections = flag.Int("connections", 0, "parallel requests (default: one per worker)")
	withPprof   = flag.Bool("pprof", true, "CPU-profile the agent over the run (TUSK_DEBUG_PPROF) and print its top")
	pprofTop    = flag.Int("top", 25, "lines of the profile's top to print")
	agentFlags  = flag.String("agent-flags", "", "extra tusk-agent run flags, space separated (e.g. \"--no-profile --no-io\")")
	keepProfile = flag.String("profile-out", "", "keep the agent's CPU profile at this path")
)

const (
	agentAddr = "127.0.0.1:17071"
	pprofAddr = "127.0.0.1:17072"
	goal      = 1e6 // events/s on one core
)

func main() {
	flag.Parse()
	log.SetFlags(0)
	if os.Geteuid() != 0 {
		log.Fatal("run as root: the agent loads BPF programs")
	}
	if *calls < 1 || *calls > 200000 {
		log.Fatal("-n: 1..200000 (calls.php's range)")
	}
	if *connections == 0 {
		*connections = *workers
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() { cleanup.Die("interrupted (%s)", <-sig) }()
	run()
	cleanup.Run()
}

func run() {
	ctx := context.Background()
	work, err := os.MkdirTemp("", "tusk-ingest-")
	check(err)
	check(os.Chmod(work, 0o755)) // php-fpm and nginx run as www-data
	cleanup.AtExit(func() { os.RemoveAll(work) })

	agentBin := filepath.Join(work, "tusk-agent")
	build := exec.Command("go", "build", "-o", agentBin, "./pkg/cmd/tusk-agent")
	build.Stderr = os.Stderr
	// Without cgo, as released: the agent drops its capabilities on every thread only then.
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	check(build.Run())

	s, err := stack.StartFixture(ctx, filepath.Join(work, "stack"), stack.StackOptions{FPMEnv: []string{"USE_ZEND_DTRACE=1"}, Workers: *workers})
	check(err)
	cleanup.AtExit(func() { s.Stop() })
	url := fmt.Sprintf("%s/calls.php?n=%d", s.URL(), *calls)

	a := startAgent(agentBin, work, s)
	mode, err := a.client.EnableDeepMode(ctx, agentapi.DeepModeRequest{
		Pool: s.Pool, Threshold: agentapi.Duration(time.Nanosecond), For: agentapi.Duration(*duration + 2*time.Minute),
	})
	check(err)

	// One request first: PHP warm, the deep probes attached to every worker.
	get(url)
	workerPIDs := s.FPM.WorkerPIDs(s.Pool)

	var prof chan []byte
	if *withPprof {
		prof = make(chan []byte, 1)
		go func() { prof <- fetchProfile(*duration) }()
	}
	m0, before, cpu0, php0, t0 := a.metrics(), a.status(), procCPU(a.pid()), sumCPU(workerPIDs), time.Now()
	requests, maxEPS := load(url, a)
	after, cpu1, php1, t1, m1 := a.status(), procCPU(a.pid()), sumCPU(workerPIDs), time.Now(), a.metrics()
	dm := func(name string) float64 { return m1[name] - m0[name] }
	rss, hwm := procMem(a.pid())
	check(a.client.DisableDeepMode(ctx, mode.ID))
	var profile []byte
	if prof != nil {
		profile = <-prof
	}
	a.stop()

	wall := t1.Sub(t0).Seconds()
	events := after.Events.Total - before.Events.Total
	lost := after.Events.Lost - before.Events.Lost
	agentCPU := (cpu1 - cpu0).Seconds()
	phpCPU := (php1 - php0).Seconds()
	eps := float64(events) / wall
	perCore := float64(events) / agentCPU
	lostPct := 0.0
	if events+lost > 0 {
		lostPct = 100 * float64(lost) / float64(events+lost)
	}

	fmt.Printf("\n%s\n", machine())
	fmt.Printf("workload: deep mode (threshold 1ns, every call reported) on %d php-fpm 8.2 workers (USE_ZEND_DTRACE=1),\n", len(workerPIDs))
	fmt.Printf("          %d parallel GET %s for %s: %d requests (%.0f calls each)\n\n", *connections, strings.TrimPrefix(url, s.URL()), *duration, requests, float64(*calls))
	row := func(k, v string) { fmt.Printf("| %-42s | %-34s |\n", k, v) }
	fmt.Printf("| %-42s | %-34s |\n|%s|%s|\n", "measure", "value", strings.Repeat("-", 44), strings.Repeat("-", 36))
	row("events read by the agent", fmt.Sprintf("%d in %.1f s", events, wall))
	row("events/s (mean over the run)", fmt.Sprintf("%.0f", eps))
	row("events/s (agent's perSecond, highest seen)", fmt.Sprintf("%.0f", maxEPS))
	row("events dropped (ring buffer full)", fmt.Sprintf("%d (%.3f%%), per CPU %v", lost, lostPct, after.Events.LostPerCPU))
	row("agent CPU", fmt.Sprintf("%.2f s = %.0f%% of one core", agentCPU, 100*agentCPU/wall))
	row("events per agent CPU-second (\"per core\")", fmt.Sprintf("%.0f (%.2f µs per event)", perCore, 1e6/perCore))
	row("agent RSS at the end / peak", fmt.Sprintf("%.0f / %.0f MiB", rss/(1<<20), hwm/(1<<20)))
	row("PHP workers' CPU (user+sys, incl. BPF)", fmt.Sprintf("%.2f s = %.0f%% of one core", phpCPU, 100*phpCPU/wall))
	row("PHP CPU per event (2 traps + BPF + call)", fmt.Sprintf("%.2f µs", 1e6*phpCPU/float64(events)))
	row("traces assembled / written / store dropped", fmt.Sprintf("%.0f / %d / %d (%.0f incomplete)", dm("tusk_traces_total"),
		after.Store.Written-before.Store.Written, after.Store.Dropped-before.Store.Dropped, dm("tusk_traces_incomplete_total")))
	// The assembler keeps at most 10000 function spans per trace and only
	// counts the rest (tusk.dropped_spans): past that, an event is read and
	// decoded but costs no span assembly nor storage.
	kept := dm("tusk_spans_stored_total")
	row("spans handed to the store (≤ 10000/trace)", fmt.Sprintf("%.0f (%.0f%% of the events)", kept, 100*kept/float64(events)))
	verdict := "MISS"
	if perCore >= goal && lost == 0 {
		verdict = "PASS"
	}
	partial := kept < 0.9*float64(events)
	if partial {
		verdict += ", read+decode only"
	}
	row("goal ≥ 1M events/s on one core, 0 drops", fmt.Sprintf("%s (%.2fM per agent core-second)", verdict, perCore/1e6))
	if partial {
		fmt.Printf("\nNOTE: only %.0f%% of the events became stored spans (calls past the assembler's 10000 spans per trace\n"+
			"are decoded and counted, nothing more): this figure is the agent's read + decode path, not its full\n"+
			"ingest. Use -n 9000 (the default) for every event to be assembled and stored.\n", 100*kept/float64(events))
	}

	// What PHP can produce: its CPU per event bounds the rate on the cores
	// the agent leaves it (nginx and the load loop take a little more).
	ncpu := float64(runtime.NumCPU())
	phpPerEvent := phpCPU / float64(events)
	fmt.Printf("\nPHP-side bound: %.2f µs of PHP CPU per event → at most %.0f events/s on all %d CPUs,\n",
		1e6*phpPerEvent, ncpu/phpPerEvent, int(ncpu))
	fmt.Printf("%.0f events/s on the %.2f CPUs the agent left it; 1M events/s would need %.1f CPUs of PHP.\n",
		(ncpu-agentCPU/wall)/phpPerEvent, ncpu-agentCPU/wall, goal*phpPerEvent)

	if profile != nil {
		printProfile(work, agentBin, profile)
	}
}

// load keeps *connections requests in flight for *duration and returns how
// many completed, and the highest events/s the agent reported meanwhile.
func load(url string, a *agent) (int64, float64) {
	var done atomic.Int64
	deadline := time.Now().Add(*duration)
	var wg sync.WaitGroup
	for i := 0; i < *connections; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				get(url)
				done.Add(1)
			}
		}()
	}
	var maxEPS float64
	for time.Now().Before(deadline) {
		time.Sleep(time.Second)
		if st, err := a.client.Status(context.Background()); err == nil && st.Events.PerSecond > maxEPS {
			maxEPS = st.Events.PerSecond
		}
	}
	wg.Wait() // the last requests end after the deadline: counted in the events, and in the wall time
	return done.Load(), maxEPS
}

var httpClient = &http.Client{Timeout: 2 * time.Minute}

func get(url string) {
	resp, err := httpClient.Get(url)
	check(err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	check(err)
	if resp.StatusCode != 200 || !strings.HasPrefix(string(body), "calls ") {
		cleanup.Die("GET %s: %d %q", url, resp.StatusCode, body)
	}
}

type agent struct {
	cmd    *exec.Cmd
	client *agentapi.Client
	once   sync.Once
}

// startAgent runs the agent on the fixture's master and waits until it
// traces the pool through the USDT probes.
func startAgent(bin, work string, s *stack.Stack) *agent {
	args := []string{"run", "--listen", agentAddr, "--db", filepath.Join(work, "traces.db"), "--pid", strconv.Itoa(s.FPM.MasterPID)}
	args = append(args, strings.Fields(*agentFlags)...)
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "TUSK_TOKEN=bench")
	if *withPprof {
		cmd.Env = append(cmd.Env, "TUSK_DEBUG_PPROF="+pprofAddr)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	logName := filepath.Join(work, "agent.log")
	logf, err := os.Create(logName)
	check(err)
	cmd.Stdout, cmd.Stderr = logf, logf
	check(cmd.Start())
	a := &agent{cmd: cmd, client: agentapi.NewClient("http://"+agentAddr, "bench")}
	cleanup.AtExit(a.stop)
	for i := 0; i < 1200; i++ {
		if st, err := a.client.Status(context.Background()); err == nil {
			for _, b := range st.Binaries {
				if b.Mode == "usdt" && len(b.Pools) > 0 {
					return a
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	out, _ := os.ReadFile(logName)
	cleanup.Die("agent did not get ready in 60s; its log:\n%s", out)
	return nil
}

func (a *agent) pid() int { return a.cmd.Process.Pid }

func (a *agent) status() *agentapi.Status {
	st, err := a.client.Status(context.Background())
	check(err)
	return st
}

// metrics scrapes the agent's own counters from /metrics.
func (a *agent) metrics() map[string]float64 {
	req, err := http.NewRequest("GET", "http://"+agentAddr+"/metrics", nil)
	check(err)
	req.Header.Set("Authorization", "Bearer bench")
	resp, err := httpClient.Do(req)
	check(err)
	defer resp.Body.Close()
	m := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		name, v, ok := strings.Cut(sc.Text(), " ")
		if ok && strings.HasPrefix(name, "tusk_") && !strings.Contains(name, "{") {
			m[name], _ = strconv.ParseFloat(v, 64)
		}
	}
	check(sc.Err())
	return m
}

func (a *agent) stop() {
	a.once.Do(func() {
		_ = a.cmd.Process.Signal(os.Interrupt)
		_ = a.cmd.Wait()
	})
}

// procCPU is a process's CPU time so far (utime + stime of /proc/PID/stat).
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	check(err)
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64) // fields 14 and 15 of stat, in clock ticks
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond // USER_HZ is 100 on Linux
}

func sumCPU(pids []int) time.Duration {
	var d time.Duration
	for _, p := range pids {
		d += procCPU(p)
	}
	return d
}

// procMem is a process's VmRSS and VmHWM, in bytes.
func procMem(pid int) (rss, hwm float64) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	check(err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), ":")
		kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
		switch k {
		case "VmRSS":
			rss = kb * 1024
		case "VmHWM":
			hwm = kb * 1024
		}
	}
	return rss, hwm
}

// fetchProfile takes a CPU profile of the agent over d (nil on failure).
func fetchProfile(d time.Duration) []byte {
	c := &http.Client{Timeout: d + time.Minute}
	resp, err := c.Get(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", pprofAddr, int(d.Seconds())))
	if err != nil {
		log.Printf("pprof: %v", err)
		return nil
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		log.Printf("pprof: %d %v", resp.StatusCode, err)
		return nil
	}
	return b
}

// printProfile prints the top of the agent's CPU profile, flat and cumulative.
func printProfile(work, agentBin string, profile []byte) {
	path := filepath.Join(work, "agent.cpu.pb.gz")
	if *keepProfile != "" {
		path = *keepProfile
	}
	check(os.WriteFile(path, profile, 0o644))
	for _, sort := range []string{"-flat", "-cum"} {
		out, err := exec.Command("go", "tool", "pprof", "-top", sort, "-nodecount", strconv.Itoa(*pprofTop), agentBin, path).CombinedOutput()
		if err != nil {
			log.Printf("go tool pprof: %v\n%s", err, out)
			return
		}
		fmt.Printf("\nagent CPU profile over the run, top %d by %s:\n%s", *pprofTop, sort[1:], out)
	}
	if *keepProfile != "" {
		fmt.Printf("\nprofile kept at %s (go tool pprof %s)\n", path, path)
	}
}

// machine describes where the figures come from.
func machine() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	var u syscall.Utsname
	kernel := "?"
	if syscall.Uname(&u) == nil {
		kernel = utsString(u.Release[:])
	}
	load := ""
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		load = strings.Join(strings.Fields(string(b))[:3], " ")
	}
	return fmt.Sprintf("%s, %d CPUs (%s), kernel %s, %s, load average %s",
		time.Now().UTC().Format("2006-01-02 15:04 MST"), runtime.NumCPU(), model, kernel, runtime.Version(), load)
}

func utsString(b []int8) string {
	s := make([]byte, 0, len(b))
	for _, c := range b {
		if c == 0 {
			break
		}
		s = append(s, byte(c))
	}
	return string(s)
}

func check(err error) {
	if err != nil {
		cleanup.Die("%v", err)
	}
}
