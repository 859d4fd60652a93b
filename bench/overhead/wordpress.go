package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tusk-php/tusk/bench/internal/cleanup"
	"github.com/tusk-php/tusk/pkg/agentapi"
	"github.com/tusk-php/tusk/pkg/trace"
	"github.com/tusk-php/tusk/tests/stack"
)

// -target wordpress: the cost of always-on mode (request spans, I/O hooks
// with call sites, the 99 Hz stack sampler: the agent's defaults) on
// WordPress + MariaDB, php-fpm with opcache and the tracing JIT and without
// USE_ZEND_DTRACE, as in production.
//
//  1. saturation: wrk on the front page, rounds alternating control (no
//     agent), always-on and two variants that isolate its parts;
//  2. a fixed request rate (a fraction of the control's saturation
//     throughput) from an open-loop generator, same alternation, for p50;
//  3. from the agent: events, ring buffer drops, its CPU per request, /metrics,
//     per-BPF-program run time (kernel.bpf_stats_enabled) and the I/O spans
//     of one stored WordPress request.

var (
	workers    = flag.Int("workers", 4, "wordpress: php-fpm workers (pm = static)")
	warmup     = flag.Duration("warmup", 30*time.Second, "wordpress: wrk load before measuring (opcache, JIT, MariaDB's caches)")
	rateFrac   = flag.Float64("rate-fraction", 0.5, "wordpress: fixed request rate as a fraction of the control's saturation throughput")
	fixedRate  = flag.Float64("rate", 0, "wordpress: fixed request rate in req/s (overrides -rate-fraction)")
	bpfStatsOn = flag.Bool("bpf-stats", true, "wordpress: kernel.bpf_stats_enabled=1 during attached rounds, for per-program run time")
)

// jitIni is opcache with the tracing JIT, as production sites run PHP 8.
var jitIni = []string{"opcache.enable=1", "opcache.jit=tracing", "opcache.jit_buffer_size=64M"}

type variant struct {
	key, label          string
	flags               []string
	needIO, needProfile bool
	// deep (wordpress-deep): deep mode on the whole pool ("pool") or on one
	// worker ("one") while the load runs; "" for none.
	deep string
}

var wpVariants = []variant{
	{key: "control", label: "control (no agent)"},
	{key: "always-on", label: "always-on (defaults)", needIO: true, needProfile: true},
	{key: "spans", label: "spans only (--no-io --no-profile)", flags: []string{"--no-io", "--no-profile"}},
	{key: "spans+io", label: "spans + I/O (--no-profile)", flags: []string{"--no-profile"}, needIO: true},
}

// sample is one round of one variant.
type sample struct {
	requests   int
	machine    cpuTimes // the whole machine's CPU over the load
	agentCPU   time.Duration
	events     uint64
	lost       uint64
	lostPerCPU []uint64
	progs      map[string]progStat
	spans      uint64      // tusk_spans_stored_total over the load
	fpm        *fpmRound   // wordpress-deep: php-fpm's own view of the load (access log, schedstat)
	deep       *deepRecord // wordpress-deep: the deep-mode grant of a deep variant
	sat        result      // saturation rounds
	open       openResult  // fixed-rate rounds
}

// perReq is d per request of this sample, in µs.
func (s sample) perReq(d time.Duration) float64 {
	return float64(d) / float64(max(s.requests, 1)) / 1e3
}

type wpBench struct {
	s         *stack.Stack
	bin, work string
	url       string
	agents    int
	statuses  map[string]*agentapi.Status // first status of each variant's agent
	traceNote []string
	metrics   []string
}

