// Command store benchmarks the agent's embedded trace store (pkg/store) at
// production scale: it generates realistic PHP request traces, writes them
// through the store's public API the way the agent does (Add per trace,
// never blocking; the store's writer batches them), then measures searches,
// trace fetches and RED queries over the full store, and checks that
// retention keeps a store under its size cap. It prints one table with each
// figure next to its goal.
//
//	go run ./bench/store [-traces 1000000] [-queries 2000] [-db DIR] [-keep]
//
// Everything runs in this process; no root, no PHP needed. Deterministic for
// a given -seed (the data; timings are what they are).
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/tusk-php/tusk/pkg/agentapi"
	"github.com/tusk-php/tusk/pkg/store"
	"github.com/tusk-php/tusk/pkg/trace"
)

var (
	nTraces    = flag.Int("traces", 1_000_000, "traces to generate and write")
	nQueries   = flag.Int("queries", 2000, "searches to run over the full store")
	nGets      = flag.Int("gets", 2000, "trace fetches (Get) by random existing id")
	nRED       = flag.Int("red", 10, "runs of each RED query")
	dbDir      = flag.String("db", "", "directory for the databases (default: a new temporary directory)")
	keep       = flag.Bool("keep", false, "keep the databases afterwards")
	seed       = flag.Uint64("seed", 1, "data and query mix seed")
	spread     = flag.Duration("spread", 6*24*time.Hour, "traces start over this long before now")
	capPhase   = flag.Float64("cap-phase", 0.25, "size-cap phase: write this fraction of -traces into a store capped at 1/4 of what they need (0: skip)")
	cpuProfile = flag.String("cpuprofile", "", "write a CPU profile of the ingest and query phases to this file")
	explainTop = flag.Int("explain", 3, "print SQLite's plan for this many of the slowest query shapes")
	backlog    = flag.Int("backlog", 2*store.DefaultBatchSize, "most traces added but not yet written before the bench waits (the agent never waits: it drops when store.DefaultQueueSize traces or DefaultQueueBytes wait)")
)

// Goals from the issue "Benchmarks and reliability".
const (
	goalSearchP99 = 50 * time.Millisecond
	goalGetP99    = 10 * time.Millisecond
	goalRSS       = 150 << 20
)

