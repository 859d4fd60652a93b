// Command overhead measures what the agent costs php-fpm, against a control
// measured in the same run, alternating rounds with the agent detached and
// attached; load is bounded (wrk for a fixed time, loopback only). It prints
// ratios, the agent's event rate and ring buffer drops.
//
//	go run ./bench/overhead [-target fixture] [-rounds 3] [-duration 5s] [-connections 8]
//	go run ./bench/overhead -target wordpress [-rounds 5] [-duration 10s] [-workers 4]
//	go run ./bench/overhead -target wordpress-deep [-rounds 5] [-duration 10s] [-fixed-duration 15s]
//	go run ./bench/overhead -target wordpress-ab [-rounds 16] [-duration 15s] [-workers 2] [-ab-variant always-on]
//
// -target fixture (the default): the fixture app with USE_ZEND_DTRACE=1,
// request probes only, then deep mode. -target wordpress: WordPress and
// MariaDB on php-fpm with opcache and the tracing JIT, no USE_ZEND_DTRACE,
// the agent in always-on mode (its defaults) and in variants that isolate
// its parts, at saturation and at a fixed request rate (see wordpress.go).
// -target wordpress-deep: the same WordPress with USE_ZEND_DTRACE=1, control
// vs always-on vs deep mode on every worker and on one worker only, with
// php-fpm's own per-worker timings (see wordpress_deep.go).
// -target wordpress-ab: two WordPress stacks loaded side by side, one traced
// (always-on), the other the control in the same seconds, so that the
// host's drift cancels out of each round's ratio (see wordpress_ab.go).
//
// Needs root (the agent loads BPF), wrk, php-fpm 8.2 and nginx (and MariaDB
// and Debian's wordpress package for -target wordpress).
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/tusk-php/tusk/bench/internal/cleanup"
	"github.com/tusk-php/tusk/pkg/agentapi"
	"github.com/tusk-php/tusk/tests/stack"
)

var (
	target      = flag.String("target", "fixture", "what to load: fixture (tests/fixtures/app, request probes and deep mode), wordpress (always-on mode), wordpress-ab (always-on, two stacks side by side) or wordpress-deep (deep mode on all workers and on one)")
	rounds      = flag.Int("rounds", 3, "control/attached rounds (wordpress: 5 unless set)")
	duration    = flag.Duration("duration", 5*time.Second, "wrk run length (wordpress: 10s unless set)")
	connections = flag.Int("connections", 8, "wrk connections")
	path        = flag.String("path", "/status.php?code=200", "request path (a fast PHP script shows the overhead best; wordpress: / unless set)")
	wrkTimeout  = new(time.Duration) // wrk --timeout if set (wordpress-deep)
	deepPath    = flag.String("deep-path", "/calls.php?n=2000", "path for the deep-mode ingest run (every call becomes an event)")
)

type result struct {
	rps      float64
	p50, p99 time.Duration
	requests int    // completed in the run
	sockErr  string // wrk's "Socket errors: …" line, if any
}

func main() {
	flag.Parse()
	log.SetFlags(0)
	if os.Geteuid() != 0 {
		log.Fatal("run as root: the agent loads BPF programs")
	}
	set := map[string]bool{}
	flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
	// Ctrl-C and fatal errors still stop the agent and the services.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		s := <-sig
		cleanup.Die("interrupted (%s)", s)
	}()
	switch *target {
	case "fixture":
		runFixture()
	case "wordpress":
		if !set["duration"] {
			*duration = 10 * time.Second
		}
		if !set["path"] {
			*path = "/"
		}
		if !set["rounds"] {
			*rounds = 5
		}
		runWordPress()
	case "wordpress-deep":
		if !set["duration"] {
			*duration = 10 * time.Second
		}
		if !set["path"] {
			*path = "/"
		}
		if !set["rounds"] {
			*rounds = 5
		}
		if !set["rate-fraction"] {
			*rateFrac = 0.35
		}
		if !set["bpf-stats"] {
			// bpf_stats adds its own clock reads to every uprobe hit (~250k per deep request).
			*bpfStatsOn = false
		}
		runWordPressDeep()
	case "wordpress-ab":
		defaults := map[string]func(){
			"duration":    func() { *duration = 15 * time.Second },
			"path":        func() { *path = "/" },
			"rounds":      func() { *rounds = 16 },
			"workers":     func() { *workers = 2 },
			"connections": func() { *connections = 4 },
		}
		for name, f := range defaults {
			if !set[name] {
				f()
			}
		}
		runWordPressAB()
	default:
		log.Fatalf("-target %q: want fixture, wordpress, wordpress-ab or wordpress-deep", *target)
	}
	cleanup.Run()
}

