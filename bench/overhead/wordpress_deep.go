package main

import (
	"bufio"
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tusk-php/tusk/bench/internal/cleanup"
	"github.com/tusk-php/tusk/pkg/agentapi"
	"github.com/tusk-php/tusk/tests/stack"
)

// -target wordpress-deep: what deep mode costs on WordPress + MariaDB, on the
// pool and on one worker only. Deep mode needs the php-fpm master started with
// USE_ZEND_DTRACE=1 (which also turns the JIT off), so every variant runs on
// that same stack and only the agent differs:
//
//	control    agent not running
//	always-on  agent with its defaults (--pid <master>), no deep mode
//	deep-all   always-on + deep mode on the pool (default 1 ms threshold)
//	deep-one   always-on + deep mode on one worker PID (a different one each round)
//
//  1. saturation: wrk on the front page per variant, ratios to control;
//  2. a fixed rate (open loop) well below saturation, and php-fpm's own view
//     of it, per worker: its access log (%p worker PID, %{micro}d time in
//     the worker) and each worker's /proc/PID/schedstat (on-CPU and
//     run-queue wait). The goal: with deep mode on one worker, the other
//     workers' PHP time stays within 1% of always-on.
//
// deep-all cannot take the others' fixed rate (each request is ~5× the CPU):
// it runs at -rate-fraction of its own saturation throughput.

var fixedDuration = flag.Duration("fixed-duration", 15*time.Second, "wordpress-deep: open-loop run length per round")

// deepNice is what deep-one asks for its worker: the agent runs a chosen
// worker at nice 10 by default (pkg/agent/nice.go); 0 measures it at its
// pool-mates' priority.
var deepNice = flag.Int("deep-nice", -1, "wordpress-deep: nice value asked for deep-one's worker (-1: the agent's default)")

// fpmAccessFormat: worker PID, status, time in the worker (µs), %CPU of
// that time, URI.
const fpmAccessFormat = "%p %s %{micro}d %{total}C %r"

var deepVariants = []variant{
	{key: "control", label: "control (no agent)"},
	{key: "always-on", label: "always-on (defaults)", needIO: true, needProfile: true},
	{key: "deep-all", label: "deep mode, all workers", needIO: true, needProfile: true, deep: "pool"},
	{key: "deep-one", label: "deep mode, one worker", needIO: true, needProfile: true, deep: "one"},
}

// fpmReq is one line of php-fpm's access log.
type fpmReq struct {
	pid, status int
	dur         time.Duration // in the worker, from accept to the end of the request
	cpuPct      float64       // php-fpm's %C: (user+sys CPU) / dur, from times(2), 10 ms ticks
}

// schedStat is /proc/PID/schedstat: time on a CPU and waiting for one.
type schedStat struct{ run, wait time.Duration }

// fpmRound is php-fpm's view of one load: the requests it logged and each
// worker's scheduler time over the load.
type fpmRound struct {
	reqs  []fpmReq
	sched map[int]schedStat
	// ours is the CPU of the stack (php-fpm, nginx, MariaDB and their
	// children), this process and the children it waited for (wrk) over the
	// load (the agent too: it is a child). The rest of the machine's busy
	// time is other work on the machine: the noise.
	ours time.Duration
	// others is the CPU of other processes over the load, by command name.
	others map[string]time.Duration
}

// foreign is the machine's busy time over the load not spent by the stack,
// the bench or the agent, as a share of the machine.
func (s sample) foreign() float64 {
	if s.fpm == nil || s.machine.total == 0 {
		return 0
	}
	return max(0, float64(s.machine.busy-s.fpm.ours)) / float64(s.machine.total)
}

// deepRecord is the deep-mode grant of one round.
type deepRecord struct {
	pids      []int         // asked for (deep-one) or the pool's workers (deep-all)
	attachIn  time.Duration // from the request to all PIDs attached
	attached  []int
	funcProbe []agentapi.Probe // function probes in the status once attached
	nice      int              // the grant's nice value
	niceError string
}

type deepBench struct {
	*wpBench
	accessLog string
	workers   []int
}