func main() {
	flag.Parse()
	log.SetFlags(0)
	began := time.Now()
	dir := *dbDir
	if dir == "" {
		d, err := os.MkdirTemp("", "tusk-bench-store-")
		if err != nil {
			log.Fatal(err)
		}
		dir = d
	}
	if !*keep {
		defer func() {
			os.RemoveAll(filepath.Join(dir, "full"))
			os.RemoveAll(filepath.Join(dir, "capped"))
			if *dbDir == "" {
				os.Remove(dir)
			}
		}()
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatal(err)
		}
		defer pprof.StopCPUProfile()
	}
	rep := &report{}
	rep.machine = machine()
	fmt.Printf("tusk store benchmark — %s\n%s\n", began.UTC().Format("2006-01-02 15:04 MST"), rep.machine)
	fmt.Printf("command: go run ./bench/store %s\n\n", strings.Join(os.Args[1:], " "))
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	// Generation alone, to subtract it from the ingest CPU.
	rep.genCPUPerTrace, rep.heapPerTrace = measureGeneration()
	fmt.Printf("generator alone: %.1f µs CPU per trace (subtracted below as \"store CPU\"); a trace in memory: %.1f KiB of Go heap\n",
		rep.genCPUPerTrace, rep.heapPerTrace/1024)

	// The peak RSS figures cover the store's phases, not the calibration.
	runtime.GC()
	debug.FreeOSMemory()
	resetHWM()

	now := time.Now()
	path := filepath.Join(dir, "full", "traces.db")
	s, err := store.Open(path, store.Options{
		MaxAge:   store.DefaultMaxAge, // 7 days: nothing of the 6-day spread expires while writing
		MaxBytes: 1 << 40,             // no size cap: the full store
		Logger:   logger,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("phase 1: writing %d traces to %s ...\n", *nTraces, path)
	ing := ingest(s, *nTraces, *seed, now, 0)
	rep.full = ing
	fmt.Printf("  %s\n", ing)

	// The writer runs retention (and with it ANALYZE) every 30 s; do it once
	// now so the planner statistics match the full store, as they would.
	t0 := time.Now()
	if err := s.ApplyRetention(context.Background(), time.Now()); err != nil {
		log.Fatal(err)
	}
	rep.analyzeTook = time.Since(t0)
	st := s.Stats()
	rep.fullTraces, rep.fullBytes = st.Traces, diskBytes(path)
	rep.peakRSSIngest = vmHWM() // ingest of the full store, generator included
	fmt.Printf("  retention pass + ANALYZE: %s; %d traces, %.1f MiB on disk (%.0f B/trace)\n",
		rep.analyzeTook.Round(time.Millisecond), st.Traces, mib(rep.fullBytes), float64(rep.fullBytes)/float64(st.Traces))

	// Query phase: start from a clean heap and a reset peak-RSS counter.
	runtime.GC()
	debug.FreeOSMemory()
	resetHWM()
	fmt.Printf("phase 2: %d searches, %d fetches, %d×2 RED queries ...\n", *nQueries, *nGets, *nRED)
	t0 = time.Now()
	queryPhase(s, rep, ing.sampleIDs, now)
	rep.queryTook = time.Since(t0)
	rep.peakRSSQuery = vmHWM()
	fmt.Printf("  took %s\n", rep.queryTook.Round(time.Millisecond))

	// Retention by age: as if time went on until the oldest day expired.
	before := s.Stats().Traces
	later := now.Add(store.DefaultMaxAge - *spread + 24*time.Hour)
	t0 = time.Now()
	if err := s.ApplyRetention(context.Background(), later); err != nil {
		log.Fatal(err)
	}
	rep.ageTook = time.Since(t0)
	rep.ageDeleted = before - s.Stats().Traces
	rep.ageBytesAfter = diskBytes(path)
	fmt.Printf("phase 3: retention by age as of now+%s (MaxAge 7d): deleted %d traces in %s, %.1f MiB on disk after\n",
		later.Sub(now), rep.ageDeleted, rep.ageTook.Round(time.Millisecond), mib(rep.ageBytesAfter))
	if *explainTop > 0 {
		explain(s, rep)
	}
	if err := s.Close(); err != nil {
		log.Fatal(err)
	}

	if *capPhase > 0 {
		n := int(float64(*nTraces) * *capPhase)
		need := int64(float64(rep.fullBytes) / float64(rep.fullTraces) * float64(n))
		rep.capBytes = need / 4
		cpath := filepath.Join(dir, "capped", "traces.db")
		cs, err := store.Open(cpath, store.Options{MaxBytes: rep.capBytes, Logger: logger})
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("phase 4: writing %d traces (~%.0f MiB of data) into a store capped at %.1f MiB ...\n", n, mib(need), mib(rep.capBytes))
		rep.capped = ingest(cs, n, *seed+1, now, rep.capBytes)
		cst := cs.Stats()
		rep.cappedTraces = cst.Traces
		if err := cs.Close(); err != nil {
			log.Fatal(err)
		}
		rep.cappedFinal = diskBytes(cpath)
		fmt.Printf("  %s\n", rep.capped)
	}
	rep.total = time.Since(began)
	rep.print()
}

// ingestResult is what one write phase measured.
type ingestResult struct {
	traces, spans int64
	wall          time.Duration
	cpu           time.Duration // whole process: generator + store
	dropped       uint64
	maxDisk       int64 // largest db+WAL size seen while writing (sampled)
	maxDiskWAL    int64 // the WAL's part of it
	maxStats      int64 // largest Stats().SizeBytes seen
	samples       int
	sampleIDs     []trace.TraceID
}

func (r ingestResult) String() string {
	return fmt.Sprintf("%d traces, %d spans in %s: %.0f traces/s, %.0f spans/s, %.0f µs CPU/trace (process), %d dropped",
		r.traces, r.spans, r.wall.Round(time.Millisecond), float64(r.traces)/r.wall.Seconds(),
		float64(r.spans)/r.wall.Seconds(), float64(r.cpu.Microseconds())/float64(r.traces), r.dropped)
}

// ingest generates n traces in a goroutine and Adds them one by one as the
// agent's event loop does (store.Add never blocks; the writer batches). The
// agent would drop what the queue cannot hold; the bench instead waits when
// the queue is nearly full, so it measures the writer's sustained rate with
// nothing dropped. With capBytes > 0 it samples the files' size meanwhile.
func ingest(s *store.Store, n int, seed uint64, now time.Time, capBytes int64) ingestResult {
	ch := make(chan *trace.Trace, 256)
	go func() {
		g := newGenerator(seed, n, now, *spread)
		for range n {
			ch <- g.next()
		}
		close(ch)
	}()
	var res ingestResult
	var stopSampler atomic.Bool
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for !stopSampler.Load() {
			if size := diskBytes(s.Path()); size > res.maxDisk {
				res.maxDisk, res.maxDiskWAL = size, size-fileBytes(s.Path())
			}
			if sz := s.Stats().SizeBytes; sz > res.maxStats {
				res.maxStats = sz
			}
			res.samples++
			time.Sleep(20 * time.Millisecond)
		}
	}()
	rng := rand.New(rand.NewPCG(seed, 7))
	const reservoir = 20000
	ru0 := rusage()
	t0 := time.Now()
	limit := uint64(min(*backlog, store.DefaultQueueSize-store.DefaultBatchSize))
	var added uint64
	lastReport := t0
	for t := range ch {
		for added-(s.Stats().Written+s.Stats().Dropped) >= limit {
			time.Sleep(500 * time.Microsecond)
		}
		res.spans += int64(len(t.Spans))
		if len(res.sampleIDs) < reservoir {
			res.sampleIDs = append(res.sampleIDs, t.TraceID)
		} else if j := rng.IntN(int(added) + 1); j < reservoir {
			res.sampleIDs[j] = t.TraceID
		}
		s.Add(t)
		added++
		if time.Since(lastReport) > 15*time.Second {
			lastReport = time.Now()
			fmt.Printf("  … %d traces, %.0f/s\n", added, float64(added)/time.Since(t0).Seconds())
		}
	}
	if err := s.Flush(context.Background()); err != nil {
		log.Fatal(err)
	}
	res.wall = time.Since(t0)
	res.cpu = rusage() - ru0
	stopSampler.Store(true)
	<-sampled
	res.traces = int64(added)
	res.dropped = s.Stats().Dropped
	if size := diskBytes(s.Path()); size > res.maxDisk {
		res.maxDisk = size
	}
	return res
}