// workDir creates the bench's temporary dir, readable by www-data.
func workDir() string {
	work, err := os.MkdirTemp("", "tusk-bench-")
	check(err)
	check(os.Chmod(work, 0o755))
	cleanup.AtExit(func() { os.RemoveAll(work) })
	return work
}

// buildAgent builds ./pkg/cmd/tusk-agent into work.
func buildAgent(work string) string {
	agentBin := filepath.Join(work, "tusk-agent")
	build := exec.Command("go", "build", "-o", agentBin, "./pkg/cmd/tusk-agent")
	build.Stderr = os.Stderr
	// Without cgo, as released: the agent drops its capabilities on every thread only then.
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	check(build.Run())
	return agentBin
}

type agent struct {
	cmd    *exec.Cmd
	client *agentapi.Client
	log    string
	once   sync.Once
}

// startAgent runs the agent on s's php-fpm master with extra flags and
// returns once ready says its status is what the round needs.
func startAgent(bin, work string, s *stack.Stack, db string, extra []string, ready func(*agentapi.Status) bool) *agent {
	addr := "127.0.0.1:17070"
	args := append([]string{"run", "--listen", addr, "--db", filepath.Join(work, db), "--pid", strconv.Itoa(s.FPM.MasterPID)}, extra...)
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "TUSK_TOKEN=bench")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	logName := filepath.Join(work, "agent.log")
	logf, err := os.Create(logName)
	check(err)
	cmd.Stdout, cmd.Stderr = logf, logf
	check(cmd.Start())
	a := &agent{cmd: cmd, client: agentapi.NewClient("http://"+addr, "bench"), log: logName}
	cleanup.AtExit(a.stop)
	for i := 0; i < 1200; i++ {
		st, err := a.client.Status(context.Background())
		if err == nil && ready(st) {
			return a
		}
		time.Sleep(50 * time.Millisecond)
	}
	out, _ := os.ReadFile(logName)
	cleanup.Die("agent %v did not get ready in 60s; its log:\n%s", extra, out)
	return nil
}

func (a *agent) status() *agentapi.Status {
	st, err := a.client.Status(context.Background())
	check(err)
	return st
}

// cpu is the agent's CPU time so far (user + system), in nanoseconds.
func (a *agent) cpu() time.Duration {
	return procCPU(a.cmd.Process.Pid)
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

func (a *agent) stop() {
	a.once.Do(func() {
		_ = a.cmd.Process.Signal(os.Interrupt)
		_ = a.cmd.Wait()
	})
}

var (
	rpsRe     = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	countRe   = regexp.MustCompile(`(?m)^\s+([0-9]+) requests in `)
	sockErrRe = regexp.MustCompile(`Socket errors: (.*)`)
	latRe     = regexp.MustCompile(`(?m)^\s+(50|99)%\s+([0-9.]+)(us|ms|s) *$`)
)

// wrk runs one bounded load of *duration and parses its figures.
func wrk(url string) result { return wrkFor(url, *duration) }

// wrkFor is wrk for d.
func wrkFor(url string, d time.Duration) result {
	args := []string{"-t2", "-c" + strconv.Itoa(*connections), "-d" + d.String(), "--latency"}
	if *wrkTimeout > 0 {
		args = append(args, "--timeout", strconv.Itoa(int(wrkTimeout.Seconds()))+"s")
	}
	out, err := exec.Command("wrk", append(args, url)...).CombinedOutput()
	if err != nil {
		cleanup.Die("wrk: %v\n%s", err, out)
	}
	text := string(out)
	if strings.Contains(text, "Non-2xx") {
		cleanup.Die("wrk saw errors:\n%s", text)
	}
	var r result
	if m := sockErrRe.FindStringSubmatch(text); m != nil {
		r.sockErr = m[1]
	}
	if m := rpsRe.FindStringSubmatch(text); m != nil {
		r.rps, _ = strconv.ParseFloat(m[1], 64)
	}
	if m := countRe.FindStringSubmatch(text); m != nil {
		r.requests, _ = strconv.Atoi(m[1])
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

// medianF is the median of v (the upper one for an even count); v is sorted in place.
func medianF(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	sort.Float64s(v)
	return v[len(v)/2]
}

func check(err error) {
	if err != nil {
		cleanup.Die("%v", err)
	}
}
