package discover

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

// scripted returns a scan function that answers with each result in turn,
// repeating the last.
func scripted(results ...[]Process) func(Options) ([]Process, []Excluded, error) {
	i := 0
	return func(Options) ([]Process, []Excluded, error) {
		r := results[min(i, len(results)-1)]
		i++
		return r, nil, nil
	}
}

func proc(pid int, start uint64) Process {
	return Process{PID: pid, StartTime: start, Role: RoleFPMWorker, Pool: "www", BinaryID: BinaryID{1, 2}}
}

func TestPollReportsWhatChanged(t *testing.T) {
	master := Process{PID: 10, StartTime: 5, Role: RoleFPMMaster, BinaryID: BinaryID{1, 2}}
	execd := proc(12, 7)
	execd.BinaryID = BinaryID{1, 3}
	retitled := proc(11, 6)
	retitled.Pool = "api"
	steps := []struct {
		name           string
		scan           []Process
		added, removed []int
		changed        bool
	}{
		{"first scan: all added", []Process{master, proc(11, 6), proc(12, 7)}, []int{10, 11, 12}, nil, true},
		{"nothing changed", []Process{master, proc(11, 6), proc(12, 7)}, nil, nil, false},
		{"worker killed, replaced", []Process{master, proc(12, 7), proc(13, 9)}, []int{13}, []int{11}, true},
		{"pid reused: new start time", []Process{master, proc(12, 7), proc(13, 10)}, []int{13}, []int{13}, true},
		{"exec: new binary, same pid and start", []Process{master, execd, proc(13, 10)}, []int{12}, []int{12}, true},
		{"new pool for the same pid", []Process{master, execd, proc(13, 10), retitled}, []int{11}, nil, true},
		{"cmdline alone is no change", []Process{master, execd, func() Process { p := proc(13, 10); p.Cmdline = "x"; return p }(), retitled}, nil, nil, false},
		{"all gone", nil, nil, []int{10, 11, 12, 13}, true},
	}
	var results [][]Process
	for _, s := range steps {
		results = append(results, s.scan)
	}
	w := NewWatcher(Options{}, time.Hour)
	w.scan = scripted(results...)
	for _, s := range steps {
		c, changed, err := w.Poll()
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if changed != s.changed || !slices.Equal(pidsOf(c.Added), s.added) || !slices.Equal(pidsOf(c.Removed), s.removed) {
			t.Errorf("%s: changed %v added %v removed %v; want %v %v %v", s.name,
				changed, pidsOf(c.Added), pidsOf(c.Removed), s.changed, s.added, s.removed)
		}
	}
}

func TestPollReportsAnEmptyFirstScan(t *testing.T) {
	w := NewWatcher(Options{}, time.Hour)
	w.scan = scripted(nil)
	if _, changed, _ := w.Poll(); !changed {
		t.Error("first Poll of an empty host: changed = false, want true so that callers learn the initial state")
	}
	if _, changed, _ := w.Poll(); changed {
		t.Error("second Poll of an empty host: changed = true")
	}
}

func TestPollCarriesPermissionProblemsWithoutFailing(t *testing.T) {
	results := []struct {
		procs  []Process
		denied []int
	}{{[]Process{proc(11, 1)}, []int{12}}, {[]Process{proc(11, 1)}, []int{12}}, {[]Process{proc(11, 1)}, nil}}
	i := 0
	w := NewWatcher(Options{}, time.Hour)
	w.scan = func(Options) ([]Process, []Excluded, error) {
		r := results[i]
		i++
		if r.denied != nil {
			return r.procs, nil, &DeniedError{PIDs: r.denied}
		}
		return r.procs, nil, nil
	}
	wantChanged := []bool{true, false, true}
	for i := range results {
		c, changed, err := w.Poll()
		if err != nil || changed != wantChanged[i] || !slices.Equal(c.Denied, results[i].denied) {
			t.Errorf("poll %d: changed %v denied %v err %v; want %v %v nil", i, changed, c.Denied, err, wantChanged[i], results[i].denied)
		}
	}
}

func TestRunEmitsOnTicksUntilCancelled(t *testing.T) {
	w := NewWatcher(Options{}, time.Hour)
	w.scan = scripted([]Process{proc(11, 1)}, []Process{proc(11, 1)}, []Process{proc(12, 2)})
	ticks := make(chan time.Time)
	w.ticker = func(time.Duration) (<-chan time.Time, func()) { return ticks, func() {} }

	ctx, cancel := context.WithCancel(t.Context())
	changes := make(chan Change)
	done := make(chan error)
	go func() { done <- w.Run(ctx, func(c Change) { changes <- c }) }()

	if c := <-changes; !slices.Equal(pidsOf(c.Added), []int{11}) {
		t.Errorf("first change added %v, want [11]", pidsOf(c.Added))
	}
	ticks <- time.Time{} // same result: nothing emitted
	ticks <- time.Time{}
	if c := <-changes; !slices.Equal(pidsOf(c.Added), []int{12}) || !slices.Equal(pidsOf(c.Removed), []int{11}) {
		t.Errorf("third scan: added %v removed %v, want [12] [11]", pidsOf(c.Added), pidsOf(c.Removed))
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Run returned %v, want context.Canceled", err)
	}
}

func TestRunStopsOnAScanFailure(t *testing.T) {
	w := NewWatcher(Options{}, time.Hour)
	boom := errors.New("/proc is gone")
	w.scan = func(Options) ([]Process, []Excluded, error) { return nil, nil, boom }
	if err := w.Run(t.Context(), func(Change) { t.Error("emitted on a failed scan") }); !errors.Is(err, boom) {
		t.Errorf("Run = %v, want %v", err, boom)
	}
}

func TestWatcherOnAFakeProc(t *testing.T) {
	h := newFakeHost(t)
	w := NewWatcher(Options{ProcRoot: h.root, PIDs: []int{100}}, time.Hour)
	if c, _, err := w.Poll(); err != nil || !slices.Equal(pidsOf(c.Added), []int{100, 101, 102, 103}) {
		t.Fatalf("first Poll added %v, %v", pidsOf(c.Added), err)
	}
	// Worker 102 dies; the master forks 105 in its place.
	must(t, removeFakeProc(h.root, 102))
	writeFakeProc(t, h.root, fakeProc{pid: 105, ppid: 100, comm: "php-fpm8.2", exe: h.fpm,
		argv: []string{"php-fpm: pool www"}, startTime: 1005})
	c, changed, err := w.Poll()
	if err != nil || !changed || !slices.Equal(pidsOf(c.Added), []int{105}) || !slices.Equal(pidsOf(c.Removed), []int{102}) {
		t.Errorf("after respawn: added %v removed %v (%v, %v); want [105] [102]", pidsOf(c.Added), pidsOf(c.Removed), changed, err)
	}
}
