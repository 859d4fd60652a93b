//go:build integration

package probes

import (
	"errors"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/tusk-php/tusk/pkg/events"
)

// The reader waits in Go's network poller: a wakeup sent by a BPF program
// ends the wait with no deadline set, a deadline ends it on time, and Close
// ends it from another goroutine.
func TestReadEventWaitsForTheRingsWakeup(t *testing.T) {
	tr := attachCLI(t, Options{RingBytes: 1 << 16})

	type result struct {
		ev  events.Event
		err error
	}
	got := make(chan result, 1)
	go func() {
		ev, err := tr.ReadEvent() // no deadline
		got <- result{ev, err}
	}()
	// The first request of a process the agent has not named forces a
	// wakeup (request.bpf.c); nothing else would end the wait.
	if out, err := exec.Command(phpCLI, "-r", "echo 1;").CombinedOutput(); err != nil {
		t.Fatalf("php: %v: %s", err, out)
	}
	select {
	case r := <-got:
		if r.err != nil {
			t.Fatalf("ReadEvent: %v", r.err)
		}
		if r.ev.Kind() != events.KindRequestStart {
			t.Fatalf("first event %#v, want the request start", r.ev)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the wakeup did not end the wait")
	}

	// Drain what the script left, then a deadline ends an empty wait.
	tr.SetReadDeadline(time.Now())
	for {
		if _, err := tr.ReadEvent(); errors.Is(err, os.ErrDeadlineExceeded) {
			break
		} else if err != nil {
			t.Fatalf("draining: %v", err)
		}
	}
	begin := time.Now()
	tr.SetReadDeadline(begin.Add(100 * time.Millisecond))
	if _, err := tr.ReadEvent(); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("ReadEvent on an empty ring = %v, want the deadline", err)
	}
	if waited := time.Since(begin); waited < 100*time.Millisecond || waited > 5*time.Second {
		t.Fatalf("deadline of 100ms ended the wait after %s", waited)
	}

	tr.SetReadDeadline(time.Time{})
	go func() {
		_, err := tr.ReadEvent()
		got <- result{nil, err}
	}()
	time.Sleep(50 * time.Millisecond) // let it wait
	if err := tr.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	select {
	case r := <-got:
		if !errors.Is(r.err, os.ErrClosed) {
			t.Fatalf("ReadEvent after Close = %v, want os.ErrClosed", r.err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not end the wait")
	}
	if _, err := tr.ReadEvent(); !errors.Is(err, os.ErrClosed) {
		t.Fatalf("ReadEvent on a closed tracer = %v, want os.ErrClosed", err)
	}
}
