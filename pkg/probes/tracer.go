// Package probes loads Tusk's BPF programs, attaches them to PHP binaries
// and reads what they report.
package probes

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/features"
	"github.com/cilium/ebpf/rlimit"

	"github.com/tusk-php/tusk/pkg/events"
)

// Options sizes and tunes the BPF side.
type Options struct {
	// RingBytes is the ring buffer size: a power of two, at least one page.
	// When it is full, events are dropped and counted; PHP never waits.
	RingBytes int
	// DeepThreshold: function calls shorter than this stay in the kernel.
	DeepThreshold time.Duration
	// DeepMaxDepth: deeper calls are not reported (their time still counts).
	DeepMaxDepth int
}

// DefaultRingBytes is 8 MiB: at ~1.7 KB per request start that is several
// thousand requests of slack if the agent stalls.
const DefaultRingBytes = 8 << 20

// maxKnown is the size of the known_procs map (TUSK_MAX_THREADS).
const maxKnown = 16384

// maxDeepDepth is TUSK_MAX_FRAMES in bpf/headers/tusk.h.
const maxDeepDepth = 128

// Tracer owns the loaded BPF objects.
type Tracer struct {
	objs     requestObjects
	ring     *eventRing
	ringSize int

	io      ioObjects      // I/O hooks, always loaded
	sampler samplerObjects // the stack sampler, always loaded

	mu       sync.Mutex
	config   requestTuskConfig // what the config map holds
	deep     *functionObjects  // loaded on first use
	sites    slotTable         // indices of the sites map
	binaries slotTable         // indices of the binaries map
	ioSites  map[ioKey]*ioSite
	// multiErr is why the I/O hooks cannot use uprobe_multi links (nil
	// when they can); perSiteIO forces per-site uprobes (tests).
	multiErr  error
	perSiteIO bool
	ioSpec    *ebpf.CollectionSpec // for loadPerSiteIO

	// knownMu guards known, the PIDs put in the known_procs map. Not t.mu:
	// the event loop uses it, and t.mu is held while uprobes detach.
	knownMu sync.Mutex
	known   map[uint32]bool

	// names interns the names of deep-mode events (decodeEvent, on the
	// event loop's goroutine).
	names *interner

	hookMu    sync.RWMutex
	hookNames [maxSites]string // site → iohooks.Hook.Name, for decoding I/O events
}

// ErrPermission is returned by Load when the process may not load BPF.
var ErrPermission = errors.New("loading BPF programs and attaching uprobes needs root, or CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN and CAP_SYS_PTRACE (run the agent with sudo)")

// Load loads the request programs and their maps. Nothing is attached yet.
func Load(opts Options) (*Tracer, error) {
	if opts.RingBytes == 0 {
		opts.RingBytes = DefaultRingBytes
	}
	page := os.Getpagesize()
	if opts.RingBytes < page || opts.RingBytes&(opts.RingBytes-1) != 0 {
		return nil, fmt.Errorf("ring buffer size %d: must be a power of two of at least %d bytes", opts.RingBytes, page)
	}
	if err := rlimit.RemoveMemlock(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrPermission, err)
	}
	spec, err := loadRequest()
	if err != nil {
		return nil, err
	}
	spec.Maps[requestMapEvents].MaxEntries = uint32(opts.RingBytes)

	t := &Tracer{
		ringSize: opts.RingBytes,
		sites:    slotTable{what: "USDT site", max: maxSites},
		binaries: slotTable{what: "PHP binary", max: maxBinaries},
		ioSites:  map[ioKey]*ioSite{},
		known:    map[uint32]bool{},
		names:    &interner{},
	}
	if err := spec.LoadAndAssign(&t.objs, nil); err != nil {
		if errors.Is(err, os.ErrPermission) || errors.Is(err, ebpf.ErrNotSupported) {
			return nil, fmt.Errorf("%w: %v", ErrPermission, err)
		}
		var verr *ebpf.VerifierError
		if errors.As(err, &verr) {
			return nil, fmt.Errorf("BPF verifier rejected the request programs: %+v", verr)
		}
		return nil, fmt.Errorf("load BPF objects: %w", err)
	}
	if err := t.loadAlwaysOn(); err != nil {
		t.objs.Close()
		return nil, err
	}
	if err := t.initMaps(opts); err != nil {
		t.closeObjects()
		return nil, err
	}
	t.ring, err = openRing(t.objs.Events, opts.RingBytes)
	if err != nil {
		t.closeObjects()
		return nil, fmt.Errorf("open ring buffer: %w", err)
	}
	return t, nil
}

