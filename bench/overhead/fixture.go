package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/tusk-php/tusk/bench/internal/cleanup"
	"github.com/tusk-php/tusk/pkg/agentapi"
	"github.com/tusk-php/tusk/tests/stack"
)

// runFixture is -target fixture: the fixture app with USE_ZEND_DTRACE=1,
// always-on (request probes only) against a control, then deep mode.
func runFixture() {
	ctx := context.Background()
	work := workDir()
	agentBin := buildAgent(work)

	s, err := stack.StartFixture(ctx, filepath.Join(work, "stack"), stack.StackOptions{FPMEnv: []string{"USE_ZEND_DTRACE=1"}, Workers: 2})
	check(err)
	cleanup.AtExit(func() { s.Stop() })
	fmt.Printf("fixture: php-fpm 8.2 (USE_ZEND_DTRACE=1, 2 workers) behind nginx at %s; wrk -t2 -c%d -d%s %s\n\n",
		s.URL(), *connections, *duration, *path)

	// The fixture's agent is ready once it traces requests through the USDT probes.
	usdt := func(st *agentapi.Status) bool {
		for _, b := range st.Binaries {
			if b.Mode == "usdt" && len(b.Pools) > 0 {
				return true
			}
		}
		return false
	}
	start := func() *agent { return startAgent(agentBin, work, s, "traces.db", nil, usdt) }

	var control, attached []result
	var events, lost uint64
	var eventRates, cpuPerReq []float64
	for r := 1; r <= *rounds; r++ {
		c := wrk(s.URL() + *path)
		control = append(control, c)
		a := start()
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
	a := start()
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