func runWordPress() {
	ctx := context.Background()
	work := workDir()
	b := &wpBench{work: work, bin: buildAgent(work), statuses: map[string]*agentapi.Status{}}

	s, err := stack.StartWordPress(ctx, filepath.Join(work, "stack"), stack.StackOptions{Workers: *workers, FPMIniArgs: jitIni})
	check(err)
	cleanup.AtExit(func() { s.Stop() })
	b.s, b.url = s, s.URL()+*path
	php := b.checkPHP(false)

	fmt.Printf("wordpress: %s, %d workers (pm static), %s; MariaDB %s; nginx at %s\n", php, *workers,
		strings.Join(jitIni, " "), mariadbVersion(), s.URL())
	fmt.Printf("machine: %d CPUs, %s, kernel %s\n", cpuCount(), cpuModel(), kernelRelease())
	fmt.Printf("load: %s, wrk -t2 -c%d -d%s at saturation, then a fixed rate (open loop) for %s; %d rounds, warm-up %s\n\n",
		*path, *connections, *duration, *duration, *rounds, *warmup)

	b.warmUp()

	// 1. Saturation.
	sat := map[string][]sample{}
	for r := 1; r <= *rounds; r++ {
		line := fmt.Sprintf("round %d saturation:", r)
		for _, v := range roundOrder(wpVariants, r) {
			var hook func(*agent)
			if v.key == "always-on" && r == *rounds {
				hook = b.inspect
			}
			smp := b.measure(v, nil, func(smp *sample) {
				smp.sat = wrk(b.url)
				smp.requests = smp.sat.requests
			}, hook)
			if smp.sat.sockErr != "" {
				fmt.Printf("  (%s, round %d: wrk socket errors: %s)\n", v.key, r, smp.sat.sockErr)
			}
			sat[v.key] = append(sat[v.key], smp)
			line += fmt.Sprintf(" %s %.1f |", v.key, smp.sat.rps)
		}
		fmt.Printf("%s req/s (always-on/control %.1f%%)\n", strings.TrimSuffix(line, " |"),
			100*sat["always-on"][r-1].sat.rps/sat["control"][r-1].sat.rps)
	}
	controlRPS := medianOf(sat["control"], func(s sample) float64 { return s.sat.rps })

	// 2. Fixed rate.
	rate := *fixedRate
	if rate <= 0 {
		rate = *rateFrac * controlRPS
	}
	fixed := map[string][]sample{}
	for r := 1; r <= *rounds; r++ {
		line := fmt.Sprintf("round %d at %.0f req/s: p50", r, rate)
		for _, v := range roundOrder(wpVariants, r) {
			smp := b.measure(v, nil, func(smp *sample) {
				smp.open = openLoop(b.url, rate, *duration)
				smp.requests = smp.open.sent - smp.open.errors
			}, nil)
			fixed[v.key] = append(fixed[v.key], smp)
			line += fmt.Sprintf(" %s %s |", v.key, smp.open.p50.Round(10*time.Microsecond))
		}
		fmt.Println(strings.TrimSuffix(line, " |"))
	}

	b.report(sat, fixed, rate, controlRPS)
}

// warmUp runs wrk for -warmup: opcache, JIT traces, MariaDB's buffer pool
// and query cache.
func (b *wpBench) warmUp() {
	wu := wrkFor(b.url, *warmup)
	fmt.Printf("warm-up: %.0f req/s over %s\n", wu.rps, *warmup)
}

// roundOrder is the variants vs in the order round r runs them: rotated by
// one each round, so that no variant always runs first or right after
// another (drift, the previous agent's teardown), and control still
// alternates with the attached variants.
func roundOrder(vs []variant, r int) []variant {
	n := len(vs)
	out := make([]variant, n)
	for i := range out {
		out[i] = vs[(i+r-1)%n]
	}
	return out
}