func runWordPressDeep() {
	ctx := context.Background()
	t0 := time.Now()
	load0 := loadAvg()
	work := workDir()
	b := &deepBench{wpBench: &wpBench{work: work, bin: buildAgent(work), statuses: map[string]*agentapi.Status{}}}

	s, err := stack.StartWordPress(ctx, filepath.Join(work, "stack"), stack.StackOptions{
		Workers: *workers, FPMIniArgs: jitIni, FPMEnv: []string{"USE_ZEND_DTRACE=1"}, FPMAccessFormat: fpmAccessFormat})
	check(err)
	cleanup.AtExit(func() { s.Stop() })
	b.s, b.url, b.accessLog = s, s.URL()+*path, s.FPM.AccessLog(s.Pool)
	b.workers = s.FPM.WorkerPIDs(s.Pool)
	slices.Sort(b.workers)
	if len(b.workers) < 2 {
		cleanup.Die("need at least 2 workers, have %v", b.workers)
	}
	php := b.checkPHP(true)

	perVariant := 4 * time.Second // agent start and settle, deep attach, stop (measured ~3–4 s)
	est := 40*time.Second + *warmup + time.Duration(*rounds)*time.Duration(len(deepVariants))*(*duration+*fixedDuration+2*perVariant)
	fmt.Printf("command: go run ./bench/overhead %s\n", strings.Join(os.Args[1:], " "))
	fmt.Printf("date: %s; estimated run time %s (started %s)\n", t0.UTC().Format(time.RFC3339), est.Round(time.Minute), t0.UTC().Format("15:04:05"))
	fmt.Printf("machine: %d CPUs, %s, kernel %s; load average at start: %s\n", cpuCount(), cpuModel(), kernelRelease(), load0)
	fmt.Printf("wordpress: %s, %d workers (pm static) %v, ini %s; MariaDB %s; nginx at %s\n", php, *workers, b.workers,
		strings.Join(jitIni, " "), mariadbVersion(), s.URL())
	fmt.Printf("php-fpm access log %s, access.format %q\n", b.accessLog, fpmAccessFormat)
	fmt.Printf("load: GET %s, wrk -t2 -c%d -d%s at saturation, then open loop for %s; %d rounds, warm-up %s\n\n",
		*path, *connections, *duration, *fixedDuration, *rounds, *warmup)

	*wrkTimeout = 30 * time.Second // a deep-all request can take seconds at saturation
	b.warmUp()

	// 1. Saturation.
	sat := map[string][]sample{}
	for r := 1; r <= *rounds; r++ {
		line := fmt.Sprintf("round %d saturation req/s:", r)
		for _, v := range roundOrder(deepVariants, r) {
			smp := b.measure(v, b.deepSetup(v, r), b.withFPM(func(smp *sample) {
				smp.sat = wrk(b.url)
				smp.requests = smp.sat.requests
			}), nil)
			if smp.sat.sockErr != "" {
				fmt.Printf("  (%s, round %d: wrk socket errors: %s)\n", v.key, r, smp.sat.sockErr)
			}
			sat[v.key] = append(sat[v.key], smp)
			line += fmt.Sprintf(" %s %.1f (other work %.0f%%) |", v.key, smp.sat.rps, 100*smp.foreign())
		}
		fmt.Println(strings.TrimSuffix(line, " |"))
	}
	satRPS := func(key string) float64 { return medianOf(sat[key], func(s sample) float64 { return s.sat.rps }) }
	controlRPS := satRPS("control")

	// 2. Fixed rate.
	rate := *fixedRate
	if rate <= 0 {
		rate = *rateFrac * controlRPS
	}
	deepAllRate := min(rate, *rateFrac*satRPS("deep-all"))
	rateOf := func(v variant) float64 {
		if v.key == "deep-all" {
			return deepAllRate
		}
		return rate
	}
	fixed := map[string][]sample{}
	for r := 1; r <= *rounds; r++ {
		line := fmt.Sprintf("round %d open loop, PHP p50 by worker group:", r)
		for _, v := range roundOrder(deepVariants, r) {
			smp := b.measure(v, b.deepSetup(v, r), b.withFPM(func(smp *sample) {
				smp.open = openLoop(b.url, rateOf(v), *fixedDuration)
				smp.requests = smp.open.sent - smp.open.errors
			}), nil)
			fixed[v.key] = append(fixed[v.key], smp)
			if v.key == "deep-one" {
				dw, others := splitByPID(smp.fpm.reqs, smp.deep.pids)
				line += fmt.Sprintf(" deep-one: worker %d %s (%d req), others %s |", smp.deep.pids[0],
					dur(float64(fpmPct(dw, 50))), len(dw), dur(float64(fpmPct(others, 50))))
			} else {
				line += fmt.Sprintf(" %s %s |", v.key, dur(float64(fpmPct(smp.fpm.reqs, 50))))
			}
			line = strings.TrimSuffix(line, " |") + fmt.Sprintf(" (other work %.0f%%) |", 100*smp.foreign())
		}
		fmt.Println(strings.TrimSuffix(line, " |"))
	}

	b.reportDeep(sat, fixed, rate, deepAllRate, controlRPS)
	fmt.Printf("\nload average at end: %s; run time %s\n", loadAvg(), time.Since(t0).Round(time.Second))
}

