// Package assemble turns the events of the BPF programs into traces: one per
// PHP request, its request span at the root and the function spans of deep
// mode nested below by their parent links. It is pure Go, fed by the agent's
// ring buffer loop and by unit tests alike.
package assemble

import (
	"maps"
	"slices"
	"time"

	"github.com/tusk-php/tusk/pkg/events"
	"github.com/tusk-php/tusk/pkg/profile"
	"github.com/tusk-php/tusk/pkg/trace"
)

// Process describes who ran a request, as the agent knows it.
type Process struct {
	Service    string // service.name: the pool name unless configured
	Pool       string
	PHPVersion string
	ProbeMode  string // "usdt"
	// DeepNice is the nice value deep mode runs the process at, 0 if it
	// left its priority alone.
	DeepNice int
	// Attributes go on the request span as they are: where the process
	// runs (k8s.pod.name, container.id…). Empty values are left out.
	Attributes map[string]string
	// Drop discards the request unseen: its process must not be traced (a
	// pod the configuration excludes, running a binary probed for others).
	// Counted in Stats.Dropped.
	Drop bool
}

// Options configure an Assembler.
type Options struct {
	Host  string
	Clock *WallClock
	// Describe names the process of a request when it starts; may be nil.
	Describe func(binary, pid uint32) Process
	// Settle is how long a finished request waits for events that were
	// queued behind its end. The ring buffer keeps one thread's events in
	// order, so this is a safety margin, not a correctness need.
	Settle time.Duration
	// Abandon finalizes a request with no end after this long: its end
	// event was lost, or the worker died mid-request.
	Abandon time.Duration
	// MaxSpans bounds the spans kept per trace; the rest are counted.
	MaxSpans int
	// MaxIOSpans bounds the I/O spans kept per trace.
	MaxIOSpans int
	// SQLMaxLength truncates statement text in spans.
	SQLMaxLength int
	// RepeatThreshold: this many runs of one statement shape from one call
	// site in a request flag it (N+1).
	RepeatThreshold int
	// Wrappers are more "Class::method" or function name prefixes of the
	// application's own database/HTTP layer, skipped when choosing an I/O
	// call's call site (wpdb, Doctrine, Guzzle… are built in).
	Wrappers []string
	// Profile receives a finished request's stack samples (may be nil).
	Profile func(t *trace.Trace, samples []profile.Sample)
	// SamplePeriod is the sampler's period, recorded on each sample.
	SamplePeriod time.Duration
}

// Stats counts what the assembler has done.
type Stats struct {
	Traces     uint64 // emitted
	Incomplete uint64 // emitted with pieces known to be missing
	Abandoned  uint64 // emitted because their end never came
	Dropped    uint64 // discarded: Process.Drop
	Events     uint64
}

type requestKey struct {
	pid, tid uint32
	request  uint64
}

// pending collects the events of one request until it ends.
type pending struct {
	start      *events.RequestStart
	proc       Process // who ran it, asked when the request started
	end        *events.RequestEnd
	functions  []*events.Function
	exceptions []*events.Exception
	errors     []*events.PHPError
	lastTS     uint64
	firstSeen  time.Time
	endSeen    time.Time
	overflow   int // function spans beyond MaxSpans
	// eventOverflow counts exceptions and PHP errors beyond
	// maxEventsPerRequest (a long-running script that throws and catches
	// in a loop).
	eventOverflow int
	io            []*ioCall
	ioOverflow    int
	samples       []profile.Sample // Stack root first; trace fields set at the end
}

// maxSamplesPerRequest bounds a long request's samples (10 min at 99 Hz).
const maxSamplesPerRequest = 60000

// maxEventsPerRequest bounds the exceptions, and apart from them the PHP
// errors, kept per request (an uncaught exception's fatal error comes last);
// the end event still counts every exception (php.exceptions).
const maxEventsPerRequest = 1000

// Assembler is not safe for concurrent use: the agent feeds it from one
// goroutine.
type Assembler struct {
	opts    Options
	emit    func(*trace.Trace)
	open    map[requestKey]*pending
	current map[uint32]requestKey // tid → the request it is in
	procs   map[uint32]*procState
	stats   Stats
	spanIDs spanIDs
	sql     sqlFactsCache
	// connBoxes hold the last db.system, db.namespace and server.address
	// of SQL spans, boxed.
	connBoxes struct{ system, namespace, host stringBox }
	// frameNames caches the names of deep-mode frames (functionSpans).
	frameNames frameNames
	templates  attrTemplates // of function spans' attributes
	ints       int64Boxes    // the integer attributes of function spans
}

// New returns an Assembler that calls emit for each finished trace.
func New(opts Options, emit func(*trace.Trace)) *Assembler {
	if opts.Clock == nil {
		opts.Clock = NewWallClock()
	}
	if opts.Settle == 0 {
		opts.Settle = 100 * time.Millisecond
	}
	if opts.Abandon == 0 {
		opts.Abandon = 10 * time.Minute
	}
	if opts.MaxSpans == 0 {
		opts.MaxSpans = 10000
	}
	if opts.MaxIOSpans == 0 {
		opts.MaxIOSpans = 1000
	}
	if opts.SQLMaxLength == 0 {
		opts.SQLMaxLength = 1024
	}
	if opts.RepeatThreshold == 0 {
		opts.RepeatThreshold = 5
	}
	return &Assembler{opts: opts, emit: emit, open: map[requestKey]*pending{}, current: map[uint32]requestKey{},
		procs: map[uint32]*procState{}, spanIDs: newSpanIDs()}
}