func (t *Tracer) initMaps(opts Options) error {
	params := fcgiParamTable()
	for i := range params {
		if err := t.objs.FcgiParams.Put(uint32(i), &params[i]); err != nil {
			return fmt.Errorf("fill fcgi_params: %w", err)
		}
	}
	threshold := opts.DeepThreshold
	if threshold == 0 {
		threshold = time.Millisecond
	}
	depth := opts.DeepMaxDepth
	if depth == 0 {
		depth = 64
	}
	// Wake the agent when an eighth of the ring is queued; below that it
	// reads on its own deadline (ReadEvent callers set one).
	t.config.WakeupBytes = uint64(opts.RingBytes / 8)
	return t.SetDeepSettings(threshold, depth)
}

// SetDeepSettings changes the deep-mode threshold and depth cap live: the
// BPF programs read them on every function return.
func (t *Tracer) SetDeepSettings(threshold time.Duration, maxDepth int) error {
	if threshold < 0 {
		return fmt.Errorf("deep-mode threshold %s is negative", threshold)
	}
	if maxDepth < 1 || maxDepth > maxDeepDepth {
		return fmt.Errorf("deep-mode depth %d is out of range 1..%d", maxDepth, maxDeepDepth)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	cfg := t.config
	cfg.DeepThresholdNs, cfg.DeepMaxDepth = uint64(threshold), uint32(maxDepth)
	if err := t.objs.Config.Put(uint32(0), &cfg); err != nil {
		return fmt.Errorf("update deep-mode settings: %w", err)
	}
	t.config = cfg
	return nil
}

// RingBytes is the ring buffer's size.
func (t *Tracer) RingBytes() int { return t.ringSize }

// ReadEvent blocks until the next event. Events are queued without waking
// the reader until an eighth of the ring is full, so callers set a read
// deadline (SetReadDeadline) to pick up the rest. After Close it returns an
// error matching os.ErrClosed. A record that cannot be decoded is returned
// as an error; the caller counts it and goes on. Not for concurrent use.
func (t *Tracer) ReadEvent() (ev events.Event, err error) {
	if rerr := t.ring.Read(func(rec []byte) { ev, err = t.decodeEvent(rec) }); rerr != nil {
		return nil, rerr
	}
	return ev, err
}

// SetReadDeadline makes a blocked ReadEvent return os.ErrDeadlineExceeded.
func (t *Tracer) SetReadDeadline(d time.Time) {
	// Only a closed ring refuses a deadline, and its ReadEvent says so.
	_ = t.ring.SetDeadline(d)
}

// LostPerCPU reads how many events each CPU's programs could not put in
// the ring buffer.
func (t *Tracer) LostPerCPU() ([]uint64, error) {
	var perCPU []uint64
	if err := t.objs.LostEvents.Lookup(uint32(0), &perCPU); err != nil {
		return nil, fmt.Errorf("read lost-event counters: %w", err)
	}
	return perCPU, nil
}

// SymbolsLimitedPerCPU reads how many symbol events each CPU's programs
// held back because their process was over its budget
// (bpf/headers/phpstack.h, symbol_allowed). They are sent on a later walk.
func (t *Tracer) SymbolsLimitedPerCPU() ([]uint64, error) {
	var perCPU []uint64
	if err := t.objs.SymbolsLimited.Lookup(uint32(0), &perCPU); err != nil {
		return nil, fmt.Errorf("read limited-symbol counters: %w", err)
	}
	return perCPU, nil
}

// Close detaches nothing by itself (close Attachments first) and frees the
// BPF objects and the ring buffer.
func (t *Tracer) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	var errs []error
	if t.ring != nil {
		errs = append(errs, t.ring.Close())
	}
	if t.deep != nil {
		errs = append(errs, t.deep.Close())
	}
	errs = append(errs, t.closeObjects())
	return errors.Join(errs...)
}