// deepSetup is measure's setup for v in round r: deep mode on the pool, or
// on one worker (round r takes the r-th worker, in turn), then wait until
// the agent says the function probes are attached to every PID; it is
// turned off right after the load (the agent is stopped after it too).
func (b *deepBench) deepSetup(v variant, r int) func(*agent, *sample) func() {
	if v.deep == "" {
		return nil
	}
	return func(a *agent, smp *sample) func() {
		ctx := context.Background()
		st := a.status()
		for _, bin := range st.Binaries {
			if len(bin.Pools) > 0 && !bin.DeepAvailable {
				cleanup.Die("deep mode not available on %s: %s", bin.Path, bin.DeepReason)
			}
		}
		req := agentapi.DeepModeRequest{For: agentapi.Duration(10 * time.Minute)}
		rec := &deepRecord{}
		if v.deep == "pool" {
			req.Pool = b.s.Pool
			rec.pids = b.s.FPM.WorkerPIDs(b.s.Pool)
		} else {
			rec.pids = []int{b.workers[(r-1)%len(b.workers)]}
			req.PIDs = rec.pids
			if *deepNice >= 0 {
				req.Nice = deepNice
			}
		}
		slices.Sort(rec.pids)
		t0 := time.Now()
		dm, err := a.client.EnableDeepMode(ctx, req)
		check(err)
		rec.nice, rec.niceError = dm.Nice, dm.NiceError
		for {
			st := a.status()
			for _, g := range st.DeepModes {
				if g.ID != dm.ID {
					continue
				}
				all := true
				for _, pid := range rec.pids {
					all = all && slices.Contains(g.AttachedPIDs, pid)
				}
				if all {
					rec.attachIn = time.Since(t0)
					rec.attached = slices.Sorted(slices.Values(g.AttachedPIDs))
					for _, p := range st.Probes {
						if strings.Contains(p.Name, "function") {
							rec.funcProbe = append(rec.funcProbe, p)
						}
					}
				}
			}
			if rec.attached != nil {
				break
			}
			if time.Since(t0) > 30*time.Second {
				out, _ := os.ReadFile(a.log)
				cleanup.Die("deep mode %+v: PIDs %v not attached after 30 s (grants %+v); agent log:\n%s", req, rec.pids, st.DeepModes, out)
			}
			time.Sleep(50 * time.Millisecond)
		}
		smp.deep = rec
		return func() {
			if err := a.client.DisableDeepMode(ctx, dm.ID); err != nil {
				fmt.Printf("  (turning deep mode %s off: %v)\n", dm.ID, err)
			}
		}
	}
}

// withFPM wraps a load so that the sample also gets php-fpm's view of it:
// the access log lines written during the load, and each worker's
// schedstat delta.
func (b *deepBench) withFPM(load func(*sample)) func(*sample) {
	return func(smp *sample) {
		off := fileSize(b.accessLog)
		roots := []int{os.Getpid(), b.s.FPM.MasterPID, b.s.Nginx.PID, b.s.DB.PID}
		s0, o0 := poolSched(b.s), snapProcs(roots)
		load(smp)
		// wrk leaves requests running when it stops (a deep one for seconds),
		// and a worker writes its line after the response: wait until every
		// worker is idle, so that this round's lines are not read in the next.
		waitIdle(b.s)
		o1, s1 := snapProcs(roots), poolSched(b.s)
		r := &fpmRound{sched: map[int]schedStat{}}
		r.ours, r.others = o1.cpuSince(o0)
		for pid, a := range s1 {
			if z, ok := s0[pid]; ok {
				r.sched[pid] = schedStat{run: a.run - z.run, wait: a.wait - z.wait}
			}
		}
		r.reqs = readAccessLog(b.accessLog, off)
		smp.fpm = r
	}
}

// waitIdle waits (at most 20 s) until no worker of the pools ran for 200 ms.
func waitIdle(stacks ...*stack.Stack) {
	prev := poolSched(stacks...)
	for t0 := time.Now(); time.Since(t0) < 20*time.Second; {
		time.Sleep(200 * time.Millisecond)
		cur := poolSched(stacks...)
		busy := false
		for pid, c := range cur {
			busy = busy || c.run-prev[pid].run > time.Millisecond
		}
		if !busy {
			return
		}
		prev = cur
	}
	fmt.Println("  (workers still busy 20 s after the load)")
}

// poolSched is the schedstat of every worker of the stacks' pools, by PID.
func poolSched(stacks ...*stack.Stack) map[int]schedStat {
	out := map[int]schedStat{}
	for _, s := range stacks {
		for _, pid := range s.FPM.WorkerPIDs(s.Pool) {
			if st, ok := readSchedStat(pid); ok {
				out[pid] = st
			}
		}
	}
	return out
}

func readSchedStat(pid int) (schedStat, bool) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/schedstat", pid))
	if err != nil {
		return schedStat{}, false
	}
	f := strings.Fields(string(raw))
	if len(f) < 2 {
		return schedStat{}, false
	}
	run, _ := strconv.ParseInt(f[0], 10, 64)
	wait, _ := strconv.ParseInt(f[1], 10, 64)
	return schedStat{run: time.Duration(run), wait: time.Duration(wait)}, true
}

