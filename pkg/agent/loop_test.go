package agent

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/tusk-php/tusk/pkg/assemble"
	"github.com/tusk-php/tusk/pkg/events"
	"github.com/tusk-php/tusk/pkg/trace"
)

// The event loop forgets a process it holds state for once the process has
// been missing from /proc at two sweeps in a row, and not before.
func TestSweepForgetsExitedProcesses(t *testing.T) {
	root := t.TempDir()
	if err := os.Mkdir(filepath.Join(root, "10"), 0o755); err != nil {
		t.Fatal(err)
	}
	asm := assemble.New(assemble.Options{}, func(*trace.Trace) {})
	now := time.Now()
	for _, pid := range []uint32{10, 11} {
		asm.Add(&events.RequestStart{Header: events.Header{PID: pid, TID: pid, Request: 1, TS: 1}}, now)
	}
	l := &eventLoop{a: &Agent{procRoot: root}, asm: asm}
	if gone := l.sweep(); len(gone) != 0 {
		t.Fatalf("first sweep: %v gone; a process must be missed twice", gone)
	}
	if gone := l.sweep(); !slices.Equal(gone, []uint32{11}) {
		t.Fatalf("second sweep: %v gone, want [11] (10 is in /proc)", gone)
	}
}

// The loop flushes every 250 ms unless events come at busyRate or more: a
// rate, so that two ticks close together with few events between them do
// not pass for a quiet loop.
func TestFlushPaceFollowsTheEventRate(t *testing.T) {
	l := &eventLoop{}
	t0 := time.Now()
	steps := []struct {
		after time.Duration
		read  uint64
		want  time.Duration
	}{
		{0, 0, flushEvery},
		{250 * time.Millisecond, 400, flushEvery},               // 1600/s: WordPress at 40 pages a second
		{500 * time.Millisecond, 400 + 100_000, busyFlushEvery}, // 400k/s: deep mode
		{502 * time.Millisecond, 400 + 100_100, busyFlushEvery}, // 50k/s over 2 ms: still busy
		{752 * time.Millisecond, 400 + 100_200, flushEvery},     // 400/s
	}
	for _, s := range steps {
		l.pace(t0.Add(s.after), s.read)
		if got := l.flushPeriod(); got != s.want {
			t.Fatalf("after %v with %d events read: next flush in %v, want %v", s.after, s.read, got, s.want)
		}
	}
}
