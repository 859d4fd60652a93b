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

// A frame's line comes from an opline in the PHP process's memory: a forged
// one (2^32-1) is shown as no line, so the request's profile still encodes
// into something the profile codec decodes.
func TestForgedLineKeepsTheProfileDecodable(t *testing.T) {
	h := newHarness(t)
	var samples []profile.Sample
	h.a.opts.Profile = func(_ *trace.Trace, s []profile.Sample) { samples = append(samples, s...) }
	frames := []events.FrameRef{{Func: 1, Name: 2, Line: 0xffffffff}, {Func: 3, Name: 4, Line: 1 << 31}, {Func: 3, Name: 4, Line: 1<<31 - 1}}
	h.add(start(), &events.Symbol{Header: hdr(reqStart), Func: 1, Name: 2, Function: "f"},
		&events.Symbol{Header: hdr(reqStart), Func: 3, Name: 4, Function: "g", User: true, File: "/x.php"},
		&events.Sample{Header: hdr(reqStart + ms), Frames: frames}, end(reqStart+30*ms, 200))
	h.settle()
	if len(samples) != 1 || len(samples[0].Stack) != 3 {
		t.Fatalf("samples %+v", samples)
	}
	lines := []int{samples[0].Stack[0].Line, samples[0].Stack[1].Line, samples[0].Stack[2].Line} // root first
	if !slices.Equal(lines, []int{1<<31 - 1, 0, 0}) {
		t.Errorf("lines %v", lines)
	}
	p := profile.NewProfile(0)
	p.Add(samples[0].Stack, profile.Labels{}, 1)
	if _, err := profile.Decode(profile.Encode(p)); err != nil {
		t.Fatal(err)
	}
}