func fileSize(name string) int64 {
	fi, err := os.Stat(name)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// readAccessLog parses the access log from offset on (fpmAccessFormat).
func readAccessLog(name string, off int64) []fpmReq {
	f, err := os.Open(name)
	check(err)
	defer f.Close()
	_, err = f.Seek(off, io.SeekStart)
	check(err)
	var out []fpmReq
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if r, ok := parseAccessLine(sc.Text()); ok {
			out = append(out, r)
		}
	}
	check(sc.Err())
	return out
}

// parseAccessLine reads "PID STATUS MICROS CPU% URI".
func parseAccessLine(line string) (fpmReq, bool) {
	f := strings.Fields(line)
	if len(f) < 4 {
		return fpmReq{}, false
	}
	pid, err1 := strconv.Atoi(f[0])
	status, err2 := strconv.Atoi(f[1])
	us, err3 := strconv.ParseInt(f[2], 10, 64)
	cpu, err4 := strconv.ParseFloat(strings.TrimSuffix(f[3], "%"), 64)
	if err1 != nil || err2 != nil || err3 != nil || err4 != nil {
		return fpmReq{}, false
	}
	return fpmReq{pid: pid, status: status, dur: time.Duration(us) * time.Microsecond, cpuPct: cpu}, true
}

// splitByPID splits requests into those served by pids and the others.
func splitByPID(reqs []fpmReq, pids []int) (in, out []fpmReq) {
	for _, r := range reqs {
		if slices.Contains(pids, r.pid) {
			in = append(in, r)
		} else {
			out = append(out, r)
		}
	}
	return in, out
}

// fpmPct is the p-th percentile (nearest rank) of the requests' PHP time.
func fpmPct(reqs []fpmReq, p int) time.Duration {
	d := make([]time.Duration, len(reqs))
	for i, r := range reqs {
		d[i] = r.dur
	}
	slices.Sort(d)
	return pct(d, p)
}

// group is a set of requests of one variant (all workers, the deep worker,
// the other workers), pooled over the rounds, with their workers'
// scheduler time.
type group struct {
	label      string
	reqs       []fpmReq
	run, wait  time.Duration // schedstat of the group's workers, summed over the rounds
	total      int           // requests of all workers in these rounds
	deepWorker bool
}

func (g group) mean() time.Duration {
	var t time.Duration
	for _, r := range g.reqs {
		t += r.dur
	}
	return t / time.Duration(max(len(g.reqs), 1))
}

// cpuTicks is the mean CPU per request by php-fpm's own %C (times(2)).
func (g group) cpuTicks() time.Duration {
	var t float64
	for _, r := range g.reqs {
		t += float64(r.dur) * r.cpuPct / 100
	}
	return time.Duration(t / float64(max(len(g.reqs), 1)))
}

func (g group) perReq(d time.Duration) time.Duration { return d / time.Duration(max(len(g.reqs), 1)) }

// groups pools a variant's rounds: every worker together, or for deep-one
// the deep worker of each round and the others apart.
func groups(key string, ss []sample) []group {
	if key != "deep-one" {
		g := group{label: "all workers"}
		for _, s := range ss {
			g.reqs = append(g.reqs, s.fpm.reqs...)
			g.total += len(s.fpm.reqs)
			for _, st := range s.fpm.sched {
				g.run += st.run
				g.wait += st.wait
			}
		}
		return []group{g}
	}
	d := group{label: "the deep worker", deepWorker: true}
	o := group{label: "the other workers"}
	for _, s := range ss {
		in, out := splitByPID(s.fpm.reqs, s.deep.pids)
		d.reqs, o.reqs = append(d.reqs, in...), append(o.reqs, out...)
		d.total += len(s.fpm.reqs)
		o.total += len(s.fpm.reqs)
		for pid, st := range s.fpm.sched {
			if slices.Contains(s.deep.pids, pid) {
				d.run, d.wait = d.run+st.run, d.wait+st.wait
			} else {
				o.run, o.wait = o.run+st.run, o.wait+st.wait
			}
		}
	}
	return []group{d, o}
}

