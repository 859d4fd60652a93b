//go:build integration

package integration

import (
	"context"
	"testing"
	"time"

	"github.com/tusk-php/tusk/pkg/agentapi"
)

// With a one-page ring buffer and every call reported, the BPF programs run
// out of room: they drop events and count them, PHP goes on at full speed,
// and the trace that lost pieces says it is incomplete.
func TestRingBufferOverflowIsCountedAndMarked(t *testing.T) {
	s := dtraceStack(t, 1)
	a := startAgent(t, s, "--ring-bytes", "4096")
	enableDeep(t, a, agentapi.DeepModeRequest{Pool: s.Pool, Threshold: agentapi.Duration(time.Nanosecond), For: agentapi.Duration(time.Minute)})

	if code, _ := get(t, s, "/recursion.php?n=15"); code != 200 { // 1973 calls
		t.Fatalf("PHP failed under a full ring buffer: %d", code)
	}
	// The next request on the same worker closes the previous one even if
	// its end event was among the dropped.
	time.Sleep(200 * time.Millisecond)
	get(t, s, "/status.php?code=200")

	st, err := a.client.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Events.Lost == 0 || len(st.Events.LostPerCPU) == 0 {
		t.Fatalf("no lost events reported: %+v", st.Events)
	}
	var sum uint64
	for _, n := range st.Events.LostPerCPU {
		sum += n
	}
	if sum != st.Events.Lost {
		t.Fatalf("per-CPU lost %v does not add up to %d", st.Events.LostPerCPU, st.Events.Lost)
	}
	rec := a.onlyTrace(t, "/recursion.php")
	if !rec.Incomplete {
		t.Fatalf("the recursion trace lost events but is not marked incomplete: %d spans, attrs %v", len(rec.Spans), rec.Root().Attributes)
	}
	t.Logf("lost %d events (per CPU %v); recursion trace kept %d spans, marked incomplete", st.Events.Lost, st.Events.LostPerCPU, len(rec.Spans))
}