// measure runs load once for variant v: the agent started first (and
// stopped after) unless v is the control, with bpf stats on while it runs.
// setup, if any, runs once the agent is ready and before the load (deep
// mode), and what it returns right after the load. hook, if any, sees the
// agent after the load.
func (b *wpBench) measure(v variant, setup func(*agent, *sample) func(), load func(*sample), hook func(*agent)) sample {
	var smp sample
	if v.key == "control" {
		m0 := machineCPU()
		load(&smp)
		smp.machine = machineCPU().sub(m0)
		return smp
	}
	b.agents++
	db := fmt.Sprintf("traces-%d.db", b.agents)
	a := startAgent(b.bin, b.work, b.s, db, v.flags, readyFor(v, b.s.Pool))
	defer func() {
		a.stop()
		files, _ := filepath.Glob(filepath.Join(b.work, db+"*"))
		for _, f := range files {
			os.Remove(f)
		}
	}()
	time.Sleep(time.Second) // the agent's first scans and store setup are not part of the load
	if b.statuses[v.key] == nil {
		b.statuses[v.key] = a.status()
	}
	var teardown func()
	if setup != nil {
		teardown = setup(a, &smp)
	}
	var restore func()
	var ids map[int]bool
	var p0 map[int]progStat
	if *bpfStatsOn {
		restore = enableBPFStats()
		ids = agentProgIDs(a.cmd.Process.Pid)
		p0 = progStats(ids)
	}
	sp0 := agentMetric("tusk_spans_stored_total")
	st0, c0, m0 := a.status(), a.cpu(), machineCPU()
	load(&smp)
	m1, c1, st1 := machineCPU(), a.cpu(), a.status()
	smp.spans = uint64(agentMetric("tusk_spans_stored_total") - sp0)
	if teardown != nil {
		teardown()
	}
	if restore != nil {
		smp.progs = progDelta(p0, progStats(ids))
		restore()
	}
	smp.machine, smp.agentCPU = m1.sub(m0), c1-c0
	smp.events, smp.lost = st1.Events.Total-st0.Events.Total, st1.Events.Lost-st0.Events.Lost
	smp.lostPerCPU = make([]uint64, len(st1.Events.LostPerCPU))
	for i, n := range st1.Events.LostPerCPU {
		smp.lostPerCPU[i] = n
		if i < len(st0.Events.LostPerCPU) {
			smp.lostPerCPU[i] -= st0.Events.LostPerCPU[i]
		}
	}
	if hook != nil {
		hook(a)
	}
	return smp
}

// readyFor: the agent traces the pool's requests, and has attached the I/O
// hooks and started the sampler if v asks for them.
func readyFor(v variant, pool string) func(*agentapi.Status) bool {
	return func(st *agentapi.Status) bool {
		if v.needProfile && (!st.Profiling.Enabled || st.Profiling.CPUs == 0) {
			return false
		}
		for _, b := range st.Binaries {
			if b.Mode == "" || b.Mode == "none" || (v.needIO && len(b.IOHooks) == 0) {
				continue
			}
			for _, p := range b.Pools {
				if p.Name == pool && len(p.WorkerPIDs) > 0 {
					return true
				}
			}
		}
		return false
	}
}

// inspect reads, from a running always-on agent, its /metrics and one stored
// front-page trace (how many I/O calls a WordPress page makes).
func (b *wpBench) inspect(a *agent) {
	ctx := context.Background()
	if text, err := agentGet("http://127.0.0.1:17070" + agentapi.PathMetrics); err != nil {
		b.metrics = []string{"(GET /metrics: " + err.Error() + ")"}
	} else {
		for _, l := range strings.Split(text, "\n") {
			if strings.HasPrefix(l, "#") {
				continue
			}
			if strings.HasPrefix(l, "tusk_") && !strings.HasPrefix(l, "tusk_php_request_duration_seconds_bucket") ||
				strings.HasPrefix(l, "process_cpu_seconds_total") || strings.HasPrefix(l, "process_resident_memory_bytes") ||
				strings.HasPrefix(l, "go_goroutines") {
				b.metrics = append(b.metrics, l)
			}
		}
	}
	sums, err := a.client.Search(ctx, trace.Query{Limit: 1})
	if err != nil || len(sums) == 0 {
		b.traceNote = []string{fmt.Sprintf("no stored trace (%v)", err)}
		return
	}
	t, err := a.client.Trace(ctx, sums[0].TraceID)
	if err != nil {
		b.traceNote = []string{fmt.Sprintf("GET trace %s: %v", sums[0].TraceID, err)}
		return
	}
	b.traceNote = describeTrace(t)
}