func (b *deepBench) reportDeep(sat, fixed map[string][]sample, rate, deepAllRate, controlRPS float64) {
	fmt.Printf("\n== saturation: GET %s, wrk -t2 -c%d -d%s, medians of %d rounds ==\n", *path, *connections, *duration, *rounds)
	fmt.Println("(stack CPU/req: CPU of php-fpm, nginx, MariaDB, wrk, the bench and the agent per request, which other work on the machine")
	fmt.Println(" barely changes; control's / this is then the throughput ratio the machine would give with nothing else running)")
	ctlOurs := medianOf(sat["control"], func(s sample) float64 { return s.perReq(s.fpm.ours) })
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "variant\treq/s\tvs control\tstack CPU/req\tcontrol's / this\twrk p50\twrk p99\tPHP p50 (php-fpm)\tCPU/req (machine)\tother work\tagent CPU/req\tevents/s\tspans stored/req\tlost\t")
	for _, v := range deepVariants {
		ss := sat[v.key]
		rps := medianOf(ss, func(s sample) float64 { return s.sat.rps })
		ours := medianOf(ss, func(s sample) float64 { return s.perReq(s.fpm.ours) })
		row := fmt.Sprintf("%s\t%.1f\t%.3f\t%.0f µs\t%.3f\t%s\t%s\t%s\t%.0f µs\t%.0f%%\t", v.label, rps, rps/controlRPS, ours, ctlOurs/ours,
			dur(medianOf(ss, func(s sample) float64 { return float64(s.sat.p50) })),
			dur(medianOf(ss, func(s sample) float64 { return float64(s.sat.p99) })),
			dur(medianOf(ss, func(s sample) float64 { return float64(fpmPct(s.fpm.reqs, 50)) })),
			medianOf(ss, func(s sample) float64 { return s.perReq(s.machine.busy) }),
			medianOf(ss, func(s sample) float64 { return 100 * s.foreign() }))
		row += agentColumns(v, ss, *duration)
		fmt.Fprintln(tw, row)
	}
	tw.Flush()

	fmt.Printf("\n== fixed rate, open loop, %s per round, client latency from the scheduled send, medians of %d rounds ==\n", *fixedDuration, *rounds)
	fmt.Printf("rate: %.1f req/s (%.0f%% of the control's %.1f); deep-all at %.1f req/s (%.0f%% of its own saturation: at the others' rate it would need more CPU than the machine has)\n",
		rate, 100*rate/controlRPS, controlRPS, deepAllRate, 100*deepAllRate/max(medianOf(sat["deep-all"], func(s sample) float64 { return s.sat.rps }), 1e-9))
	c50 := medianOf(fixed["control"], func(s sample) float64 { return float64(s.open.p50) })
	tw = tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "variant\treq/s\tp50\tp90\tp99\tp50 vs control\terrors\tmachine CPU busy\tother work\tagent CPU/req\tevents/s\tspans stored/req\tlost\t")
	var lateMax time.Duration
	for _, v := range deepVariants {
		ss := fixed[v.key]
		p50 := medianOf(ss, func(s sample) float64 { return float64(s.open.p50) })
		errs := 0
		for _, s := range ss {
			errs += s.open.errors
			lateMax = max(lateMax, s.open.lateStart)
		}
		row := fmt.Sprintf("%s\t%.1f\t%s\t%s\t%s\t%+.1f%%\t%d\t%.0f%%\t%.0f%%\t", v.label, ss[0].open.rate, dur(p50),
			dur(medianOf(ss, func(s sample) float64 { return float64(s.open.p90) })),
			dur(medianOf(ss, func(s sample) float64 { return float64(s.open.p99) })), 100*(p50/c50-1), errs,
			medianOf(ss, func(s sample) float64 { return 100 * float64(s.machine.busy) / float64(max(s.machine.total, 1)) }),
			medianOf(ss, func(s sample) float64 { return 100 * s.foreign() }))
		row += agentColumns(v, ss, *fixedDuration)
		fmt.Fprintln(tw, row)
	}
	tw.Flush()
	fmt.Printf("(generator check: p99 of send lateness, worst round: %s; other work: machine CPU not used by the stack, the bench, wrk or the agent, share of all CPUs)\n", lateMax.Round(time.Microsecond))

	// Per worker, from php-fpm itself.
	fmt.Printf("\n== fixed rate, per worker, from php-fpm: access log (%%{micro}d: time in the worker) and /proc/PID/schedstat, pooled over %d rounds ==\n", *rounds)
	base := groups("always-on", fixed["always-on"])[0]
	b50, b99 := fpmPct(base.reqs, 50), fpmPct(base.reqs, 99)
	tw = tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "variant\tworkers\trequests (share)\tPHP p50\tp90\tp99\tmean\tp50 vs always-on\tp99 vs always-on\ton-CPU/req (schedstat)\trun-queue wait/req\tCPU/req (php-fpm %C)\tnon-200\t")
	all := map[string][]group{}
	for _, v := range deepVariants {
		for _, g := range groups(v.key, fixed[v.key]) {
			all[v.key] = append(all[v.key], g)
			p50, p99 := fpmPct(g.reqs, 50), fpmPct(g.reqs, 99)
			bad := 0
			for _, r := range g.reqs {
				if r.status != 200 {
					bad++
				}
			}
			fmt.Fprintf(tw, "%s\t%s\t%d (%.0f%%)\t%s\t%s\t%s\t%s\t%.3f\t%.3f\t%s\t%s\t%s\t%d\t\n", v.key, g.label, len(g.reqs),
				100*float64(len(g.reqs))/float64(max(g.total, 1)), dur(float64(p50)), dur(float64(fpmPct(g.reqs, 90))),
				dur(float64(p99)), dur(float64(g.mean())), float64(p50)/float64(b50), float64(p99)/float64(b99),
				dur(float64(g.perReq(g.run))), dur(float64(g.perReq(g.wait))), dur(float64(g.cpuTicks())), bad)
		}
	}
	tw.Flush()
	fmt.Println("(on-CPU and run-queue wait: the group's workers' schedstat over the load, divided by their requests; deep-one's deep worker changes every round)")

	// Per round, deep-one's other workers against the always-on round next to it: the spread is the noise.
	// Per round, deep-one's other workers against the always-on round of the
	// same round index (the rotation keeps them close in time): their median
	// over rounds is the goal's figure, robust to one round that a stall of the
	// machine spoils (pooled percentiles are not).
	fmt.Printf("\nper round, fixed rate (other work in the deep-one / always-on loads):\n")
	roundRatio := func(p int) []float64 {
		var out []float64
		for i := range min(len(fixed["deep-one"]), len(fixed["always-on"])) {
			_, o := splitByPID(fixed["deep-one"][i].fpm.reqs, fixed["deep-one"][i].deep.pids)
			out = append(out, float64(fpmPct(o, p))/float64(fpmPct(fixed["always-on"][i].fpm.reqs, p)))
		}
		return out
	}
	r50, r99 := roundRatio(50), roundRatio(99)
	for i := range r50 {
		fmt.Printf("  round %d: deep-one's other workers / always-on's: PHP p50 %.3f, p99 %.3f; control / always-on p50 %.3f (other work %.0f%% / %.0f%%)\n",
			i+1, r50[i], r99[i], float64(fpmPct(fixed["control"][i].fpm.reqs, 50))/float64(fpmPct(fixed["always-on"][i].fpm.reqs, 50)),
			100*fixed["deep-one"][i].foreign(), 100*fixed["always-on"][i].foreign())
	}

	// Requests per worker, per variant (the deep worker serves fewer: it is busy longer).
	fmt.Printf("requests per worker PID, fixed rate, all rounds:")
	for _, v := range deepVariants {
		n := map[int]int{}
		for _, s := range fixed[v.key] {
			for _, r := range s.fpm.reqs {
				n[r.pid]++
			}
		}
		var parts []string
		for _, pid := range b.workers {
			parts = append(parts, fmt.Sprintf("%d:%d", pid, n[pid]))
		}
		fmt.Printf(" %s [%s]", v.key, strings.Join(parts, " "))
	}
	fmt.Println()

	// What the other work was.
	fmt.Printf("\nother work on the machine during the loads (CPU of processes not ours, all rounds, top 5; the rest of the machine's busy time is steal, interrupts, exited processes):\n")
	for _, v := range deepVariants {
		byComm := map[string]time.Duration{}
		var total, busy time.Duration
		for _, m := range []map[string][]sample{sat, fixed} {
			for _, s := range m[v.key] {
				for c, d := range s.fpm.others {
					byComm[c] += d
				}
				total += s.machine.total
				busy += max(0, s.machine.busy-s.fpm.ours)
			}
		}
		names := slices.Collect(maps.Keys(byComm))
		slices.SortFunc(names, func(a, b string) int { return cmp.Compare(byComm[b], byComm[a]) })
		var parts []string
		var attributed time.Duration
		for i, n := range names {
			attributed += byComm[n]
			if i < 5 {
				parts = append(parts, fmt.Sprintf("%s %.1f%%", n, 100*float64(byComm[n])/float64(total)))
			}
		}
		fmt.Printf("  %s: %.1f%% of the machine; processes %.1f%%: %s\n", v.key, 100*float64(busy)/float64(max(total, 1)),
			100*float64(attributed)/float64(max(total, 1)), strings.Join(parts, ", "))
	}

	// Agent: function spans and the grant.
	fmt.Printf("\n== agent ==\n")
	aoSpans := medianOf(fixed["always-on"], spansPerReq)
	aoSat := medianOf(sat["always-on"], spansPerReq)
	fmt.Printf("spans stored per request, always-on: %.1f (saturation) / %.1f (fixed rate): the request and its I/O spans\n", aoSat, aoSpans)
	fmt.Printf("function spans per deep request (spans stored per request − always-on's), deep-all: %.1f (saturation) / %.1f (fixed rate)\n",
		medianOf(sat["deep-all"], spansPerReq)-aoSat, medianOf(fixed["deep-all"], spansPerReq)-aoSpans)
	fnOne := func(ss []sample, base float64) float64 {
		return medianOf(ss, func(s sample) float64 {
			in, _ := splitByPID(s.fpm.reqs, s.deep.pids)
			return (float64(s.spans) - base*float64(s.requests)) / float64(max(len(in), 1))
		})
	}
	fmt.Printf("function spans per request of the deep worker, deep-one: %.1f (saturation) / %.1f (fixed rate)\n",
		fnOne(sat["deep-one"], aoSat), fnOne(fixed["deep-one"], aoSpans))
	for _, key := range []string{"deep-all", "deep-one"} {
		var attach []float64
		for _, m := range []map[string][]sample{sat, fixed} {
			for _, s := range m[key] {
				attach = append(attach, float64(s.deep.attachIn))
			}
		}
		s := fixed[key][0].deep
		pidsOf := map[int]int{}
		for _, p := range s.funcProbe {
			pidsOf[p.PID]++
		}
		nice := fmt.Sprintf("nice %d", s.nice)
		if s.niceError != "" {
			nice = "nice unchanged: " + s.niceError
		}
		fmt.Printf("%s: deep mode on %v (%s), attached to %v in %s (median over rounds); function probes in the status: %d, by PID %v\n",
			key, s.pids, nice, s.attached, dur(medianF(attach)), len(s.funcProbe), pidsOf)
	}
	var events, lost uint64
	for _, m := range []map[string][]sample{sat, fixed} {
		for key, ss := range m {
			if key == "control" {
				continue
			}
			for _, s := range ss {
				events += s.events
				lost += s.lost
			}
		}
	}
	fmt.Printf("all attached rounds: %d events, %d lost in the ring buffer\n", events, lost)

	// Goals.
	var dw, ow group
	for _, g := range all["deep-one"] {
		if g.deepWorker {
			dw = g
		} else {
			ow = g
		}
	}
	tput := medianOf(sat["always-on"], func(s sample) float64 { return s.sat.rps }) / controlRPS
	onP50 := medianOf(fixed["always-on"], func(s sample) float64 { return float64(s.open.p50) })/c50 - 1
	o50, o99 := medianF(slices.Clone(r50)), medianF(slices.Clone(r99))
	oCPU := float64(ow.perReq(ow.run)) / float64(base.perReq(base.run))
	ctl := all["control"][0]
	ctlCPU := float64(base.perReq(base.run)) / float64(ctl.perReq(ctl.run))
	da := all["deep-all"][0]
	verdict := func(ok bool) string {
		if ok {
			return "PASS"
		}
		return "MISS"
	}
	fmt.Printf("\n== goals ==\n")
	tw = tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "figure\tresult\tgoal\t\t")
	fmt.Fprintf(tw, "always-on throughput at saturation / control\t%.3f\t≥ 0.970\t%s\t\n", tput, verdict(tput >= 0.97))
	fmt.Fprintf(tw, "always-on p50 at %.1f req/s (client) vs control\t%+.1f%%\t≤ +3%%\t%s\t\n", rate, 100*onP50, verdict(onP50 <= 0.03))
	fmt.Fprintf(tw, "deep-one, other workers: PHP p50 / always-on's (median of rounds)\t%.3f (pooled %s / %s)\t≤ 1.010\t%s\t\n", o50,
		dur(float64(fpmPct(ow.reqs, 50))), dur(float64(b50)), verdict(o50 <= 1.01))
	fmt.Fprintf(tw, "deep-one, other workers: PHP p99 / always-on's (median of rounds)\t%.3f (pooled %s / %s)\t≤ 1.010\t%s\t\n", o99,
		dur(float64(fpmPct(ow.reqs, 99))), dur(float64(b99)), verdict(o99 <= 1.01))
	fmt.Fprintf(tw, "ring buffer drops, all attached rounds\t%d\t0\t%s\t\n", lost, verdict(lost == 0))
	fmt.Fprintln(tw, "for reading them (no goal):\t\t\t\t")
	fmt.Fprintf(tw, "always-on, control's stack CPU per request / always-on's (throughput without other work)\t%.3f\t(≥ 0.970)\t\t\n",
		medianOf(sat["control"], func(s sample) float64 { return s.perReq(s.fpm.ours) })/medianOf(sat["always-on"], func(s sample) float64 { return s.perReq(s.fpm.ours) }))
	fmt.Fprintf(tw, "deep-one, other workers: on-CPU per request / always-on's (probe isolation)\t%.3f (%s / %s)\t\t\t\n", oCPU,
		dur(float64(ow.perReq(ow.run))), dur(float64(base.perReq(base.run))))
	fmt.Fprintf(tw, "always-on: on-CPU per request / control's (the agent's hooks in PHP)\t%.3f\t\t\t\n", ctlCPU)
	fmt.Fprintf(tw, "deep-one, the deep worker: PHP p50 / always-on's\t%.2f× (%s)\t\t\t\n", float64(fpmPct(dw.reqs, 50))/float64(b50), dur(float64(fpmPct(dw.reqs, 50))))
	fmt.Fprintf(tw, "deep-one, the deep worker: on-CPU per request / always-on's\t%.2f×\t\t\t\n", float64(dw.perReq(dw.run))/float64(base.perReq(base.run)))
	fmt.Fprintf(tw, "deep-all: PHP p50 / always-on's (at %.1f req/s)\t%.2f× (%s)\t\t\t\n", deepAllRate, float64(fpmPct(da.reqs, 50))/float64(b50), dur(float64(fpmPct(da.reqs, 50))))
	fmt.Fprintf(tw, "deep-all throughput at saturation / control\t%.3f\t\t\t\n", medianOf(sat["deep-all"], func(s sample) float64 { return s.sat.rps })/controlRPS)
	fmt.Fprintf(tw, "deep-one throughput at saturation / control\t%.3f\t\t\t\n", medianOf(sat["deep-one"], func(s sample) float64 { return s.sat.rps })/controlRPS)
	tw.Flush()
}