// measureGeneration returns the generator's CPU per trace (µs) and the Go
// heap one generated trace holds (bytes): what the store's Add queue holds
// per waiting trace.
func measureGeneration() (cpuPerTrace, heapPerTrace float64) {
	const n = 20000
	g := newGenerator(99, n, time.Now(), time.Hour)
	runtime.GC()
	ru0 := rusage()
	for range n {
		g.next()
	}
	cpu := rusage() - ru0
	const kept = 500
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	keep := make([]*trace.Trace, kept)
	for i := range keep {
		keep[i] = g.next()
	}
	runtime.GC()
	runtime.ReadMemStats(&m1)
	runtime.KeepAlive(keep)
	return float64(cpu.Microseconds()) / n, float64(m1.HeapAlloc-m0.HeapAlloc) / kept
}

type queryStat struct {
	shape string
	q     trace.Query
	took  time.Duration
	hits  int
}

func queryPhase(s *store.Store, rep *report, ids []trace.TraceID, now time.Time) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(*seed, 11))
	for range *nQueries {
		q, tag := randomQuery(r, now, *spread)
		t0 := time.Now()
		sums, err := s.Search(ctx, q)
		took := time.Since(t0)
		if err != nil {
			log.Fatalf("search %+v: %v", q, err)
		}
		rep.search = append(rep.search, took)
		rep.queries = append(rep.queries, queryStat{shape(tag), q, took, len(sums)})
	}
	for range *nGets {
		id := ids[r.IntN(len(ids))]
		t0 := time.Now()
		t, err := s.Get(ctx, id)
		took := time.Since(t0)
		if err != nil {
			log.Fatalf("get %s: %v", id, err)
		}
		rep.getSpans += int64(len(t.Spans))
		rep.get = append(rep.get, took)
	}
	for range *nRED {
		t0 := time.Now()
		if _, err := s.RED(ctx, agentapi.REDQuery{From: now.Add(-time.Hour), To: now, GroupBy: agentapi.GroupByEndpoint}); err != nil {
			log.Fatal(err)
		}
		rep.red1h = append(rep.red1h, time.Since(t0))
		t0 = time.Now()
		if _, err := s.RED(ctx, agentapi.REDQuery{From: now.Add(-24 * time.Hour), To: now, GroupBy: agentapi.GroupByPool}); err != nil {
			log.Fatal(err)
		}
		rep.red24h = append(rep.red24h, time.Since(t0))
	}
}