// describeTrace counts a trace's I/O spans by kind and SQL operation.
func describeTrace(t *trace.Trace) []string {
	var sql, httpCalls, cache, other int
	var sqlTime time.Duration
	ops := map[string]int{}
	tables := map[string]int{}
	for _, s := range t.Spans {
		if s.Kind != trace.KindClient {
			continue
		}
		sys, _ := s.Attributes[trace.AttrDBSystem].(string)
		switch {
		case s.Attributes[trace.AttrHTTPMethod] != nil || s.Attributes[trace.AttrURLFull] != nil:
			httpCalls++
		case sys == "redis" || sys == "memcached":
			cache++
		case sys != "" || s.Attributes[trace.AttrDBQueryText] != nil:
			sql++
			sqlTime += s.Duration()
			op, _ := s.Attributes[trace.AttrDBOperation].(string)
			ops[orDefault(op, "?")]++
			if tb, _ := s.Attributes[trace.AttrDBCollection].(string); tb != "" {
				tables[tb]++
			}
		default:
			other++
		}
	}
	root := t.Root()
	out := []string{fmt.Sprintf("%s %s → %d, %s, %d spans (incomplete %v): %d SQL, %d HTTP, %d Redis/Memcached, %d other client spans",
		t.Method, t.Path, t.StatusCode, t.Duration().Round(10*time.Microsecond), len(t.Spans), t.Incomplete, sql, httpCalls, cache, other)}
	out = append(out, fmt.Sprintf("SQL: %s in total (%.0f%% of the request); by operation %s; by table %s",
		sqlTime.Round(time.Microsecond), 100*float64(sqlTime)/float64(max(t.Duration(), 1)), countList(ops), countList(tables)))
	if root != nil {
		if n, ok := root.Attributes[trace.AttrDroppedIO]; ok {
			out = append(out, fmt.Sprintf("dropped I/O spans: %v", n))
		}
	}
	return out
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func countList(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return m[keys[i]] > m[keys[j]] || m[keys[i]] == m[keys[j]] && keys[i] < keys[j] })
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

// agentMetric reads one unlabelled sample of the running agent's /metrics
// (0 if absent or unreadable).
func agentMetric(name string) float64 {
	text, err := agentGet("http://127.0.0.1:17070" + agentapi.PathMetrics)
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(text, "\n") {
		if v, ok := strings.CutPrefix(l, name+" "); ok {
			f, _ := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return f
		}
	}
	return 0
}

func agentGet(url string) (string, error) {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer bench")
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("HTTP %d: %s", resp.StatusCode, body)
	}
	return string(body), err
}

// checkPHP asks a worker of the pool itself (over FastCGI, with a script
// outside WordPress) whether opcache and the JIT are on and USE_ZEND_DTRACE
// is unset; it refuses to measure anything else. With dtrace
// (wordpress-deep) it wants opcache on and USE_ZEND_DTRACE=1 instead, and
// reports the JIT (which DTrace turns off).
func (b *wpBench) checkPHP(dtrace bool) string {
	script := filepath.Join(b.work, "bench-check.php")
	check(os.WriteFile(script, []byte(`<?php
$s = opcache_get_status(false);
echo json_encode(["php" => PHP_VERSION, "opcache" => $s["opcache_enabled"] ?? false,
  "jit" => $s["jit"]["on"] ?? false, "jitKind" => $s["jit"]["kind"] ?? null,
  "dtrace" => getenv("USE_ZEND_DTRACE")]);
`), 0o644))
	out, err := fcgiGet(b.s.FPM.Listen(b.s.Pool), script)
	if err != nil {
		cleanup.Die("checking the pool's PHP over FastCGI: %v (output %q)", err, out)
	}
	ver := "PHP ?"
	if i := strings.Index(out, `"php":"`); i >= 0 {
		ver = "PHP " + strings.SplitN(out[i+7:], `"`, 2)[0]
	}
	if dtrace {
		if !strings.Contains(out, `"opcache":true`) || !strings.Contains(out, `"dtrace":"1"`) {
			cleanup.Die("the pool's PHP does not have opcache on and USE_ZEND_DTRACE=1: %s", out)
		}
		jit := "JIT off"
		if strings.Contains(out, `"jit":true`) {
			jit = "JIT on"
		}
		return ver + " php-fpm (opcache on, USE_ZEND_DTRACE=1, " + jit + ")"
	}
	if !strings.Contains(out, `"opcache":true`) || !strings.Contains(out, `"jit":true`) || !strings.Contains(out, `"dtrace":false`) {
		cleanup.Die("the pool's PHP is not what production runs (want opcache and JIT on, no USE_ZEND_DTRACE): %s", out)
	}
	return ver + " php-fpm (opcache on, tracing JIT on, USE_ZEND_DTRACE unset)"
}

func (b *wpBench) report(sat, fixed map[string][]sample, rate, controlRPS float64) {
	ctl := sat["control"]
	ctlCPU := medianOf(ctl, func(s sample) float64 { return s.perReq(s.machine.busy) })
	ctlBusy := medianOf(ctl, func(s sample) float64 { return 100 * float64(s.machine.busy) / float64(s.machine.total) })

	fmt.Printf("\n== saturation: GET %s, wrk -t2 -c%d -d%s, medians of %d rounds (machine CPU %.0f%% busy in control) ==\n",
		*path, *connections, *duration, *rounds, ctlBusy)
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "variant\treq/s\tvs control\twrk p50\twrk p99\tCPU/req (machine)\tΔ CPU/req\tagent CPU/req\tagent CPU\tevents/req\tlost\t")
	for _, v := range wpVariants {
		ss := sat[v.key]
		rps := medianOf(ss, func(s sample) float64 { return s.sat.rps })
		cpu := medianOf(ss, func(s sample) float64 { return s.perReq(s.machine.busy) })
		row := fmt.Sprintf("%s\t%.1f\t%.3f\t%s\t%s\t%.0f µs\t", v.label, rps, rps/controlRPS,
			dur(medianOf(ss, func(s sample) float64 { return float64(s.sat.p50) })),
			dur(medianOf(ss, func(s sample) float64 { return float64(s.sat.p99) })), cpu)
		if v.key == "control" {
			row += "—\t—\t—\t—\t—\t"
		} else {
			row += fmt.Sprintf("%+.0f µs\t%.0f µs\t%.1f%% of a CPU\t%.1f\t%d\t", cpu-ctlCPU,
				medianOf(ss, func(s sample) float64 { return s.perReq(s.agentCPU) }),
				medianOf(ss, func(s sample) float64 { return 100 * float64(s.agentCPU) / float64(*duration) }),
				medianOf(ss, func(s sample) float64 { return float64(s.events) / float64(max(s.requests, 1)) }), sumLost(ss))
		}
		fmt.Fprintln(tw, row)
	}
	tw.Flush()
	fmt.Println("(each round runs the control too: the ratio of the same round, averaged over rounds, with its 95% interval, says how far the noise reaches)")
	for _, v := range wpVariants[1:] {
		fmt.Printf("  %s: throughput %s of control\n", v.key, roundRatio(sat, v.key, func(s sample) float64 { return s.sat.rps }))
	}

	fmt.Printf("\n== fixed rate: %.1f req/s (%.0f%% of the control's %.1f), open loop, %s per round, latency from the scheduled send, medians of %d rounds ==\n",
		rate, 100*rate/controlRPS, controlRPS, *duration, *rounds)
	fctl := fixed["control"]
	c50 := medianOf(fctl, func(s sample) float64 { return float64(s.open.p50) })
	c90 := medianOf(fctl, func(s sample) float64 { return float64(s.open.p90) })
	c99 := medianOf(fctl, func(s sample) float64 { return float64(s.open.p99) })
	fctlCPU := medianOf(fctl, func(s sample) float64 { return s.perReq(s.machine.busy) })
	tw = tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "variant\tp50\tp90\tp99\tp50 vs control\tp90 vs control\tp99 vs control\terrors\tCPU/req (machine)\tΔ CPU/req\tagent CPU/req\tlost\t")
	for _, v := range wpVariants {
		ss := fixed[v.key]
		p50 := medianOf(ss, func(s sample) float64 { return float64(s.open.p50) })
		p90 := medianOf(ss, func(s sample) float64 { return float64(s.open.p90) })
		p99 := medianOf(ss, func(s sample) float64 { return float64(s.open.p99) })
		cpu := medianOf(ss, func(s sample) float64 { return s.perReq(s.machine.busy) })
		errs := 0
		for _, s := range ss {
			errs += s.open.errors
		}
		row := fmt.Sprintf("%s\t%s\t%s\t%s\t%+.1f%%\t%+.1f%%\t%+.1f%%\t%d\t%.0f µs\t", v.label, dur(p50), dur(p90), dur(p99),
			100*(p50/c50-1), 100*(p90/c90-1), 100*(p99/c99-1), errs, cpu)
		if v.key == "control" {
			row += "—\t—\t—\t"
		} else {
			row += fmt.Sprintf("%+.0f µs\t%.0f µs\t%d\t", cpu-fctlCPU, medianOf(ss, func(s sample) float64 { return s.perReq(s.agentCPU) }), sumLost(ss))
		}
		fmt.Fprintln(tw, row)
	}
	tw.Flush()
	for _, v := range wpVariants[1:] {
		fmt.Printf("  %s: p50 vs control, same round %s\n", v.key, roundRatio(fixed, v.key, func(s sample) float64 { return float64(s.open.p50) }).percent())
	}
	var lateMax time.Duration
	for _, ss := range fixed {
		for _, s := range ss {
			lateMax = max(lateMax, s.open.lateStart)
		}
	}
	fmt.Printf("(generator check: p99 of send lateness, worst round: %s)\n", lateMax.Round(time.Microsecond))

	if *bpfStatsOn {
		b.reportBPF(sat, ctlCPU)
	}

	fmt.Printf("\n== agent ==\n")
	if st := b.statuses["always-on"]; st != nil {
		for _, bin := range st.Binaries {
			if len(bin.Pools) == 0 {
				continue
			}
			hooks := slices.Clone(bin.IOHooks)
			sort.Strings(hooks)
			fmt.Printf("always-on: %s (PHP %s %s, dtrace probes %v): request probes %s (%s), stack walk %v, %d I/O hooks: %s\n",
				bin.Path, bin.Version, bin.SAPI, bin.DTrace, bin.Mode, bin.ModeReason, bin.StackWalk, len(hooks), strings.Join(hooks, " "))
		}
		fmt.Printf("always-on: profiling enabled %v at %d Hz on %d CPUs; ring buffer %d bytes\n",
			st.Profiling.Enabled, st.Profiling.Hz, st.Profiling.CPUs, st.Events.RingBytes)
	}
	for _, key := range []string{"spans", "spans+io"} {
		if st := b.statuses[key]; st != nil {
			n := 0
			for _, bin := range st.Binaries {
				n += len(bin.IOHooks)
			}
			fmt.Printf("%s: %d I/O hooks, profiling %v\n", key, n, st.Profiling.Enabled)
		}
	}
	var events, lost uint64
	var perCPU []uint64
	for _, m := range []map[string][]sample{sat, fixed} {
		for key, ss := range m {
			if key == "control" {
				continue
			}
			for _, s := range ss {
				events += s.events
				lost += s.lost
				if len(perCPU) < len(s.lostPerCPU) {
					perCPU = append(perCPU, make([]uint64, len(s.lostPerCPU)-len(perCPU))...)
				}
				for i, n := range s.lostPerCPU {
					perCPU[i] += n
				}
			}
		}
	}
	fmt.Printf("all attached rounds: %d events, %d lost in the ring buffer (per CPU %v)\n", events, lost, perCPU)
	fmt.Printf("one stored trace (always-on, last saturation round, /api/v1/traces?limit=1):\n")
	for _, l := range b.traceNote {
		fmt.Printf("  %s\n", l)
	}
	fmt.Printf("/metrics of that agent (one %s round):\n", *duration)
	for _, l := range b.metrics {
		fmt.Printf("  %s\n", l)
	}

	// The goal of issue 4.
	on := sat["always-on"]
	tput := medianOf(on, func(s sample) float64 { return s.sat.rps }) / controlRPS
	p50 := medianOf(fixed["always-on"], func(s sample) float64 { return float64(s.open.p50) })/c50 - 1
	verdict := func(ok bool) string {
		if ok {
			return "met"
		}
		return "MISSED"
	}
	tputCI := roundRatio(sat, "always-on", func(s sample) float64 { return s.sat.rps })
	p50CI := roundRatio(fixed, "always-on", func(s sample) float64 { return float64(s.open.p50) })
	fmt.Printf("\n== goal (issue 4): always-on vs control ==\n")
	fmt.Printf("  throughput at saturation  %.3f of control (medians); same-round ratio %s   (goal ≥ 0.970)  %s\n", tput, tputCI, tputCI.atLeast(0.97))
	fmt.Printf("  p50 at %.0f req/s          %+.1f%% (medians); same-round %s   (goal ≤ +3%%)    %s\n", rate, 100*p50, p50CI.percent(), p50CI.atMost(1.03))
	fmt.Printf("  ring buffer drops         %d                  (goal 0)        %s\n", lost, verdict(lost == 0))
}