// procSnap is every process's CPU time (utime+stime, 10 ms ticks) at one
// moment, and which of them are ours: roots and their descendants. For
// roots[0] (this process) it adds what it got from the children it waited
// for (cutime+cstime: wrk).
type procSnap map[int]procTime

type procTime struct {
	comm  string
	start uint64 // starttime, to tell a new process from a reused PID
	cpu   time.Duration
	ours  bool
}

func snapProcs(roots []int) procSnap {
	type proc struct {
		comm  string
		ppid  int
		start uint64
		cpu   int64
	}
	procs := map[int]proc{}
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		raw, err := os.ReadFile("/proc/" + d.Name() + "/stat")
		if err != nil {
			continue
		}
		text := string(raw)
		i, j := strings.IndexByte(text, '('), strings.LastIndexByte(text, ')')
		if i < 0 || j < i {
			continue
		}
		f := strings.Fields(text[j+2:]) // f[0] is field 3 (state)
		if len(f) < 20 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		start, _ := strconv.ParseUint(f[19], 10, 64)
		var cpu int64
		ks := []int{11, 12} // utime, stime
		if pid == roots[0] {
			ks = append(ks, 13, 14) // cutime, cstime
		}
		for _, k := range ks {
			n, _ := strconv.ParseInt(f[k], 10, 64)
			cpu += n
		}
		procs[pid] = proc{comm: text[i+1 : j], ppid: ppid, start: start, cpu: cpu}
	}
	in := map[int]bool{}
	for _, r := range roots {
		in[r] = true
	}
	out := procSnap{}
	for pid, p := range procs {
		ours := false
		for q, n := pid, 0; q > 1 && n < 64 && !ours; q, n = procs[q].ppid, n+1 {
			ours = in[q]
		}
		out[pid] = procTime{comm: p.comm, start: p.start, cpu: time.Duration(p.cpu) * 10 * time.Millisecond, ours: ours} // USER_HZ is 100
	}
	return out
}

