package agent

import (
	"context"
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tusk-php/tusk/pkg/assemble"
)

// flushEvery is how often finished requests are handed to the store while
// requests are open; between flushes the loop sleeps unless wakeup_bytes of
// events are queued. Each wakeup from idle costs the Go runtime more than the
// flush itself (threads woken, its monitor back at 20 µs sleeps): at 50 ms the
// agent spent 743 µs per WordPress page at 13 req/s, at 250 ms 461 µs (318 µs
// at saturation instead of 353). A trace is searchable at most
// Settle + flushEvery after its request ends.
const flushEvery = 250 * time.Millisecond

// busyFlushEvery replaces flushEvery while events come at busyRate or more
// a second: then the loop is not sleeping between flushes anyway, and while
// a flush assembles what 250 ms brought it reads nothing. Deep mode on every
// call (bench/ingest, ~435k events/s of ~600 bytes) filled the 8 MiB ring
// during such flushes: 0.7–1.4% of events lost, none at 50 ms. A WordPress
// page is ~40 events: 20,000 a second is 500 pages a second.
const (
	busyFlushEvery = 50 * time.Millisecond
	busyRate       = 20000
)

// idleFlushEvery replaces flushEvery while the assembler holds no request:
// nothing can be due then. The first request of a process the agent has not
// named forces a ring buffer wakeup; others are read at the next deadline or
// once wakeup_bytes are queued. Waking 20 times a second for nothing kept an
// idle agent at ~0.8% of a CPU.
const idleFlushEvery = time.Second

// sweepEvery is how often the event loop looks for exited processes it still
// holds state for.
const sweepEvery = 2 * time.Second

// eventLoop reads the ring buffer and feeds the assembler, on one goroutine.
type eventLoop struct {
	a   *Agent
	asm *assemble.Assembler

	events       atomic.Uint64
	decodeErrors atomic.Uint64
	ratePerSec   atomic.Uint64 // float64 bits
	openRequests atomic.Int64
	procStates   atomic.Int64                   // processes the assembler holds state for
	asmStats     atomic.Pointer[assemble.Stats] // a copy, for the metrics

	goneMu sync.Mutex
	gone   []uint32

	now        time.Time
	nextFlush  time.Time
	idle       bool // no request open at the last tick: flushing at idleFlushEvery
	rateAt     time.Time
	rateEvents uint64
	ticked     time.Time
	tickEvents uint64 // events read when the last tick ran
	busy       bool   // events came at busyRate or more between the last two ticks

	profilesFlushed time.Time
	swept           time.Time
	missing         map[uint32]bool // not in /proc at the last sweep
}

func newEventLoop(a *Agent) *eventLoop {
	l := &eventLoop{a: a}
	opts := assemble.Options{
		Host:            a.host,
		Clock:           a.clock,
		Describe:        a.describe,
		MaxIOSpans:      a.cfg.IO.MaxSpans,
		SQLMaxLength:    a.cfg.IO.SQLMaxLength,
		RepeatThreshold: a.cfg.IO.RepeatThreshold,
		Wrappers:        a.cfg.IO.Wrappers,
	}
	if a.cfg.Profiling.Enabled {
		opts.Profile = a.addSamples
		opts.SamplePeriod = time.Second / time.Duration(a.cfg.Profiling.Hz)
	}
	l.asm = assemble.New(opts, a.storeTrace)
	return l
}

// run reads events until ctx ends. A read deadline wakes it to flush when
// PHP is idle; under load it flushes between events.
func (l *eventLoop) run(ctx context.Context) {
	l.tick(time.Now())
	for n := uint(0); ; n++ {
		ev, err := l.a.tracer.ReadEvent()
		switch {
		case err == nil:
			if l.idle {
				l.wake()
			}
			l.asm.Add(ev, l.now)
			l.events.Add(1)
		case errors.Is(err, os.ErrDeadlineExceeded):
			// The flush is due: the deadline was nextFlush. (When the reader
			// waited in epoll_wait, whose timeout is whole milliseconds, it
			// fired up to 1 ms early, and waiting for the clock instead spun
			// on zero-timeout polls: 2.5% of a CPU with PHP idle.)
			l.tick(time.Now())
			n = 0 // and check ctx below
		case errors.Is(err, os.ErrClosed):
			return
		default:
			l.decodeErrors.Add(1)
			l.a.log.Debug("undecodable event", "error", err)
		}
		if n%256 == 0 {
			if ctx.Err() != nil {
				return
			}
			if now := time.Now(); !now.Before(l.nextFlush) {
				l.tick(now)
			} else {
				l.now = now
			}
		}
	}
}

