//go:build integration

package probes

import (
	"debug/elf"
	"encoding/binary"
	"errors"
	"os"
	"runtime"
	"testing"
	"time"
	"unicode/utf8"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/tusk-php/tusk/pkg/assemble"
	"github.com/tusk-php/tusk/pkg/events"
	"github.com/tusk-php/tusk/pkg/phpbin"
	"github.com/tusk-php/tusk/pkg/phpoffsets"
	"github.com/tusk-php/tusk/pkg/profile"
	"github.com/tusk-php/tusk/pkg/trace"
)

// forgedHeap lays out PHP engine structures, as a hostile PHP process could
// forge them, in this process's own memory: a Go byte slice, which the GC
// does not move and the test keeps alive. Addresses are real user
// addresses of this process, which is what the BPF walker reads when it
// interrupts one of its threads.
type forgedHeap struct {
	mem  []byte
	used int
	x    phpoffsets.Executor
}

func newForgedHeap(x phpoffsets.Executor) *forgedHeap {
	return &forgedHeap{mem: make([]byte, 1<<20), x: x}
}

func (h *forgedHeap) base() uint64 { return uint64(uintptr(unsafe.Pointer(&h.mem[0]))) }

// alloc returns the address of n zeroed bytes, 16-aligned.
func (h *forgedHeap) alloc(n int) uint64 {
	h.used = (h.used + 15) &^ 15
	addr := h.base() + uint64(h.used)
	h.used += n
	if h.used > len(h.mem) {
		panic("forgedHeap is full")
	}
	return addr
}

func (h *forgedHeap) at(addr uint64) []byte { return h.mem[addr-h.base():] }

func (h *forgedHeap) put64(addr, v uint64) { binary.LittleEndian.PutUint64(h.at(addr), v) }
func (h *forgedHeap) put32(addr uint64, v uint32) {
	binary.LittleEndian.PutUint32(h.at(addr), v)
}

// zstr is a zend_string whose len says n and whose characters are val,
// with no NUL after them unless val has one.
func (h *forgedHeap) zstr(n uint64, val []byte) uint64 {
	a := h.alloc(int(h.x.StringVal) + len(val) + 16)
	h.put64(a+uint64(h.x.StringLen), n)
	copy(h.at(a+uint64(h.x.StringVal)), val)
	// What follows the characters is not a NUL either: the walker must stop
	// on its own buffer's size.
	for i := range 16 {
		h.at(a + uint64(h.x.StringVal) + uint64(len(val)))[i] = 0xff
	}
	return a
}

// fn is a zend_function: its type, name, scope and, for user functions,
// the file and first line.
func (h *forgedHeap) fn(typ byte, name, scope, file uint64, lineStart uint32) uint64 {
	a := h.alloc(int(h.x.OpArrayLineStart) + 8)
	h.at(a + uint64(h.x.FuncType))[0] = typ
	h.put64(a+uint64(h.x.FuncName), name)
	h.put64(a+uint64(h.x.FuncScope), scope)
	h.put64(a+uint64(h.x.OpArrayFilename), file)
	h.put32(a+uint64(h.x.OpArrayLineStart), lineStart)
	return a
}

// class is a zend_class_entry with only its name.
func (h *forgedHeap) class(name uint64) uint64 {
	a := h.alloc(int(h.x.ClassEntryName) + 8)
	h.put64(a+uint64(h.x.ClassEntryName), name)
	return a
}

// frame is a zend_execute_data; prev is filled by link.
func (h *forgedHeap) frame(fn, opline uint64) uint64 {
	a := h.alloc(80)
	h.put64(a+uint64(h.x.ExFunc), fn)
	h.put64(a+uint64(h.x.ExOpline), opline)
	return a
}

func (h *forgedHeap) link(frame, prev uint64) { h.put64(frame+uint64(h.x.ExPrev), prev) }

// opline is a zend_op at line.
func (h *forgedHeap) opline(line uint32) uint64 {
	a := h.alloc(32)
	h.put32(a+uint64(h.x.OpLineno), line)
	return a
}

// executorGlobals is an executor_globals whose current_execute_data is cur.
func (h *forgedHeap) executorGlobals(cur uint64) uint64 {
	a := h.alloc(int(h.x.CurrentExecuteData) + 8)
	h.put64(a+uint64(h.x.CurrentExecuteData), cur)
	return a
}

// junk is n bytes that are not UTF-8 and hold no NUL.
func junk(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = 0x80 | (seed+byte(i*7))&0x7f // continuation bytes and lead bytes, never a valid sequence start
		if i%5 == 0 {
			b[i] = 0xff
		}
	}
	return b
}

