package store

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/tusk-php/tusk/pkg/trace"
)

// continued returns a second request in caller's trace: it starts later,
// its root's parent is one of caller's spans.
func continued(m *traceMaker, caller *trace.Trace) *trace.Trace {
	callee := m.make(time.Unix(0, caller.StartUnixNano+int64(time.Millisecond)))
	callee.TraceID = caller.TraceID
	callee.Spans[0].ParentSpanID = caller.Spans[3].SpanID
	callee.Service, callee.Error = "payments", true
	return callee
}

func TestSharedTraceIDsAreMerged(t *testing.T) {
	s := openTestStore(t, Options{})
	m := newTraceMaker(1)
	caller := m.make(time.Now())
	caller.Error = false
	callee := continued(m, caller)
	// The callee finishes first, so it arrives first; in a later batch here,
	// in the same batch below.
	addAll(t, s, []*trace.Trace{callee})
	addAll(t, s, []*trace.Trace{caller})

	got, err := s.Get(context.Background(), caller.TraceID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Service != caller.Service || got.Spans[0].SpanID != caller.Spans[0].SpanID {
		t.Errorf("the caller must lead: service %q, first span %s", got.Service, got.Spans[0].Name)
	}
	if len(got.Spans) != len(caller.Spans)+len(callee.Spans) || got.SpanCount != len(got.Spans) {
		t.Errorf("%d spans (SpanCount %d), want %d", len(got.Spans), got.SpanCount, len(caller.Spans)+len(callee.Spans))
	}
	if !got.Error {
		t.Error("the callee's error was lost")
	}
	if st := s.Stats(); st.Traces != 1 || st.Written != 2 {
		t.Errorf("%+v; want one row from two writes", st)
	}

	// Same batch, and a duplicate delivery on top: nothing doubles.
	other := m.make(time.Now())
	otherCallee := continued(m, other)
	addAll(t, s, []*trace.Trace{otherCallee, other, other})
	got, err = s.Get(context.Background(), other.TraceID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Spans) != len(other.Spans)+len(otherCallee.Spans) {
		t.Errorf("same batch: %d spans, want %d", len(got.Spans), len(other.Spans)+len(otherCallee.Spans))
	}
}

func TestMergeTracesIsIdempotent(t *testing.T) {
	a := newTraceMaker(2).make(time.Now())
	if got := trace.Merge(a, a); !reflect.DeepEqual(got, a) {
		t.Errorf("merging a trace with itself changed it")
	}
}