// tick flushes settled requests, handles exited processes and updates the
// event rate.
func (l *eventLoop) tick(now time.Time) {
	l.now = now
	l.goneMu.Lock()
	gone := l.gone
	l.gone = nil
	l.goneMu.Unlock()
	for _, pid := range gone {
		l.asm.ProcessGone(pid)
		l.a.tracer.ForgetProcess(pid)
	}
	l.asm.Flush(now)
	if now.Sub(l.swept) >= sweepEvery {
		for _, pid := range l.sweep() {
			l.asm.ProcessGone(pid)
			l.a.tracer.ForgetProcess(pid)
		}
		l.swept = now
	}
	// The aggregator hands minutes on 2 s after they end and requests after
	// 2 s idle: scanning its maps once a second is enough.
	if now.Sub(l.profilesFlushed) >= time.Second {
		l.a.profiles.Flush(now)
		l.profilesFlushed = now
	}
	l.openRequests.Store(int64(l.asm.Open()))
	l.procStates.Store(int64(l.asm.Processes()))
	st := l.asm.Stats()
	l.asmStats.Store(&st)
	if dt := now.Sub(l.rateAt); dt >= time.Second {
		total := l.events.Load()
		if !l.rateAt.IsZero() {
			rate := float64(total-l.rateEvents) / dt.Seconds()
			l.ratePerSec.Store(math.Float64bits(rate))
		}
		l.rateAt, l.rateEvents = now, total
	}
	l.pace(now, l.events.Load())
	l.idle = l.asm.Open() == 0
	if l.idle {
		l.nextFlush = now.Add(idleFlushEvery)
	} else {
		l.nextFlush = now.Add(l.flushPeriod())
	}
	l.a.tracer.SetReadDeadline(l.nextFlush)
}

// wake leaves the idle pace at the first event: the clock the assembler
// stamps events with is read now (it may be up to idleFlushEvery old), and
// the next flush is busyFlushEvery away: the loop cannot tell yet how fast
// events come, and a first flush of 250 ms of a burst must not leave the
// ring to fill (bench/ingest lost 0.2% of its events at its start so).
func (l *eventLoop) wake() {
	l.idle = false
	l.busy = true
	l.now = time.Now()
	l.nextFlush = l.now.Add(l.flushPeriod())
	l.a.tracer.SetReadDeadline(l.nextFlush)
}

// pace takes the rate of events since the last tick, read being how many
// the loop has read so far.
func (l *eventLoop) pace(now time.Time, read uint64) {
	if dt := now.Sub(l.ticked); dt > 0 {
		l.busy = float64(read-l.tickEvents) >= busyRate*dt.Seconds()
	}
	l.tickEvents, l.ticked = read, now
}

// flushPeriod is the time to the next flush while requests are open.
func (l *eventLoop) flushPeriod() time.Duration {
	if l.busy {
		return busyFlushEvery
	}
	return flushEvery
}

// sweep returns the processes the assembler holds state for that exited
// without the agent being told, to be forgotten: a worker gone before its
// first request was read is in no scan and was never named. A process must
// be missing from /proc at two sweeps in a row, so that the events it sent
// before it exited have been read.
func (l *eventLoop) sweep() []uint32 {
	var gone []uint32
	missing := map[uint32]bool{}
	for _, pid := range l.asm.PIDs() {
		_, err := os.Stat(filepath.Join(l.a.procRoot, strconv.FormatUint(uint64(pid), 10)))
		switch {
		case !errors.Is(err, fs.ErrNotExist):
		case l.missing[pid]:
			gone = append(gone, pid)
		default:
			missing[pid] = true
		}
	}
	l.missing = missing
	return gone
}

// processGone queues a PID whose process exited; safe from any goroutine.
func (l *eventLoop) processGone(pid uint32) {
	l.goneMu.Lock()
	l.gone = append(l.gone, pid)
	l.goneMu.Unlock()
}

// drain reads what is left in the ring buffer once the probes are detached
// and emits every open request. Called after run returned.
func (l *eventLoop) drain() {
	l.a.tracer.SetReadDeadline(time.Now())
	for {
		ev, err := l.a.tracer.ReadEvent()
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, os.ErrClosed) {
				break
			}
			continue
		}
		l.asm.Add(ev, time.Now())
		l.events.Add(1)
	}
	l.asm.FlushAll()
}

func (l *eventLoop) rate() float64 { return math.Float64frombits(l.ratePerSec.Load()) }