func (t *Tracer) closeObjects() error {
	return errors.Join(t.io.Close(), t.sampler.Close(), t.objs.Close())
}

// sharedMaps are the request object's maps that the other objects use too
// (they declare them from the same header; these instances replace theirs).
func (t *Tracer) sharedMaps() map[string]*ebpf.Map {
	return map[string]*ebpf.Map{
		requestMapEvents:      t.objs.Events,
		requestMapLostEvents:  t.objs.LostEvents,
		requestMapThreads:     t.objs.Threads,
		requestMapStacks:      t.objs.Stacks,
		requestMapSites:       t.objs.Sites,
		requestMapBinaries:    t.objs.Binaries,
		requestMapConfig:      t.objs.Config,
		requestMapSymbolsSent: t.objs.SymbolsSent,
		requestMapIoPending:   t.objs.IoPending,
		// One budget per process for the sampler and the I/O hooks both.
		requestMapSymbolBudgets:  t.objs.SymbolBudgets,
		requestMapSymbolsLimited: t.objs.SymbolsLimited,
	}
}

// loadAlwaysOn loads the I/O hook and stack sampler programs; nothing is
// attached yet.
func (t *Tracer) loadAlwaysOn() error {
	ioSpec, err := loadIo()
	if err != nil {
		return err
	}
	ioSpec.Maps[ioMapEvents].MaxEntries = uint32(t.ringSize)
	if err := t.loadIO(ioSpec); err != nil {
		return err
	}
	samplerSpec, err := loadSampler()
	if err != nil {
		return err
	}
	samplerSpec.Maps[samplerMapEvents].MaxEntries = uint32(t.ringSize)
	if err := loadShared(samplerSpec, &t.sampler, t.sharedMaps(), "stack sampler"); err != nil {
		t.io.Close()
		return err
	}
	return nil
}

// haveUprobeMulti probes the kernel for uprobe_multi links (tests fake it).
var haveUprobeMulti = features.HaveBPFLinkUprobeMulti

// ioMultiObjects are the I/O objects with only the uprobe_multi programs.
type ioMultiObjects struct {
	ioMaps
	ioVariables
	IoEnterMulti  *ebpf.Program `ebpf:"io_enter_multi"`
	IoReturnMulti *ebpf.Program `ebpf:"io_return_multi"`
}

// ioPerSiteObjects are the I/O objects with only the per-site programs.
type ioPerSiteObjects struct {
	ioMaps
	ioVariables
	IoEnter  *ebpf.Program `ebpf:"io_enter"`
	IoReturn *ebpf.Program `ebpf:"io_return"`
}

// loadIO loads the I/O programs: the uprobe_multi variants when the kernel
// has uprobe_multi links (6.6+), else the per-site ones. A kernel without
// them refuses to load the former; loading both would verify the programs
// twice for a fallback that is then rarely used (loadPerSiteIO loads it
// when it is).
func (t *Tracer) loadIO(spec *ebpf.CollectionSpec) error {
	t.ioSpec = spec
	t.multiErr = haveUprobeMulti()
	if t.multiErr == nil {
		var o ioMultiObjects
		err := loadShared(spec, &o, t.sharedMaps(), "I/O")
		if err == nil {
			t.io = ioObjects{ioMaps: o.ioMaps, ioVariables: o.ioVariables,
				ioPrograms: ioPrograms{IoEnterMulti: o.IoEnterMulti, IoReturnMulti: o.IoReturnMulti}}
			return nil
		}
		// The per-site programs may still load.
		t.multiErr = fmt.Errorf("loading the uprobe_multi programs: %w", err)
	}
	var o ioPerSiteObjects
	if err := loadShared(spec, &o, t.sharedMaps(), "I/O"); err != nil {
		return err
	}
	t.io = ioObjects{ioMaps: o.ioMaps, ioVariables: o.ioVariables,
		ioPrograms: ioPrograms{IoEnter: o.IoEnter, IoReturn: o.IoReturn}}
	return nil
}