// cpuSince is our CPU time between s0 and s (processes alive in s), and the
// others' by command name.
func (s procSnap) cpuSince(s0 procSnap) (ours time.Duration, others map[string]time.Duration) {
	others = map[string]time.Duration{}
	for pid, p := range s {
		d := p.cpu - s0[pid].cpu
		if s0[pid].start != p.start {
			d = p.cpu // a new process (or a reused PID)
		}
		if p.ours {
			ours += d
		} else if d > 0 {
			// kworkers show their current work queue after a - or +: one name per kworker.
			name := p.comm
			if k, ok := strings.CutPrefix(name, "kworker/"); ok {
				if i := strings.IndexAny(k, "-+"); i >= 0 {
					name = "kworker/" + k[:i]
				}
			}
			others[name] += d
		}
	}
	return ours, others
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(b))
}

// agentColumns are a deep-bench table row's agent CPU per request,
// events/s, spans stored per request and lost events (dashes for control).
func agentColumns(v variant, ss []sample, loadFor time.Duration) string {
	if v.key == "control" {
		return "—\t—\t—\t—\t"
	}
	return fmt.Sprintf("%.0f µs\t%.0f\t%.1f\t%d\t",
		medianOf(ss, func(s sample) float64 { return s.perReq(s.agentCPU) }),
		medianOf(ss, func(s sample) float64 { return float64(s.events) / loadFor.Seconds() }),
		medianOf(ss, spansPerReq), sumLost(ss))
}

func spansPerReq(s sample) float64 { return float64(s.spans) / float64(max(s.requests, 1)) }