// explain prints, for the slowest query shapes, their latency and SQLite's
// plan for their slowest instance (Store.SearchPlan: the plan of the SELECT
// the store runs for it, after its own range planning).
func explain(s *store.Store, rep *report) {
	type agg struct {
		shape string
		d     durations
		worst queryStat
	}
	by := map[string]*agg{}
	for _, q := range rep.queries {
		a := by[q.shape]
		if a == nil {
			a = &agg{shape: q.shape}
			by[q.shape] = a
		}
		a.d = append(a.d, q.took)
		if q.took > a.worst.took {
			a.worst = q
		}
	}
	var all []*agg
	for _, a := range by {
		all = append(all, a)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].worst.took > all[j].worst.took })
	fmt.Printf("\nslowest search shapes (of %d distinct):\n", len(all))
	for i, a := range all[:min(*explainTop, len(all))] {
		w := a.worst
		fmt.Printf("  %d. %-40s n=%-3d p50 %-9s max %-9s (limit %d, %d hits, %s)\n", i+1, a.shape, len(a.d),
			a.d.pct(50).Round(10*time.Microsecond), w.took.Round(10*time.Microsecond), w.q.EffectiveLimit(), w.hits, describe(w.q))
		plan, err := s.SearchPlan(context.Background(), w.q)
		if err != nil {
			fmt.Printf("     explain: %v\n", err)
			continue
		}
		for _, step := range plan {
			fmt.Printf("     plan: %s\n", step)
		}
	}
	// How many queries of each shape missed the goal.
	var missed []string
	for _, a := range all {
		n := 0
		for _, d := range a.d {
			if d > goalSearchP99 {
				n++
			}
		}
		if n > 0 {
			missed = append(missed, fmt.Sprintf("%s %d/%d", a.shape, n, len(a.d)))
		}
	}
	if len(missed) > 0 {
		fmt.Printf("  searches over %s, by shape: %s\n", goalSearchP99, strings.Join(missed, ", "))
	}
}

func describe(q trace.Query) string {
	var p []string
	if !q.Start.IsZero() {
		p = append(p, fmt.Sprintf("range %s ending %s ago", q.End.Sub(q.Start), time.Since(q.End).Round(time.Minute)))
	}
	for _, kv := range [][2]string{{"service", q.Service}, {"pool", q.Pool}, {"method", q.Method}, {"path", q.PathPrefix}} {
		if kv[1] != "" {
			p = append(p, kv[0]+"="+kv[1])
		}
	}
	if q.StatusCode != 0 {
		p = append(p, "status="+strconv.Itoa(q.StatusCode))
	}
	if q.MinDuration > 0 {
		p = append(p, "min="+q.MinDuration.String())
	}
	if q.ErrorsOnly {
		p = append(p, "errors")
	}
	return strings.Join(p, " ")
}

// ---- measurements of the process and the machine ----

func rusage() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// vmHWM is the process's peak resident set size, from /proc/self/status.
func vmHWM() int64 { return procStatus("VmHWM:") }

func procStatus(key string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, key); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				kb, _ := strconv.ParseInt(f[0], 10, 64)
				return kb << 10
			}
		}
	}
	return 0
}

// resetHWM sets the peak RSS back to the current RSS (Linux ≥ 4.0).
func resetHWM() {
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		fmt.Printf("  (cannot reset peak RSS: %v; the query-phase figure includes ingest)\n", err)
	}
}

func fileBytes(path string) int64 {
	if fi, err := os.Stat(path); err == nil {
		return fi.Size()
	}
	return 0
}

func diskBytes(path string) int64 {
	var n int64
	for _, p := range []string{path, path + "-wal"} {
		if fi, err := os.Stat(p); err == nil {
			n += fi.Size()
		}
	}
	return n
}

func machine() string {
	var uts syscall.Utsname
	kernel := "?"
	if syscall.Uname(&uts) == nil {
		kernel = cstr(uts.Release[:])
	}
	cpu := "?"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "model name"); ok {
				cpu = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	memGiB := float64(0)
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				kb, _ := strconv.ParseFloat(strings.Fields(v)[0], 64)
				memGiB = kb / (1 << 20)
			}
		}
	}
	return fmt.Sprintf("machine: %d CPUs (%s), %.0f GiB RAM, kernel %s, %s %s/%s",
		runtime.NumCPU(), cpu, memGiB, kernel, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

func cstr(b []int8) string {
	var s []byte
	for _, c := range b {
		if c == 0 {
			break
		}
		s = append(s, byte(c))
	}
	return string(s)
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }
