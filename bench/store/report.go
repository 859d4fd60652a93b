package main

import (
	"fmt"
	"time"

	"github.com/tusk-php/tusk/pkg/store"
)

type report struct {
	machine        string
	genCPUPerTrace float64 // µs
	heapPerTrace   float64 // bytes

	full                  ingestResult
	fullTraces, fullBytes int64
	analyzeTook           time.Duration
	peakRSSIngest         int64

	search, get, red1h, red24h durations
	queries                    []queryStat
	getSpans                   int64
	queryTook                  time.Duration
	peakRSSQuery               int64

	ageDeleted    int64
	ageTook       time.Duration
	ageBytesAfter int64

	capBytes     int64
	capped       ingestResult
	cappedTraces int64
	cappedFinal  int64

	total time.Duration
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/1e6) }

func passMiss(ok bool) string {
	if ok {
		return "PASS"
	}
	return "MISS"
}

func (r *report) print() {
	f := r.full
	storeCPU := float64(f.cpu.Microseconds())/float64(f.traces) - r.genCPUPerTrace
	perTrace := float64(r.fullBytes) / float64(r.fullTraces)
	fmt.Printf("\n%s\n", r.machine)
	fmt.Printf("%d traces (%d spans, %.1f per trace) written, %d searches, %d fetches; total run %s\n\n",
		f.traces, f.spans, float64(f.spans)/float64(f.traces), len(r.search), len(r.get), r.total.Round(time.Second))
	fmt.Printf("| %-44s | %-40s | %-16s |\n", "measure", "result", "goal")
	fmt.Printf("|%s|%s|%s|\n", dashes(46), dashes(42), dashes(18))
	row := func(m, res, goal string) { fmt.Printf("| %-44s | %-40s | %-16s |\n", m, res, goal) }
	row("ingest, traces/s (wall, incl. generator)", fmt.Sprintf("%.0f traces/s", float64(f.traces)/f.wall.Seconds()), "—")
	row("ingest, spans/s", fmt.Sprintf("%.0f spans/s", float64(f.spans)/f.wall.Seconds()), "—")
	row("ingest CPU per trace: process / store only", fmt.Sprintf("%.0f µs / %.0f µs", float64(f.cpu.Microseconds())/float64(f.traces), storeCPU), "—")
	row("store-only CPU-bound ceiling", fmt.Sprintf("%.0f traces/s per core", 1e6/storeCPU), "—")
	row("Add queue bound: traces / estimated bytes", fmt.Sprintf("%d / %.0f MiB (%.1f KiB heap/trace)",
		store.DefaultQueueSize, mib(store.DefaultQueueBytes), r.heapPerTrace/1024), "—")
	row("dropped while writing", fmt.Sprintf("%d", f.dropped), "0")
	row("DB size (file + WAL) / per trace", fmt.Sprintf("%.0f MiB / %.0f B", mib(r.fullBytes), perTrace), "—")
	row("search p50 / p95", fmt.Sprintf("%s / %s", ms(r.search.pct(50)), ms(r.search.pct(95))), "—")
	row("search p99 / max", fmt.Sprintf("%s / %s", ms(r.search.pct(99)), ms(r.search.max())), "p99 < 50 ms")
	row("trace fetch p50 / p95", fmt.Sprintf("%s / %s", ms(r.get.pct(50)), ms(r.get.pct(95))), "—")
	row("trace fetch p99 / max", fmt.Sprintf("%s / %s", ms(r.get.pct(99)), ms(r.get.max())), "p99 < 10 ms")
	row("RED 1h by endpoint p50 / max", fmt.Sprintf("%s / %s", ms(r.red1h.pct(50)), ms(r.red1h.max())), "—")
	row("RED 24h by pool p50 / max", fmt.Sprintf("%s / %s", ms(r.red24h.pct(50)), ms(r.red24h.max())), "—")
	row("peak RSS, ingest phase (VmHWM)", fmt.Sprintf("%.0f MiB", mib(r.peakRSSIngest)), "< 150 MiB *")
	row("peak RSS, query phase alone", fmt.Sprintf("%.0f MiB", mib(r.peakRSSQuery)), "< 150 MiB *")
	row("retention by age (1 day of traces)", fmt.Sprintf("%d deleted in %s", r.ageDeleted, r.ageTook.Round(time.Millisecond)), "—")
	if r.capBytes > 0 {
		row("size cap: cap / largest seen / final", fmt.Sprintf("%.0f / %.1f / %.1f MiB", mib(r.capBytes), mib(r.capped.maxDisk), mib(r.cappedFinal)), "≤ cap")
		row("size cap: WAL part of the largest", fmt.Sprintf("%.1f MiB", mib(r.capped.maxDiskWAL)), "—")
		row("size cap: traces written / kept / pruned", fmt.Sprintf("%d / %d / %d", r.capped.traces, r.cappedTraces, r.capped.traces-r.cappedTraces), "—")
		row("size-capped ingest rate", fmt.Sprintf("%.0f traces/s", float64(r.capped.traces)/r.capped.wall.Seconds()), "—")
	}
	fmt.Println()
	fmt.Println("* RSS is this benchmark process (store + generator + Go runtime), not the whole agent (no BPF")
	fmt.Println("  maps, assembler, HTTP API, profiler); the ingest phase's peak includes the generator and the traces in flight.")
	fmt.Println()
	fmt.Printf("%s search p99 < 50 ms (%s)\n", passMiss(r.search.pct(99) < goalSearchP99), ms(r.search.pct(99)))
	fmt.Printf("%s trace fetch p99 < 10 ms (%s)\n", passMiss(r.get.pct(99) < goalGetP99), ms(r.get.pct(99)))
	fmt.Printf("%s RSS < 150 MiB, query phase (%.0f MiB)\n", passMiss(r.peakRSSQuery < goalRSS), mib(r.peakRSSQuery))
	fmt.Printf("%s RSS < 150 MiB, ingest phase incl. the trace generator, an upper bound (%.0f MiB)\n", passMiss(r.peakRSSIngest < goalRSS), mib(r.peakRSSIngest))
	if r.capBytes > 0 {
		fmt.Printf("%s size cap held while writing 4× the cap (largest %.1f MiB of %.1f MiB, %d samples)\n",
			passMiss(r.capped.maxDisk <= r.capBytes), mib(r.capped.maxDisk), mib(r.capBytes), r.capped.samples)
	}
	fmt.Printf("%s nothing dropped\n", passMiss(f.dropped == 0 && r.capped.dropped == 0))
}

func dashes(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = '-'
	}
	return string(b)
}
