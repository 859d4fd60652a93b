package assemble

import (
	"slices"
	"testing"
	"time"

	"github.com/tusk-php/tusk/pkg/events"
	"github.com/tusk-php/tusk/pkg/profile"
	"github.com/tusk-php/tusk/pkg/trace"
)

// Where the process runs (its pod) goes on the request span.
func TestProcessAttributesOnTheRequestSpan(t *testing.T) {
	h := newHarness(t)
	h.a.opts.Describe = func(binary, pid uint32) Process {
		return Process{Pool: "www", Attributes: map[string]string{
			trace.AttrK8sPodName: "wordpress-6d9f7c8b5-x2k9p", trace.AttrK8sNamespace: "shop", trace.AttrContainerID: "",
		}}
	}
	h.add(start(), end(reqStart+30*ms, 200))
	h.settle()
	root := h.only().Root()
	if root.Attributes[trace.AttrK8sPodName] != "wordpress-6d9f7c8b5-x2k9p" || root.Attributes[trace.AttrK8sNamespace] != "shop" {
		t.Fatalf("attributes %v", root.Attributes)
	}
	if _, ok := root.Attributes[trace.AttrContainerID]; ok {
		t.Error("an empty attribute was set")
	}
}

// A request of a process that must not be traced is dropped whole,
// samples and I/O included, and counted.
func TestDroppedProcessLeavesNoTrace(t *testing.T) {
	h := newHarness(t)
	var profiled int
	h.a.opts.Profile = func(*trace.Trace, []profile.Sample) { profiled++ }
	h.a.opts.Describe = func(binary, pid uint32) Process { return Process{Pool: "www", Drop: true} }
	h.add(start(), &events.Sample{Header: hdr(reqStart + ms)}, end(reqStart+30*ms, 200))
	h.settle()
	h.now = h.now.Add(time.Hour)
	h.a.FlushAll()
	if len(h.traces) != 0 || profiled != 0 {
		t.Fatalf("%d traces, %d profiles from a dropped process", len(h.traces), profiled)
	}
	if st := h.a.Stats(); st.Dropped != 1 || st.Traces != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// The assembler says which processes it holds anything for, and forgets a
// process on ProcessGone.
func TestPIDsUntilProcessGone(t *testing.T) {
	h := newHarness(t)
	h.add(&events.Symbol{Header: hdr(reqStart), Func: 1, Name: 2, Function: "f"}) // state of pid
	other := start()
	other.PID, other.TID = pid+1, tid+1
	h.add(other) // an open request of pid+1
	pids := h.a.PIDs()
	slices.Sort(pids)
	if !slices.Equal(pids, []uint32{pid, pid + 1}) || h.a.Processes() != 1 {
		t.Fatalf("PIDs %v, Processes %d; want [%d %d] and 1", pids, h.a.Processes(), pid, pid+1)
	}
	h.a.ProcessGone(pid)
	h.a.ProcessGone(pid + 1)
	if pids := h.a.PIDs(); len(pids) != 0 || h.a.Processes() != 0 || len(h.traces) != 1 {
		t.Fatalf("after ProcessGone: PIDs %v, Processes %d, %d traces", pids, h.a.Processes(), len(h.traces))
	}
}