// loadPerSiteIO loads the per-site I/O programs next to the uprobe_multi
// ones, on the maps already loaded. Called with t.mu held.
func (t *Tracer) loadPerSiteIO() error {
	if t.io.IoEnter != nil {
		return nil
	}
	maps := map[string]*ebpf.Map{
		ioMapBinaries:       t.io.Binaries,
		ioMapConfig:         t.io.Config,
		ioMapEvents:         t.io.Events,
		ioMapIoHooks:        t.io.IoHooks,
		ioMapIoPending:      t.io.IoPending,
		ioMapLostEvents:     t.io.LostEvents,
		ioMapSites:          t.io.Sites,
		ioMapStacks:         t.io.Stacks,
		ioMapSymbolsSent:    t.io.SymbolsSent,
		ioMapSymbolBudgets:  t.io.SymbolBudgets,
		ioMapSymbolsLimited: t.io.SymbolsLimited,
		ioMapThreads:        t.io.Threads,
		ioMapWalkScratch:    t.io.WalkScratch,
	}
	var o struct {
		IoEnter  *ebpf.Program `ebpf:"io_enter"`
		IoReturn *ebpf.Program `ebpf:"io_return"`
	}
	if err := loadShared(t.ioSpec, &o, maps, "per-site I/O"); err != nil {
		return err
	}
	t.io.IoEnter, t.io.IoReturn = o.IoEnter, o.IoReturn
	return nil
}

// UprobeMulti is nil when the I/O hooks are attached with uprobe_multi
// links (one per hooked file and direction), else why they get one uprobe
// per function instead.
func (t *Tracer) UprobeMulti() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.multiErr
}

// loadShared loads a collection whose maps named in shared are replaced,
// dropping replacements the collection does not declare.
func loadShared(spec *ebpf.CollectionSpec, to any, shared map[string]*ebpf.Map, what string) error {
	repl := map[string]*ebpf.Map{}
	for name, m := range shared {
		if _, ok := spec.Maps[name]; ok {
			repl[name] = m
		}
	}
	if err := spec.LoadAndAssign(to, &ebpf.CollectionOptions{MapReplacements: repl}); err != nil {
		var verr *ebpf.VerifierError
		if errors.As(err, &verr) {
			return fmt.Errorf("BPF verifier rejected the %s programs: %+v", what, verr)
		}
		return fmt.Errorf("load %s programs: %w", what, err)
	}
	return nil
}

// ForgetThread drops the kernel-side state of a thread that exited (a worker
// killed mid-request leaves its entries behind otherwise).
func (t *Tracer) ForgetThread(tid uint32) {
	_ = t.objs.Threads.Delete(tid)
	_ = t.objs.Stacks.Delete(tid)
}

// MarkKnown records that the agent has named process pid (read it from
// /proc): its requests stop waking the agent at once. Until then the first
// request of a process does, so that a short-lived worker is read before it
// exits.
func (t *Tracer) MarkKnown(pid uint32) {
	t.knownMu.Lock()
	defer t.knownMu.Unlock()
	if t.known[pid] {
		return
	}
	if len(t.known) >= maxKnown { // Forget calls were missed; the BPF map is an LRU anyway
		clear(t.known)
	}
	if err := t.objs.KnownProcs.Put(pid, uint8(1)); err == nil {
		t.known[pid] = true
	}
}

// ForgetProcess drops the kernel-side state of a process that exited: its
// thread (php-fpm workers and php-cli are single-threaded) and MarkKnown.
func (t *Tracer) ForgetProcess(pid uint32) {
	t.ForgetThread(pid)
	t.knownMu.Lock()
	defer t.knownMu.Unlock()
	if t.known[pid] {
		delete(t.known, pid)
		_ = t.objs.KnownProcs.Delete(pid)
	}
}
