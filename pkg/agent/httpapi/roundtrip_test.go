package httpapi

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tusk-php/tusk/pkg/agentapi"
	"github.com/tusk-php/tusk/pkg/trace"
)

// TestClientServerRoundTrip runs agentapi.Client against the real handler
// over TCP: both ends agree on paths, parameters, JSON and errors.
func TestClientServerRoundTrip(t *testing.T) {
	b := newFakeBackend()
	rich := richTrace()
	b.traces[rich.TraceID] = rich
	srv := httptest.NewServer(New(Options{Backend: b, Token: testToken}))
	defer srv.Close()
	c := agentapi.NewClient(srv.URL, testToken)
	ctx := context.Background()

	if err := agentapi.NewClient(srv.URL, "").Health(ctx); err != nil {
		t.Errorf("Health without token: %v", err)
	}

	q := trace.Query{Start: time.Date(2026, 11, 25, 8, 0, 0, 1, time.UTC), Pool: "www", Method: "get", Limit: 10, Order: trace.OrderNewest}
	sums, err := c.Search(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if len(sums) != 1 || sums[0].Path != "/" {
		t.Errorf("Search = %+v, want GET / only", sums)
	}
	if got := b.lastQuery; !got.Start.Equal(q.Start) || got.Method != "GET" || got.Pool != "www" || got.Limit != 10 || got.Order != trace.OrderNewest {
		t.Errorf("backend saw %+v", got)
	}

	_, err = c.Search(ctx, trace.Query{Limit: -1})
	if !errors.Is(err, agentapi.ErrBadRequest) || !strings.Contains(err.Error(), "limit") {
		t.Errorf("Search(limit -1): %v, want a 400 naming limit", err)
	}

	got, err := c.Trace(ctx, rich.TraceID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, rich) {
		t.Errorf("Trace changed on the way:\n got %+v\nwant %+v", got, rich)
	}
	if _, err := c.Trace(ctx, trace.TraceID{0xee}); !agentapi.IsNotFound(err) {
		t.Errorf("unknown trace: %v, want not found", err)
	}

	st, err := c.Status(ctx)
	if err != nil || st.Host != "node-1" || !st.StartedAt.Equal(time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)) {
		t.Errorf("Status = %+v, %v", st, err)
	}

	dm, err := c.EnableDeepMode(ctx, agentapi.DeepModeRequest{PIDs: []int{101, 102}, Threshold: agentapi.Duration(500 * time.Microsecond)})
	if err != nil {
		t.Fatal(err)
	}
	if dm.ID != "dm-1" || time.Duration(dm.Threshold) != 500*time.Microsecond || !reflect.DeepEqual(dm.PIDs, []int{101, 102}) {
		t.Errorf("EnableDeepMode = %+v", dm)
	}
	_, err = c.EnableDeepMode(ctx, agentapi.DeepModeRequest{})
	var apiErr *agentapi.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || apiErr.Message != "bad request: set exactly one of pool or pids" {
		t.Errorf("EnableDeepMode(empty): %#v", err)
	}
	modes, err := c.DeepModes(ctx)
	if err != nil || len(modes) != 1 || modes[0].ID != "dm-1" {
		t.Errorf("DeepModes = %+v, %v", modes, err)
	}
	if err := c.DisableDeepMode(ctx, "dm-1"); err != nil {
		t.Errorf("DisableDeepMode: %v", err)
	}
	if err := c.DisableDeepMode(ctx, "dm-1"); !agentapi.IsNotFound(err) {
		t.Errorf("DisableDeepMode twice: %v, want not found", err)
	}

	_, err = agentapi.NewClient(srv.URL, "nope").Status(ctx)
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusUnauthorized || apiErr.Message != unauthorized {
		t.Errorf("wrong token: %#v", err)
	}
}

// richTrace uses every kind of field a trace can carry over the wire.
func richTrace() *trace.Trace {
	start := time.Date(2026, 11, 25, 9, 30, 0, 0, time.UTC).UnixNano()
	root := trace.SpanID{0xa1}
	return &trace.Trace{
		Summary: trace.Summary{
			TraceID: trace.TraceID{0xab, 0xcd}, Service: "shop", Pool: "www", Host: "node-1",
			Method: "POST", Path: "/checkout/", StatusCode: 500, StartUnixNano: start, DurationNano: 842_300_000,
			Error: true, Incomplete: true, SpanCount: 2,
		},
		Spans: []trace.Span{
			{
				SpanID: root, Name: "POST /checkout/", Kind: trace.KindServer, StartUnixNano: start, DurationNano: 842_300_000,
				Attributes: trace.Attributes{trace.AttrProcessPID: int64(4321), trace.AttrTuskLostEvents: int64(3), "php.load": 0.75, "php.zts": false},
				Status:     trace.Status{Code: trace.StatusError, Message: "HTTP 500"},
			},
			{
				SpanID: trace.SpanID{0xb2}, ParentSpanID: root, Name: "WC_Checkout::process_checkout", Kind: trace.KindInternal,
				StartUnixNano: start + 1000, DurationNano: 800_000_000,
				Events: []trace.Event{{Name: trace.EventException, TimeUnixNano: start + 5000, Attributes: trace.Attributes{
					trace.AttrExceptionType: "RuntimeException", trace.AttrExceptionMessage: "Payment gateway timeout"}}},
				Status: trace.Status{Code: trace.StatusError, Message: "Payment gateway timeout"},
			},
		},
	}
}
