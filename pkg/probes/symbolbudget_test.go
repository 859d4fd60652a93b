//go:build integration

package probes

import (
	"errors"
	"os"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tusk-php/tusk/pkg/events"
)

// The symbol budget of a process: TUSK_SYMBOL_BURST and TUSK_SYMBOL_RATE
// in bpf/headers/tusk.h.
const (
	symbolBurst = 8192
	symbolRate  = 2048 // per second
)

// TestSymbolBudgetOnForgedFunctions runs the real sampler over a thread of
// this test registered as a PHP thread whose stack is 128 forged functions
// that get new names every millisecond, as a process that makes functions
// without end would: every sample meets 128 functions never sent. The
// process may send its burst and then its rate of symbol events; the rest
// are counted as limited, and every sample still has all its frames.
func TestSymbolBudgetOnForgedFunctions(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: loads BPF programs and perf events")
	}
	tr, idx, offs := loadForgedPHP82(t, 1<<24)

	// 128 internal functions (no line, no file to read), each in a frame of
	// one chain. Their names are pointers into a region of junk bytes, one
	// new pointer per function and generation: a new symbol each time.
	const depth = 128
	h := newForgedHeap(offs.Executor)
	defer runtime.KeepAlive(h.mem)
	names := h.alloc(512 << 10)
	copy(h.at(names), junk(512<<10, 5))
	fns := make([]uint64, depth)
	var prev uint64
	for i := depth - 1; i >= 0; i-- {
		fns[i] = h.fn(1, names, 0, 0, 0)
		f := h.frame(fns[i], 0)
		h.link(f, prev)
		prev = f
	}
	eg := h.executorGlobals(prev)
	rename := func(gen uint64) {
		for i, fn := range fns {
			h.put64(fn+uint64(offs.Executor.FuncName), names+(gen*depth+uint64(i))%(512<<10-256))
		}
	}
	rename(0)

	sampler, err := tr.StartSampler(999)
	if err != nil {
		t.Fatal(err)
	}
	defer sampler.Close()

	const spinFor = 1500 * time.Millisecond
	var tid atomic.Uint32
	done := make(chan error, 1)
	start := time.Now()
	go func() {
		runtime.LockOSThread() // never unlocked: the thread exits with the goroutine
		tid.Store(uint32(unix.Gettid()))
		ts := requestThreadState{Request: 201, Eg: eg, Binary: idx}
		if err := tr.objs.Threads.Put(tid.Load(), &ts); err != nil {
			done <- err
			return
		}
		defer tr.objs.Threads.Delete(tid.Load())
		x := uint64(1)
		for end := start.Add(spinFor); time.Now().Before(end); {
			rename(uint64(time.Since(start) / time.Millisecond))
			for range 2000 {
				x = x*6364136223846793005 + 1442695040888963407
			}
		}
		if x == 42 {
			done <- errors.New("unlikely")
			return
		}
		done <- nil
	}()

	var symbols, samples, frames int
	readOwnEvents(t, tr, done, func(ev events.Event) {
		switch e := ev.(type) {
		case *events.Symbol:
			symbols++
		case *events.Sample:
			if e.TID != tid.Load() {
				return
			}
			samples++
			frames += len(e.Frames)
			if len(e.Frames) != depth {
				t.Fatalf("a sample of %d frames, want %d: limited symbols must not cost frames", len(e.Frames), depth)
			}
		}
	})
	elapsed := time.Since(start)
	sampler.Close()

	var limited, lost uint64
	perCPU, err := tr.SymbolsLimitedPerCPU()
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range perCPU {
		limited += n
	}
	lostPerCPU, err := tr.LostPerCPU()
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range lostPerCPU {
		lost += n
	}
	allowed := symbolBurst + int(elapsed.Seconds()*symbolRate)
	t.Logf("%d samples of %d frames, %d symbols sent (allowed %d in %v), %d limited, %d events lost",
		samples, depth, symbols, allowed, elapsed.Round(time.Millisecond), limited, lost)
	if samples < 100 {
		t.Fatalf("%d samples: the walk did not run enough to test the budget", samples)
	}
	if symbols > allowed+depth { // a sample's worth of slack for the bucket's races
		t.Errorf("%d symbols sent, more than the budget of %d", symbols, allowed)
	}
	if symbols+int(lost) < symbolBurst {
		t.Errorf("%d symbols sent (%d events lost): the burst of %d did not go through", symbols, lost, symbolBurst)
	}
	// Every frame of every sample met a function not sent yet, but for the
	// few samples of a generation after it was sent.
	if limited < uint64(frames)/2 {
		t.Errorf("%d symbols limited for %d frames walked", limited, frames)
	}
}
