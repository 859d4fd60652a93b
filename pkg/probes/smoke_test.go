//go:build integration

package probes

import (
	"errors"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/tusk-php/tusk/pkg/events"
	"github.com/tusk-php/tusk/pkg/phpbin"
)

const phpCLI = "/usr/bin/php8.2"

// readUntilEnd collects events until a request end or the deadline.
func readUntilEnd(t *testing.T, tr *Tracer) []events.Event {
	t.Helper()
	var out []events.Event
	giveUp := time.Now().Add(5 * time.Second)
	for time.Now().Before(giveUp) {
		// Events below the wake-up threshold are read on a deadline.
		tr.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
		ev, err := tr.ReadEvent()
		if errors.Is(err, os.ErrDeadlineExceeded) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ev)
		if ev.Kind() == events.KindRequestEnd {
			return out
		}
	}
	t.Fatalf("no request end within 5s; got %d events", len(out))
	return nil
}

// attachCLI loads the programs and attaches request and function probes to
// php-cli, for every process that runs it.
func attachCLI(t *testing.T, opts Options) *Tracer {
	t.Helper()
	info, err := phpbin.Inspect(phpCLI)
	if err != nil {
		t.Skipf("needs Debian's %s: %v", phpCLI, err)
	}
	tr, err := Load(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Close() })
	a, err := tr.Attach(info, phpCLI, ModeAuto)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	d, err := a.AttachDeep(0, phpCLI)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return tr
}

// php-cli runs one "request" per script: the same probes php-fpm has, with
// a real BPF load, attach, and ring buffer read.
func TestCLIScriptEvents(t *testing.T) {
	tr := attachCLI(t, Options{RingBytes: 1 << 16})
	if err := tr.SetDeepSettings(time.Millisecond, 64); err != nil {
		t.Fatal(err)
	}

	code := `function slow(){ usleep(3000); fast(); throw new DomainException("x"); }
function fast(){ return 1; }
try { slow(); } catch (Exception $e) {}`
	cmd := exec.Command(phpCLI, "-r", code)
	cmd.Env = append(os.Environ(), "USE_ZEND_DTRACE=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	evs := readUntilEnd(t, tr)

	start, ok := evs[0].(*events.RequestStart)
	if !ok || start.Method != "" || start.Script != "Standard input code" || int(start.PID) != cmd.Process.Pid {
		t.Fatalf("first event %#v", evs[0])
	}
	var fns []*events.Function
	var exc *events.Exception
	for _, ev := range evs {
		if ev.Hdr().Request != start.Request || ev.Hdr().TID != start.TID {
			t.Fatalf("event %#v is not tagged with the request", ev)
		}
		switch e := ev.(type) {
		case *events.Function:
			fns = append(fns, e)
		case *events.Exception:
			exc = e
		}
	}
	// fast() took microseconds: under the threshold, it stayed in the kernel.
	if len(fns) != 1 || fns[0].Function != "slow" || fns[0].Parent != 0 || fns[0].Flags&events.FrameThrew == 0 {
		t.Fatalf("function events %+v", fns)
	}
	if d := time.Duration(fns[0].TS - fns[0].Start); d < 3*time.Millisecond || d > 100*time.Millisecond {
		t.Fatalf("slow() took %s", d)
	}
	if exc == nil || exc.Class != "DomainException" || exc.Frame != fns[0].Seq {
		t.Fatalf("exception %+v, want DomainException thrown in frame %d", exc, fns[0].Seq)
	}
	end := evs[len(evs)-1].(*events.RequestEnd)
	if end.Exceptions != 1 || end.Lost != 0 || end.OpenFrames != 0 {
		t.Fatalf("end %+v", end)
	}
	lost, err := tr.LostPerCPU()
	if err != nil {
		t.Fatal(err)
	}
	for cpu, n := range lost {
		if n != 0 {
			t.Fatalf("cpu %d lost %d events", cpu, n)
		}
	}
}

// A request that dies in a fatal error never returns from its frames: the
// shutdown program closes them as unfinished.
func TestFramesOpenAtShutdownAreFlushed(t *testing.T) {
	tr := attachCLI(t, Options{})

	// A fatal error (E_USER_ERROR) longjmps out of the executor: the frames
	// never reach function__return. (An Error exception would unwind them.)
	code := `function outer(){ usleep(2000); inner(); } function inner(){ usleep(2000); trigger_error("fatal", E_USER_ERROR); } outer();`
	cmd := exec.Command(phpCLI, "-r", code)
	cmd.Env = append(os.Environ(), "USE_ZEND_DTRACE=1")
	_ = cmd.Run() // exits 255: the fatal error is the point
	evs := readUntilEnd(t, tr)
	unfinished := map[string]bool{}
	for _, ev := range evs {
		if f, ok := ev.(*events.Function); ok && f.Flags&events.FrameUnfinished != 0 {
			unfinished[f.Function] = true
		}
	}
	end := evs[len(evs)-1].(*events.RequestEnd)
	t.Logf("unfinished frames %v, end %+v", unfinished, end)
	if !unfinished["outer"] || !unfinished["inner"] || end.OpenFrames != 2 {
		t.Fatalf("want outer and inner flushed as unfinished, got %v (open frames %d)", unfinished, end.OpenFrames)
	}
}

// A binary attached and detached again (php-fpm restarted, idle in between)
// reuses its slot: the BPF map has room for 64 (slotTable's unit test covers
// the limit; detaching uprobes takes the kernel ~0.25 s, so a few rounds here).
func TestBinarySlotsAreReused(t *testing.T) {
	info, err := phpbin.Inspect(phpCLI)
	if err != nil {
		t.Skipf("needs Debian's %s: %v", phpCLI, err)
	}
	tr, err := Load(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	for i := 0; i < 3; i++ {
		a, err := tr.Attach(info, phpCLI, ModeAuto)
		if err != nil {
			t.Fatalf("attach %d: %v", i, err)
		}
		if a.Binary != 0 {
			t.Fatalf("attach %d got slot %d, want the freed slot 0", i, a.Binary)
		}
		if err := a.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
