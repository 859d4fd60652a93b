package discover

import (
	"context"
	"errors"
	"slices"
	"time"
)

// Change is what one scan found different from the previous one.
type Change struct {
	// Added and Removed are in PID order. A process that is no longer the
	// same one — its PID reused (new StartTime), an exec (new binary), or a
	// new role, pool or mount namespace — is in both: the old one removed,
	// the new one added.
	Added, Removed []Process
	// Denied is the current list of PHP-looking processes the agent may not
	// inspect (see DeniedError); a change in it alone also makes a Change.
	Denied []int
	// Excluded is the current list of PHP processes Options.Exclude turned
	// away, in PID order; a change in it (a process, or a reason) alone also
	// makes a Change. A process excluded after being traced is in Removed
	// too, and one admitted after being excluded in Added.
	Excluded []Excluded
}

func (c Change) empty() bool { return len(c.Added) == 0 && len(c.Removed) == 0 }

func sameExcluded(a, b []Excluded) bool {
	return slices.EqualFunc(a, b, func(x, y Excluded) bool {
		return x.PID == y.PID && x.Reason == y.Reason && sameProcess(x.Process, y.Process)
	})
}

// Watcher rescans /proc periodically and reports the differences. It is not
// safe for concurrent use: call Poll or Run from one goroutine.
type Watcher struct {
	opts     Options
	interval time.Duration

	// Seams for tests: scan is ScanAll, ticker wraps time.NewTicker.
	scan   func(Options) ([]Process, []Excluded, error)
	ticker func(time.Duration) (ticks <-chan time.Time, stop func())

	known    map[int]Process
	denied   []int
	excluded []Excluded
	primed   bool
}

// NewWatcher returns a Watcher that scans with opts every interval.
func NewWatcher(opts Options, interval time.Duration) *Watcher {
	return &Watcher{
		opts:     opts,
		interval: interval,
		scan:     ScanAll,
		ticker: func(d time.Duration) (<-chan time.Time, func()) {
			t := time.NewTicker(d)
			return t.C, t.Stop
		},
		known: map[int]Process{},
	}
}

// Poll scans once and returns the difference from the previous Poll; the
// first reports every process as Added. changed is false when there is
// nothing to report (never on the first Poll, so that callers learn the
// initial state even when it is empty). A *DeniedError from the scan is not
// an error here: it is reported in Change.Denied. On any other error nothing
// is updated.
func (w *Watcher) Poll() (c Change, changed bool, err error) {
	procs, excluded, err := w.scan(w.opts)
	var denied *DeniedError
	switch {
	case errors.As(err, &denied):
		c.Denied = denied.PIDs
	case err != nil:
		return Change{}, false, err
	}

	seen := make(map[int]Process, len(procs))
	for _, p := range procs {
		seen[p.PID] = p
		old, ok := w.known[p.PID]
		if ok && sameProcess(old, p) {
			continue
		}
		if ok {
			c.Removed = append(c.Removed, old)
		}
		c.Added = append(c.Added, p)
	}
	for pid, old := range w.known {
		if _, ok := seen[pid]; !ok {
			c.Removed = append(c.Removed, old)
		}
	}
	byPID := func(a, b Process) int { return a.PID - b.PID }
	slices.SortFunc(c.Added, byPID)
	slices.SortFunc(c.Removed, byPID)

	c.Excluded = excluded
	changed = !w.primed || !c.empty() || !slices.Equal(c.Denied, w.denied) || !sameExcluded(c.Excluded, w.excluded)
	w.known, w.denied, w.excluded, w.primed = seen, c.Denied, c.Excluded, true
	return c, changed, nil
}

// sameProcess tells whether two sightings of a PID are one process in the
// same state as far as tracing is concerned; Cmdline may change freely.
func sameProcess(a, b Process) bool {
	return a.StartTime == b.StartTime && a.BinaryID == b.BinaryID &&
		a.Role == b.Role && a.Pool == b.Pool && a.MountNS == b.MountNS
}

// Run polls at once and then every interval until ctx ends, calling emit from
// Run's goroutine with each Change worth reporting. It returns ctx's error, or
// the first scan error other than a *DeniedError (such as /proc unreadable).
func (w *Watcher) Run(ctx context.Context, emit func(Change)) error {
	ticks, stop := w.ticker(w.interval)
	defer stop()
	for {
		c, changed, err := w.Poll()
		if err != nil {
			return err
		}
		if changed {
			emit(c)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ticks:
		}
	}
}