// roundRatio is variant key's f over the control's f of the same round,
// as a mean over rounds with its interval (paired.go).
func roundRatio(m map[string][]sample, key string, f func(sample) float64) pairedRatio {
	var v, c []float64
	for i := range min(len(m[key]), len(m["control"])) {
		v, c = append(v, f(m[key][i])), append(c, f(m["control"][i]))
	}
	return pairRatios(v, c)
}

// uprobeTrapMicros is what one uprobe or uretprobe hit costs PHP besides
// its BPF program (the trap, the kernel's uprobe handling): deep mode on
// the fixture measured ~1 µs per hit on this VM (a call timed in the kernel
// and not reported: 2.2 µs for two hits, BPF included; bench/README.md).
const uprobeTrapMicros = 1.0

// reportBPF prints where the attached time goes, per BPF program.
func (b *wpBench) reportBPF(sat map[string][]sample, ctlCPU float64) {
	attributed := map[string]float64{}
	fmt.Printf("\n== BPF programs (kernel.bpf_stats_enabled=1 in attached rounds), saturation, medians of %d rounds ==\n", *rounds)
	names := map[string]bool{}
	for _, v := range wpVariants[1:] {
		for _, s := range sat[v.key] {
			for n := range s.progs {
				names[n] = true
			}
		}
	}
	order := make([]string, 0, len(names))
	for n := range names {
		order = append(order, n)
	}
	sort.Strings(order)
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	head := "program\t"
	for _, v := range wpVariants[1:] {
		head += v.key + ": runs/req\tns/run\tµs/req\t"
	}
	fmt.Fprintln(tw, head)
	total := map[string]float64{}
	for _, n := range order {
		row := n + "\t"
		for _, v := range wpVariants[1:] {
			ss := sat[v.key]
			runs := medianOf(ss, func(s sample) float64 { return float64(s.progs[n].runCnt) / float64(max(s.requests, 1)) })
			if runs == 0 {
				row += "—\t—\t—\t"
				continue
			}
			perRun := medianOf(ss, func(s sample) float64 {
				return float64(s.progs[n].runNs) / float64(max(s.progs[n].runCnt, 1))
			})
			us := medianOf(ss, func(s sample) float64 { return float64(s.progs[n].runNs) / float64(max(s.requests, 1)) / 1e3 })
			total[v.key] += us
			row += fmt.Sprintf("%.1f\t%.0f\t%.2f\t", runs, perRun, us)
		}
		fmt.Fprintln(tw, row)
	}
	row := "total\t"
	for _, v := range wpVariants[1:] {
		row += fmt.Sprintf("\t\t%.2f\t", total[v.key])
	}
	fmt.Fprintln(tw, row)
	tw.Flush()

	fmt.Printf("\nCPU per request, saturation (machine busy time / requests; control %.0f µs):\n", ctlCPU)
	tw = tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "variant\tΔ vs control\tBPF programs\tagent process\trest (uprobe traps, kernel work, noise)\tuprobe hits/req\t")
	for _, v := range wpVariants[1:] {
		ss := sat[v.key]
		d := medianOf(ss, func(s sample) float64 { return s.perReq(s.machine.busy) }) - ctlCPU
		ag := medianOf(ss, func(s sample) float64 { return s.perReq(s.agentCPU) })
		hits := medianOf(ss, func(s sample) float64 {
			var n uint64
			for name, p := range s.progs {
				if name != "sample_php_stack" && !strings.HasPrefix(name, "sample_php") {
					n += p.runCnt
				}
			}
			return float64(n) / float64(max(s.requests, 1))
		})
		fmt.Fprintf(tw, "%s\t%+.0f µs\t%.1f µs\t%.0f µs\t%+.0f µs\t%.1f\t\n", v.label, d, total[v.key], ag, d-total[v.key]-ag, hits)
		attributed[v.key] = total[v.key] + ag + hits*uprobeTrapMicros
	}
	tw.Flush()
	fmt.Println("(the machine is saturated, so Δ is the throughput loss in CPU time: 2 CPUs / req/s; its noise is about ±3% of the control's CPU/req)")
	// Δ is too noisy to judge a 3% goal on a shared 2-vCPU machine; what
	// the agent is known to cost is not.
	for _, v := range wpVariants[1:] {
		a := attributed[v.key]
		fmt.Printf("attributed to %s: BPF + agent + %.1f µs per uprobe hit = %.0f µs per request, %.1f%% of the control's CPU: throughput %.3f of control if nothing else cost\n",
			v.key, uprobeTrapMicros, a, 100*a/ctlCPU, ctlCPU/(ctlCPU+a))
	}

	// Hooked calls that become events vs those the BPF side drops (fopen and
	// file_get_contents of local files: the hooks only report http(s) URLs).
	io := sat["spans+io"]
	hooked := medianOf(io, func(s sample) float64 { return float64(s.progs["io_enter"].runCnt) / float64(max(s.requests, 1)) })
	ioEvents := medianOf(io, func(s sample) float64 { return float64(s.events) / float64(max(s.requests, 1)) }) -
		medianOf(sat["spans"], func(s sample) float64 { return float64(s.events) / float64(max(s.requests, 1)) })
	fmt.Printf("I/O hooks (spans+io): %.1f hooked calls per request, %.1f I/O events per request: %.1f calls per request trap twice and are then dropped in the kernel\n",
		hooked, ioEvents, hooked-ioEvents)
}

