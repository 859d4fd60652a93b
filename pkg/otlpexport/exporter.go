package otlpexport

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/tusk-php/tusk/pkg/trace"
)

// Options are the exporter's settings that are not in the YAML file.
type Options struct {
	Info   Info
	Logger *slog.Logger
	// FlushInterval is how long a batch waits for more traces (default 1s).
	FlushInterval time.Duration
	// MaxBatchTraces bounds the traces of one request (default 1024).
	MaxBatchTraces int
	// MaxBatchBytes bounds the estimated size of one request (default
	// 3 MiB, under gRPC's default 4 MiB limit).
	MaxBatchBytes int
	// InitialBackoff and MaxBackoff shape the retries (defaults 250ms, 5s);
	// each wait is drawn from ±50% around the current step.
	InitialBackoff time.Duration
	MaxBackoff     time.Duration
}

func (o *Options) defaults() {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.FlushInterval <= 0 {
		o.FlushInterval = time.Second
	}
	if o.MaxBatchTraces <= 0 {
		o.MaxBatchTraces = 1024
	}
	if o.MaxBatchBytes <= 0 {
		o.MaxBatchBytes = 3 << 20
	}
	if o.InitialBackoff <= 0 {
		o.InitialBackoff = 250 * time.Millisecond
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 5 * time.Second
	}
}

// Stats are the exporter's counters, in traces and in spans. Every trace
// handed to Enqueue ends in exactly one of exported, dropped or failed, and
// is queued until then:
//
//	Enqueued = Exported + Dropped + Failed + Queued
type Stats struct {
	Endpoint string // without credentials
	Protocol string

	// Enqueued: handed to Enqueue, including those dropped.
	EnqueuedTraces, EnqueuedSpans uint64
	// Exported: accepted by the backend.
	ExportedTraces, ExportedSpans uint64
	// Dropped: the queue was full (or the exporter shut down).
	DroppedTraces, DroppedSpans uint64
	// Failed: given up on after retries, rejected by the backend, or left
	// when the shutdown deadline passed.
	FailedTraces, FailedSpans uint64
	// Queued: waiting or being sent.
	QueuedTraces, QueuedSpans uint64
	// Retries counts repeated attempts.
	Retries uint64

	LastError   string
	LastErrorAt time.Time
}

// Exporter sends traces to an OTLP backend. Create it with New; it runs
// until Shutdown.
type Exporter struct {
	cfg    Config
	opts   Options
	log    *slog.Logger
	sender sender
	queue  chan *trace.Trace

	mu     sync.RWMutex // Enqueue holds it for reading; Shutdown sets closed under it
	closed bool

	ctx      context.Context // cancelled when the shutdown deadline passes
	cancel   context.CancelFunc
	stopping chan struct{} // closed by Shutdown: flush what is queued, then stop
	done     chan struct{} // closed when the worker has stopped

	enqT, enqS, expT, expS, dropT, dropS, failT, failS atomic.Uint64
	pendT, pendS                                       atomic.Int64
	retries                                            atomic.Uint64

	errMu     sync.Mutex
	lastErr   string
	lastErrAt time.Time
	// Logging: one warning per failure streak, then at most one a minute.
	failing     bool
	lastWarning time.Time
}

// New checks the configuration, prepares the connection (without
// connecting: an unreachable backend is not an error here) and starts the
// worker.
func New(cfg Config, opts Options) (*Exporter, error) {
	if !cfg.Enabled() {
		return nil, fmt.Errorf("otlp export: no endpoint")
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("export.otlp.%w", err)
	}
	opts.defaults()
	s, err := newSender(&cfg, "tusk-agent/"+opts.Info.Version)
	if err != nil {
		return nil, fmt.Errorf("export.otlp.%w", err)
	}
	return newExporter(cfg, opts, s), nil
}

func newExporter(cfg Config, opts Options, s sender) *Exporter {
	opts.defaults()
	e := &Exporter{
		cfg:      cfg,
		opts:     opts,
		log:      opts.Logger,
		sender:   s,
		queue:    make(chan *trace.Trace, cfg.QueueSize),
		stopping: make(chan struct{}),
		done:     make(chan struct{}),
	}
	e.ctx, e.cancel = context.WithCancel(context.Background())
	go e.run()
	return e
}