// Unmapped addresses: nothing is mapped below 64 KiB (vm.mmap_min_addr),
// and the top of the user address space is not canonical.
const (
	lowGarbage  = 0x10
	highGarbage = 0x7fff_ffff_ffff_0000
)

// topLevelFunc is TOPLEVEL_FUNC (bpf/headers/phpstack.h): the function of
// a file's top-level code in a frame.
const topLevelFunc = 1

// forgedCase is one hostile PHP thread: the executor_globals its thread
// state points at, and what the walk must give for it.
type forgedCase struct {
	name    string
	eg      uint64
	request uint64
	check   func(t *testing.T, s *events.Sample)
	tid     uint32 // the thread that ran it, set by spin
}

// TestSamplerOnForgedStacks runs the real sampler (perf events on every
// CPU at 999 Hz, sample_php_stack) over threads of this test registered as
// PHP threads serving a request, whose "PHP stacks" are forged: a frame
// chain that cycles (A → B → A), zend_strings whose len is 2^62 or 2^64-1
// over bytes that are not UTF-8 and have no NUL, NULL and unmapped pointers
// where functions, names, classes and frames should be. Each thread spins
// for a while; then every sample and symbol the ring buffer got goes
// through the agent's decoder and assembler. Nothing may hang, every sample
// holds at most TUSK_SAMPLE_FRAMES frames, names are cut at their buffers.
func TestSamplerOnForgedStacks(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: loads BPF programs and perf events")
	}
	testStart := time.Now()
	tr, idx, offs := loadForgedPHP82(t, 1<<23)

	h := newForgedHeap(offs.Executor)
	defer runtime.KeepAlive(h.mem)
	const (
		nameLen  = 128 // TUSK_NAME_LEN
		pathLen  = 256 // TUSK_PATH_LEN
		maxDepth = 128 // TUSK_SAMPLE_FRAMES
	)
	longName := junk(4096, 1)
	className := junk(300, 2)
	fileName := junk(1000, 3)

	// A ↔ B: an internal method of a class and a user function, every
	// string forged.
	fnA := h.fn(1, h.zstr(1<<62, longName), h.class(h.zstr(^uint64(0), className)), 0, 0)
	fnB := h.fn(2, h.zstr(1<<62, junk(200, 4)), 0, h.zstr(1<<63, fileName), 0xffffffff)
	a := h.frame(fnA, 0)
	b := h.frame(fnB, h.opline(0xffffffff))
	h.link(a, b)
	h.link(b, a)

	// A chain of bad pointers: a frame whose function is unmapped, one
	// without a function, a file's top-level code (user function, no name)
	// with a forged file name, a function whose name and class are
	// unmapped and whose opline is too; then a prev that is unmapped.
	c := h.frame(lowGarbage, 0)
	d := h.frame(0, 0)
	e := h.frame(h.fn(2, 0, 0, h.zstr(5, []byte("x.php\x00")), 1), h.opline(7))
	f := h.frame(h.fn(1, highGarbage, lowGarbage, 0, 0), highGarbage)
	h.link(c, d)
	h.link(d, e)
	h.link(e, f)
	h.link(f, highGarbage)

	egCycle := h.executorGlobals(a)
	egChain := h.executorGlobals(c)
	egEmpty := h.executorGlobals(0)

	cases := []forgedCase{
		{name: "cycle", eg: egCycle, request: 101, check: func(t *testing.T, s *events.Sample) {
			// The walk cannot tell a cycle from a deep stack: it stops at
			// its bound, with A and B alternating.
			if len(s.Frames) != maxDepth {
				t.Fatalf("cycle: %d frames, want %d", len(s.Frames), maxDepth)
			}
			for i, fr := range s.Frames {
				want := fnA
				if i%2 == 1 {
					want = fnB
				}
				if fr.Func != want {
					t.Fatalf("cycle: frame %d is %#x, want %#x", i, fr.Func, want)
				}
			}
			if s.Frames[1].Line != 0xffffffff || s.Frames[0].Line != 0 {
				t.Fatalf("cycle: lines %d, %d", s.Frames[0].Line, s.Frames[1].Line)
			}
		}},
		{name: "bad pointers", eg: egChain, request: 102, check: func(t *testing.T, s *events.Sample) {
			// c (unreadable function) and d (no function) are skipped, e
			// and f are frames, f's prev ends the walk.
			if len(s.Frames) != 2 || s.Frames[0].Func != topLevelFunc || s.Frames[1].Name != highGarbage || s.Frames[0].Line != 7 {
				t.Fatalf("bad pointers: %+v", s.Frames)
			}
		}},
		{name: "no frame", eg: egEmpty, request: 103, check: func(t *testing.T, s *events.Sample) {
			if len(s.Frames) != 0 {
				t.Fatalf("no frame: %+v", s.Frames)
			}
		}},
		{name: "executor_globals unmapped", eg: highGarbage, request: 104, check: func(t *testing.T, s *events.Sample) {
			if len(s.Frames) != 0 {
				t.Fatalf("unmapped executor_globals: %+v", s.Frames)
			}
		}},
	}

	sampler, err := tr.StartSampler(999)
	if err != nil {
		t.Fatal(err)
	}
	defer sampler.Close()

	// Each case spins on its own locked OS thread, one at a time, while
	// this goroutine reads the ring buffer.
	spinFor := 300 * time.Millisecond
	done := make(chan error, 1)
	go func() {
		for i := range cases {
			// A goroutine per case, which exits locked: its thread ends
			// with it, and the next case runs on another.
			errc := make(chan error, 1)
			go func() { errc <- spin(tr, idx, &cases[i], spinFor) }()
			if err := <-errc; err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()

	var evs []events.Event
	readOwnEvents(t, tr, done, func(ev events.Event) { evs = append(evs, ev) })
	sampler.Close()
	readTime := time.Since(testStart)
	tids := map[uint32]*forgedCase{}
	for i := range cases {
		tids[cases[i].tid] = &cases[i]
	}
	if len(tids) != len(cases) {
		t.Fatalf("the cases ran on %d threads, want %d", len(tids), len(cases))
	}

	samples := map[string][]*events.Sample{}
	symbols := map[[2]uint64]*events.Symbol{}
	for _, ev := range evs {
		switch e := ev.(type) {
		case *events.Sample:
			fc := tids[e.TID]
			if fc == nil {
				t.Fatalf("a sample of thread %d, which is no case's", e.TID)
			}
			if e.Request != fc.request {
				t.Errorf("%s: sample of request %d", fc.name, e.Request)
			}
			if len(e.Frames) > maxDepth {
				t.Fatalf("%s: %d frames", fc.name, len(e.Frames))
			}
			samples[fc.name] = append(samples[fc.name], e)
		case *events.Symbol:
			if len(e.Function) >= nameLen || len(e.Class) >= nameLen || len(e.File) >= pathLen {
				t.Errorf("symbol names longer than their buffers: %d, %d, %d bytes", len(e.Function), len(e.Class), len(e.File))
			}
			symbols[[2]uint64{e.Func, e.Name}] = e
		}
	}
	for i := range cases {
		fc := &cases[i]
		got := samples[fc.name]
		maxFrames := 0
		for _, s := range got {
			fc.check(t, s)
			maxFrames = max(maxFrames, len(s.Frames))
		}
		t.Logf("%-26s %4d samples, up to %d frames each", fc.name, len(got), maxFrames)
		if len(got) < 20 { // 999 Hz over 300 ms of CPU
			t.Errorf("%s: %d samples", fc.name, len(got))
		}
	}

	// The names are the forged bytes, cut at the buffers (one byte for the
	// NUL), whatever len said.
	symA := symbols[[2]uint64{fnA, h.get64(fnA + uint64(offs.Executor.FuncName))}]
	if symA == nil || symA.Function != string(longName[:nameLen-1]) || symA.Class != string(className[:nameLen-1]) || symA.User {
		t.Errorf("symbol of A: %+v", symA)
	}
	symB := symbols[[2]uint64{fnB, h.get64(fnB + uint64(offs.Executor.FuncName))}]
	if symB == nil || symB.Function != string(junk(200, 4)[:nameLen-1]) || symB.File != string(fileName[:pathLen-1]) ||
		symB.LineStart != 0xffffffff || !symB.User {
		t.Errorf("symbol of B: %+v", symB)
	}
	if len(symbols) != 4 {
		t.Errorf("%d symbols, want A, B, the top-level file and the nameless function", len(symbols))
	}
	for _, s := range symbols {
		t.Logf("symbol func %#x name %#x user %v: function %d bytes, class %d, file %q", s.Func, s.Name, s.User,
			len(s.Function), len(s.Class), clipForLog(s.File))
	}

	// The agent's side: the assembler names the frames and makes profile
	// samples of them, the profile codec stores them.
	var profiled []profile.Sample
	asm := assemble.New(assemble.Options{SamplePeriod: time.Second / 999,
		Profile: func(_ *trace.Trace, s []profile.Sample) { profiled = append(profiled, s...) }}, func(*trace.Trace) {})
	for _, ev := range evs {
		asm.Add(ev, time.Now())
	}
	asm.FlushAll()
	if len(profiled) == 0 {
		t.Fatal("the assembler made no profile samples")
	}
	p := profile.NewProfile(0)
	for _, s := range profiled {
		if len(s.Stack) > maxDepth {
			t.Fatalf("profile sample of %d frames", len(s.Stack))
		}
		for _, fr := range s.Stack {
			for _, str := range []string{fr.Function, fr.Class, fr.File} {
				if !utf8.ValidString(str) {
					t.Fatalf("frame %+v is not UTF-8", fr)
				}
			}
		}
		p.Add(s.Stack, profile.Labels{Service: "forged"}, 1)
	}
	back, err := profile.Decode(profile.Encode(p))
	if err != nil {
		t.Fatalf("profile codec: %v", err)
	}
	t.Logf("%d events, %d profile samples (%d stacks, %d encoded bytes); run %v", len(evs), len(profiled),
		len(back.Stacks), len(profile.Encode(p)), readTime.Round(time.Millisecond))
}

// spin registers the calling thread as a PHP thread running fc's forged
// stack, burns CPU for d, and unregisters it.
func spin(tr *Tracer, binary uint32, fc *forgedCase, d time.Duration) error {
	runtime.LockOSThread() // never unlocked: the thread exits with the goroutine
	tid := uint32(unix.Gettid())
	fc.tid = tid
	ts := requestThreadState{Request: fc.request, Eg: fc.eg, Binary: binary}
	if err := tr.objs.Threads.Put(tid, &ts); err != nil {
		return err
	}
	defer tr.objs.Threads.Delete(tid)
	x := uint64(1)
	for end := time.Now().Add(d); time.Now().Before(end); {
		for range 10000 {
			x = x*6364136223846793005 + 1442695040888963407
		}
	}
	if x == 42 {
		return errors.New("unlikely")
	}
	// Let the ring buffer's reader see this thread's last samples before
	// the next case starts.
	time.Sleep(20 * time.Millisecond)
	return nil
}

func (h *forgedHeap) get64(addr uint64) uint64 { return binary.LittleEndian.Uint64(h.at(addr)) }

func clipForLog(s string) string {
	if len(s) > 12 {
		return s[:12] + "…"
	}
	return s
}

// readOwnEvents hands each event of this test process to each until the
// goroutine forging stacks reports on done and the ring is drained; a
// decoding error (the decoder refused what BPF sent) or the goroutine's
// error fails the test.
func readOwnEvents(t *testing.T, tr *Tracer, done <-chan error, each func(events.Event)) {
	t.Helper()
	guard := time.Now().Add(30 * time.Second)
	var spinErr error
	spinning := true
	for {
		if time.Now().After(guard) {
			t.Fatal("no end after 30s")
		}
		if spinning {
			select {
			case spinErr = <-done:
				spinning = false
			default:
			}
		}
		tr.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		ev, err := tr.ReadEvent()
		if errors.Is(err, os.ErrDeadlineExceeded) {
			if !spinning {
				break
			}
			continue
		}
		if err != nil {
			t.Fatalf("decoding a record: %v", err)
		}
		if ev.Hdr().PID == uint32(os.Getpid()) {
			each(ev)
		}
	}
	if spinErr != nil {
		t.Fatal(spinErr)
	}
}

// loadForgedPHP82 loads the BPF programs with a ring of ringBytes and the
// binaries entry the agent makes for a PHP 8.2 php-fpm, for tests whose
// threads pose as its workers; it returns the entry's index and the 8.2
// offsets the forged structures follow. Both are released at the test's end.
func loadForgedPHP82(t *testing.T, ringBytes int) (*Tracer, uint32, *phpoffsets.Offsets) {
	t.Helper()
	if runtime.GOARCH != "amd64" {
		t.Skip("the forged structures use x86-64 PHP 8.2 offsets")
	}
	offs, err := phpoffsets.Lookup("8.2", elf.EM_X86_64)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := Load(Options{RingBytes: ringBytes})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Close() })
	info := &phpbin.Info{Path: "/forged/php-fpm", Machine: elf.EM_X86_64, Version: "8.2.99", SAPI: "fpm",
		Symbols: map[string]phpbin.Symbol{"sapi_globals": {Value: 0x1000}, "executor_globals": {Value: 0x2000}}}
	bin, _ := binaryEntry(info)
	if bin.Flags&binaryExecutor == 0 {
		t.Fatalf("no executor offsets in %+v", bin)
	}
	idx, err := tr.binaries.alloc()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.binaries.release(idx) })
	if err := tr.objs.Binaries.Put(idx, &bin); err != nil {
		t.Fatal(err)
	}
	return tr, idx, offs
}
