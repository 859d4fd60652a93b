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