// Enqueue hands t to the exporter and returns at once: false when the
// queue is full (t is dropped and counted). t must not be modified
// afterwards; the exporter only reads it.
func (e *Exporter) Enqueue(t *trace.Trace) bool {
	n := uint64(len(t.Spans))
	e.enqT.Add(1)
	e.enqS.Add(n)
	e.mu.RLock()
	defer e.mu.RUnlock()
	if !e.closed {
		e.pendT.Add(1)
		e.pendS.Add(int64(n))
		select {
		case e.queue <- t:
			return true
		default:
			e.pendT.Add(-1)
			e.pendS.Add(-int64(n))
		}
	}
	e.dropT.Add(1)
	e.dropS.Add(n)
	return false
}

// Shutdown stops taking traces and sends what is queued until ctx is done;
// what is left then is counted as failed. It closes the connection.
func (e *Exporter) Shutdown(ctx context.Context) error {
	e.mu.Lock()
	already := e.closed
	e.closed = true
	e.mu.Unlock()
	if already {
		<-e.done
		return errClosed
	}
	close(e.stopping)
	var err error
	select {
	case <-e.done:
	case <-ctx.Done():
		e.cancel() // abort the attempt or wait in progress; the rest fails at once
		<-e.done
		err = fmt.Errorf("otlp export: flush at exit: %w", ctx.Err())
	}
	e.cancel()
	_ = e.sender.close()
	return err
}

// Stats returns the counters now.
func (e *Exporter) Stats() Stats {
	st := Stats{
		Endpoint:       redact(e.cfg.Endpoint),
		Protocol:       e.cfg.Protocol,
		EnqueuedTraces: e.enqT.Load(), EnqueuedSpans: e.enqS.Load(),
		ExportedTraces: e.expT.Load(), ExportedSpans: e.expS.Load(),
		DroppedTraces: e.dropT.Load(), DroppedSpans: e.dropS.Load(),
		FailedTraces: e.failT.Load(), FailedSpans: e.failS.Load(),
		QueuedTraces: uint64(max(e.pendT.Load(), 0)), QueuedSpans: uint64(max(e.pendS.Load(), 0)),
		Retries: e.retries.Load(),
	}
	e.errMu.Lock()
	st.LastError, st.LastErrorAt = e.lastErr, e.lastErrAt
	e.errMu.Unlock()
	return st
}

// chunk is spans [lo, hi) of a trace; a trace larger than a batch is
// split over several requests.
type chunk struct {
	t      *trace.Trace
	lo, hi int
}

func (c chunk) last() bool { return c.hi == len(c.t.Spans) }

type batch struct {
	chunks []chunk
	spans  int
	bytes  int
}

// run is the worker: it fills a batch (until it is full or FlushInterval
// after its first trace), sends it, and repeats; after Shutdown it sends
// what is queued and stops.
func (e *Exporter) run() {
	defer close(e.done)
	var (
		b       batch
		cur     *trace.Trace // the trace being put into batches
		lo      int          // its next span
		stopped bool         // Shutdown was called: do not wait for more
		// partFailed: traces split over requests one of which failed.
		partFailed = map[*trace.Trace]bool{}
	)
	next := func(wait <-chan time.Time) bool { // takes the next trace into cur
		if stopped {
			select {
			case cur = <-e.queue:
				lo = 0
				return true
			default:
				return false
			}
		}
		select {
		case cur = <-e.queue:
			lo = 0
			return true
		case <-wait:
			return false
		case <-e.stopping:
			stopped = true
			return false
		}
	}
	for {
		if cur == nil && !next(nil) {
			if stopped && len(e.queue) == 0 {
				return
			}
			continue
		}
		timer := time.NewTimer(e.opts.FlushInterval)
		for {
			lo = e.fill(&b, cur, lo)
			if lo < len(cur.Spans) { // b is full; cur continues in the next batch
				break
			}
			cur = nil
			if e.full(&b) || !next(timer.C) {
				break
			}
		}
		timer.Stop()
		e.export(&b, partFailed)
		b = batch{chunks: b.chunks[:0]}
	}
}

// fill puts spans of t from lo into b while it has room (an empty batch
// takes at least one span) and returns where the rest of t starts.
func (e *Exporter) fill(b *batch, t *trace.Trace, lo int) int {
	hi := lo
	for hi < len(t.Spans) && (b.spans == 0 || !e.full(b)) {
		b.bytes += spanSize(&t.Spans[hi])
		b.spans++
		hi++
	}
	if hi > lo || len(t.Spans) == 0 {
		b.chunks = append(b.chunks, chunk{t: t, lo: lo, hi: hi})
	}
	return hi
}

func (e *Exporter) full(b *batch) bool {
	return b.spans >= e.cfg.MaxBatchSpans || b.bytes >= e.opts.MaxBatchBytes || len(b.chunks) >= e.opts.MaxBatchTraces
}