// Stats returns the counters.
func (a *Assembler) Stats() Stats { return a.stats }

// Open is the number of requests waiting for their end.
func (a *Assembler) Open() int { return len(a.open) }

// Processes is the number of processes the assembler keeps state for
// (function names, database and curl handles) until ProcessGone.
func (a *Assembler) Processes() int { return len(a.procs) }

// PIDs lists the processes the assembler holds anything for, state or open
// requests, in no particular order.
func (a *Assembler) PIDs() []uint32 {
	seen := make(map[uint32]bool, len(a.procs)+len(a.open))
	for pid := range a.procs {
		seen[pid] = true
	}
	for key := range a.open {
		seen[key.pid] = true
	}
	return slices.Collect(maps.Keys(seen))
}

// Add takes one event; now is the agent's wall time when it was read.
func (a *Assembler) Add(ev events.Event, now time.Time) {
	a.stats.Events++
	h := ev.Hdr()
	if sym, ok := ev.(*events.Symbol); ok {
		a.proc(h.PID).addSymbol(sym)
		return
	}
	key := requestKey{pid: h.PID, tid: h.TID, request: h.Request}
	if h.Request == 0 {
		return // not inside a request: nothing to attach it to
	}
	if ev.Kind() == events.KindRequestStart {
		// A new request on this thread: an earlier one still open there
		// lost its end event.
		if prev, ok := a.current[h.TID]; ok && prev != key {
			if p := a.open[prev]; p != nil && p.end == nil {
				a.finish(prev, p)
			}
		}
		a.current[h.TID] = key
	}
	p := a.open[key]
	if p == nil {
		p = &pending{firstSeen: now}
		a.open[key] = p
	}
	if h.TS > p.lastTS {
		p.lastTS = h.TS
	}
	switch e := ev.(type) {
	case *events.RequestStart:
		p.start = e
		// Ask now: by the time the request ends the worker may be gone.
		if a.opts.Describe != nil {
			p.proc = a.opts.Describe(e.Binary, e.PID)
		}
	case *events.RequestEnd:
		p.end = e
		p.endSeen = now
	case *events.Function:
		if len(p.functions) >= a.opts.MaxSpans {
			p.overflow++
			return
		}
		p.functions = append(p.functions, e)
	case *events.Exception:
		if len(p.exceptions) >= maxEventsPerRequest {
			p.eventOverflow++
			return
		}
		p.exceptions = append(p.exceptions, e)
	case *events.PHPError:
		if len(p.errors) >= maxEventsPerRequest { // the BPF side sends 32 at most
			p.eventOverflow++
			return
		}
		p.errors = append(p.errors, e)
	case *events.IO:
		a.addIO(p, e)
	case *events.Sample:
		if a.opts.Profile == nil || len(p.samples) >= maxSamplesPerRequest {
			return
		}
		frames, _ := a.proc(e.PID).resolveFrames(e.Frames)
		if len(frames) == 0 {
			frames = []profile.Frame{{Function: "[php engine]"}} // between PHP frames: startup, shutdown, GC
		}
		slices.Reverse(frames) // root first
		p.samples = append(p.samples, profile.Sample{
			Time:     a.opts.Clock.Time(e.TS),
			Stack:    frames,
			Count:    1,
			PeriodNs: a.opts.SamplePeriod.Nanoseconds(),
		})
	}
}

// maxSymbolsPerProcess bounds the names kept per PHP process.
const maxSymbolsPerProcess = 200000

// Flush emits the requests that ended at least Settle ago and abandons the
// ones that never ended.
func (a *Assembler) Flush(now time.Time) {
	for key, p := range a.open {
		switch {
		case p.end != nil && now.Sub(p.endSeen) >= a.opts.Settle:
			a.finish(key, p)
		case p.end == nil && now.Sub(p.firstSeen) >= a.opts.Abandon:
			a.stats.Abandoned++
			a.finish(key, p)
		}
	}
}

// FlushAll emits everything still open, e.g. when the agent stops; requests
// without an end are marked incomplete.
func (a *Assembler) FlushAll() {
	for key, p := range a.open {
		a.finish(key, p)
	}
}

func (a *Assembler) finish(key requestKey, p *pending) {
	delete(a.open, key)
	if a.current[key.tid] == key {
		delete(a.current, key.tid)
	}
	if p.proc.Drop {
		a.stats.Dropped++
		return
	}
	t := a.build(key, p)
	if a.opts.Profile != nil && len(p.samples) > 0 {
		endpoint := t.Name()
		for i := range p.samples {
			p.samples[i].Service, p.samples[i].Pool = t.Service, t.Pool
			p.samples[i].Endpoint, p.samples[i].TraceID = endpoint, t.TraceID
		}
		a.opts.Profile(t, p.samples)
	}
	a.stats.Traces++
	if t.Incomplete {
		a.stats.Incomplete++
	}
	a.emit(t)
}

// ProcessGone emits, as incomplete, the open requests of a process that
// exited (a worker killed mid-request never reaches request__shutdown).
func (a *Assembler) ProcessGone(pid uint32) {
	delete(a.procs, pid)
	for key, p := range a.open {
		if key.pid == pid {
			if p.end == nil {
				a.stats.Abandoned++
			}
			a.finish(key, p)
		}
	}
}
