package store

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/tusk-php/tusk/pkg/trace"
)

func TestGetReturnsTheWholeTrace(t *testing.T) {
	s := openTestStore(t, Options{})
	traces := newTraceMaker(1).makeN(100, time.Now())
	addAll(t, s, traces)
	for _, want := range traces {
		got, err := s.Get(context.Background(), want.TraceID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("Get(%s):\n got %+v\nwant %+v", want.TraceID, got, want)
		}
	}
}

func TestGetUnknownTrace(t *testing.T) {
	s := openTestStore(t, Options{})
	_, err := s.Get(context.Background(), trace.NewTraceID())
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("got %v, want ErrNotFound", err)
	}
}

func TestSpanCountDefaultsToSpans(t *testing.T) {
	s := openTestStore(t, Options{})
	tr := newTraceMaker(2).make(time.Now())
	tr.SpanCount = 0
	addAll(t, s, []*trace.Trace{tr})
	got, err := s.Get(context.Background(), tr.TraceID)
	if err != nil {
		t.Fatal(err)
	}
	if got.SpanCount != len(tr.Spans) {
		t.Errorf("SpanCount = %d, want %d", got.SpanCount, len(tr.Spans))
	}
}