// export sends b, retrying, and counts the outcome of every chunk.
func (e *Exporter) export(b *batch, partFailed map[*trace.Trace]bool) {
	if len(b.chunks) == 0 {
		return
	}
	var (
		rejected int64
		err      error
	)
	if e.ctx.Err() != nil {
		err = fmt.Errorf("shutdown deadline passed before this batch was sent")
	} else if b.spans > 0 {
		req := &coltracepb.ExportTraceServiceRequest{ResourceSpans: make([]*tracepb.ResourceSpans, 0, len(b.chunks))}
		for _, c := range b.chunks {
			if c.hi > c.lo {
				req.ResourceSpans = append(req.ResourceSpans, convertChunk(c.t, c.lo, c.hi, e.opts.Info))
			}
		}
		rejected, err = e.sendWithRetry(req, b.spans)
	}
	// Partial success: the backend says how many spans it refused, not
	// which. All refused is a failure; otherwise the traces count as
	// exported and the refused spans as failed.
	ok := err == nil && (rejected == 0 || rejected < int64(b.spans))
	switch {
	case err != nil:
		e.noteError(err, b.spans)
	case rejected > 0:
		e.setError(fmt.Errorf("backend rejected %d of %d spans", rejected, b.spans))
	default:
		e.recovered()
	}
	if ok {
		e.expS.Add(uint64(int64(b.spans) - rejected))
		e.failS.Add(uint64(rejected))
	} else {
		e.failS.Add(uint64(b.spans))
	}
	for _, c := range b.chunks {
		e.pendS.Add(-int64(c.hi - c.lo))
		if !c.last() {
			if !ok {
				partFailed[c.t] = true
			}
			continue
		}
		if ok && !partFailed[c.t] {
			e.expT.Add(1)
		} else {
			e.failT.Add(1)
		}
		delete(partFailed, c.t)
		e.pendT.Add(-1)
	}
}

// sendWithRetry makes attempts until one succeeds, the error is not
// transient, RetryMaxElapsed would be exceeded, or the exporter is aborted.
// It returns how many spans the backend rejected (partial success).
func (e *Exporter) sendWithRetry(req *coltracepb.ExportTraceServiceRequest, spans int) (int64, error) {
	start := time.Now()
	step := e.opts.InitialBackoff
	for attempt := 1; ; attempt++ {
		ctx, cancel := context.WithTimeout(e.ctx, e.cfg.Timeout)
		ps, err := e.sender.send(ctx, req)
		cancel()
		if err == nil {
			if ps != nil && ps.GetRejectedSpans() > 0 {
				r := min(ps.GetRejectedSpans(), int64(spans))
				if msg := ps.GetErrorMessage(); msg != "" {
					e.log.Warn("OTLP backend rejected spans", "rejected", r, "spans", spans, "reason", msg)
				}
				return r, nil
			}
			return 0, nil
		}
		if e.ctx.Err() != nil {
			return 0, fmt.Errorf("shutdown deadline passed: %w", err)
		}
		retryable, after := classify(err)
		if !retryable {
			return 0, err
		}
		wait := after
		if wait <= 0 {
			wait = time.Duration(float64(step) * (0.5 + rand.Float64()))
		}
		if time.Since(start)+wait > e.cfg.RetryMaxElapsed {
			return 0, fmt.Errorf("gave up after %d attempts in %s: %w", attempt, time.Since(start).Round(time.Millisecond), err)
		}
		e.retries.Add(1)
		e.setError(err)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-e.ctx.Done():
			t.Stop()
			return 0, fmt.Errorf("shutdown deadline passed: %w", err)
		}
		step = min(2*step, e.opts.MaxBackoff)
	}
}

func (e *Exporter) setError(err error) {
	e.errMu.Lock()
	e.lastErr, e.lastErrAt = err.Error(), time.Now()
	e.errMu.Unlock()
}

// noteError records a failed batch and logs it without flooding the log
// while the backend stays down.
func (e *Exporter) noteError(err error, spans int) {
	e.setError(err)
	e.errMu.Lock()
	warn := !e.failing || time.Since(e.lastWarning) > time.Minute
	e.failing = true
	if warn {
		e.lastWarning = time.Now()
	}
	e.errMu.Unlock()
	if warn {
		e.log.Warn("OTLP export failed; traces are still stored locally", "endpoint", redact(e.cfg.Endpoint), "spans", spans, "error", err)
	}
}

func (e *Exporter) recovered() {
	e.errMu.Lock()
	was := e.failing
	e.failing = false
	e.errMu.Unlock()
	if was {
		e.log.Info("OTLP export works again", "endpoint", redact(e.cfg.Endpoint))
	}
}