func sumLost(ss []sample) uint64 {
	var n uint64
	for _, s := range ss {
		n += s.lost
	}
	return n
}

func medianOf(ss []sample, f func(sample) float64) float64 {
	v := make([]float64, len(ss))
	for i, s := range ss {
		v[i] = f(s)
	}
	return medianF(v)
}

// dur prints nanoseconds as a duration with sensible precision.
func dur(ns float64) string {
	d := time.Duration(ns)
	switch {
	case d >= 100*time.Millisecond:
		return d.Round(time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond).String()
	default:
		return d.Round(time.Microsecond).String()
	}
}

func cpuCount() int {
	b, _ := os.ReadFile("/proc/stat")
	n := 0
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "cpu") && len(l) > 3 && l[3] >= '0' && l[3] <= '9' {
			n++
		}
	}
	return n
}

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}

func kernelRelease() string {
	b, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	return strings.TrimSpace(string(b))
}

func mariadbVersion() string {
	out, err := execOutput("mariadbd", "--version")
	if err != nil {
		return "?"
	}
	f := strings.Fields(out)
	for i, w := range f {
		if w == "Ver" && i+1 < len(f) {
			return f[i+1]
		}
	}
	return strings.TrimSpace(out)
}

func execOutput(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).Output()
	return string(out), err
}
