//go:build integration

package probes

import (
	"errors"
	"os"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tusk-php/tusk/pkg/events"
)

// TestWalkMemoKeepsToItsRequestAndCallSite runs the real sampler over a
// thread of this test posing as a PHP worker whose stack is one user
// function, in three phases: request 401 at a call site on line 10, the
// same request at another call site (line 30), then request 402 where the
// function at the same address has another name and the first call site's
// opline another line, as PHP's request memory reused for other code. What
// a walk remembers of a frame (bpf/headers/phpstack.h, walk_memo) may serve
// only the request and the function and opline that read it: every sample
// must name what its phase's memory holds.
func TestWalkMemoKeepsToItsRequestAndCallSite(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: loads BPF programs and perf events")
	}
	tr, idx, offs := loadForgedPHP82(t, 1<<22)
	h := newForgedHeap(offs.Executor)
	defer runtime.KeepAlive(h.mem)

	first := h.zstr(5, []byte("first\x00"))
	second := h.zstr(6, []byte("second\x00"))
	fn := h.fn(2, first, 0, h.zstr(5, []byte("a.php\x00")), 1)
	// The second call site shares the first one's slot in the memo, so
	// that only the opline in its key tells them apart.
	siteA := h.opline(10)
	siteB := h.opline(30)
	for memoSlot(fn, siteB) != memoSlot(fn, siteA) {
		siteB = h.opline(30)
	}
	frame := h.frame(fn, siteA)
	eg := h.executorGlobals(frame)

	type phase struct {
		request      uint64
		name, opline uint64
		line         uint32
		from         uint64 // CLOCK_MONOTONIC once the phase's memory is in place, as bpf_ktime_get_ns
	}
	phases := []*phase{
		{request: 401, name: first, opline: siteA, line: 10},
		{request: 401, name: first, opline: siteB, line: 30},
		{request: 402, name: second, opline: siteA, line: 20},
	}

	sampler, err := tr.StartSampler(999)
	if err != nil {
		t.Fatal(err)
	}
	defer sampler.Close()

	var tid uint32
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread exits with the goroutine
		tid = uint32(unix.Gettid())
		defer tr.objs.Threads.Delete(tid)
		x := uint64(1)
		for _, p := range phases {
			// The thread changes its own memory, then reads the clock: a
			// sample taken on it after that sees the change.
			h.put64(fn+uint64(offs.Executor.FuncName), p.name)
			h.put64(frame+uint64(offs.Executor.ExOpline), p.opline)
			h.put32(p.opline+uint64(offs.Executor.OpLineno), p.line)
			ts := requestThreadState{Request: p.request, Eg: eg, Binary: idx}
			if err := tr.objs.Threads.Put(tid, &ts); err != nil {
				done <- err
				return
			}
			var now unix.Timespec
			if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &now); err != nil {
				done <- err
				return
			}
			p.from = uint64(now.Nano())
			for end := time.Now().Add(300 * time.Millisecond); time.Now().Before(end); {
				for range 10000 {
					x = x*6364136223846793005 + 1442695040888963407
				}
			}
		}
		if x == 42 {
			done <- errors.New("unlikely")
			return
		}
		done <- nil
	}()

	var samples []*events.Sample
	symbols := map[[2]uint64]*events.Symbol{}
	readOwnEvents(t, tr, done, func(ev events.Event) {
		switch e := ev.(type) {
		case *events.Sample:
			samples = append(samples, e)
		case *events.Symbol:
			symbols[[2]uint64{e.Func, e.Name}] = e
		}
	})

	counts := make([]int, len(phases))
	for _, s := range samples {
		if s.TID != tid {
			continue
		}
		i := len(phases) - 1
		for i >= 0 && s.TS < phases[i].from {
			i--
		}
		if i < 0 {
			continue // taken while the first phase was being set up
		}
		p := phases[i]
		counts[i]++
		if s.Request != p.request {
			t.Fatalf("phase %d: a sample of request %d, want %d", i+1, s.Request, p.request)
		}
		if len(s.Frames) != 1 || s.Frames[0].Func != fn || s.Frames[0].Name != p.name || s.Frames[0].Line != p.line {
			t.Fatalf("phase %d (request %d, line %d): sample frames %+v, want function %#x named %#x at line %d",
				i+1, p.request, p.line, s.Frames, fn, p.name, p.line)
		}
	}
	for i, n := range counts {
		t.Logf("phase %d (request %d, line %d): %d samples", i+1, phases[i].request, phases[i].line, n)
		if n < 20 { // 999 Hz over 300 ms of CPU
			t.Errorf("phase %d: %d samples", i+1, n)
		}
	}
	for _, name := range []uint64{first, second} {
		if symbols[[2]uint64{fn, name}] == nil {
			t.Errorf("no symbol sent for the function named %#x", name)
		}
	}
}

// memoSlot is where walk_frame keeps a frame of func at opline in its memo
// (bpf/headers/phpstack.h, WALK_MEMO entries).
func memoSlot(fn, opline uint64) uint64 {
	const k, entries = 0x9e3779b97f4a7c15, 512
	return ((fn ^ opline*k) * k) >> 32 & (entries - 1)
}
