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
	"github.com/tusk-php/tusk/pkg/profile"
	"github.com/tusk-php/tusk/pkg/trace"
)

// hotAnswer is what the fake profiles answer to a function search.
func hotAnswer() *agentapi.FunctionTracesResponse {
	return &agentapi.FunctionTracesResponse{Scanned: 12, Truncated: true, Traces: []agentapi.FunctionTrace{{
		Summary:         trace.Summary{TraceID: profTID, Service: "php-fpm", Pool: "www", Method: "GET", Path: "/", StartUnixNano: 5, DurationNano: 9, SpanCount: 1},
		FunctionSamples: 4, FunctionCPUNs: 4 * 10_101_010, Samples: 8,
	}}}
}

func TestProfileTraces(t *testing.T) {
	ts, fp := newProfileServer(t)
	fp.hot = hotAnswer()
	before := time.Now()
	rec := ts.do("GET", "/api/v1/profiles/traces?function=A%3A%3Arun&file=%2Fwww%2FA.php&method=get&minDuration=5ms&limit=3", "")
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if got := decodeJSON[agentapi.FunctionTracesResponse](t, rec); !reflect.DeepEqual(&got, fp.hot) {
		t.Errorf("answer\n got %+v\nwant %+v", got, fp.hot)
	}
	if !strings.Contains(rec.Body.String(), `"traceId":"`+profTID.String()+`","service":"php-fpm"`) ||
		!strings.Contains(rec.Body.String(), `"functionSamples":4,"functionCpuNs":40404040,"samples":8`) {
		t.Errorf("the summary's fields and the function's sit side by side: %s", rec.Body)
	}
	q := fp.lastFunctionQuery()
	if q.Function != "A::run" || q.File != "/www/A.php" || q.Traces.Method != "GET" || q.Traces.MinDuration != 5*time.Millisecond || q.Traces.Limit != 3 {
		t.Errorf("backend got %+v", q)
	}
	if end := q.Traces.End; end.Before(before) || end.After(time.Now()) || !q.Traces.Start.Equal(end.Add(-agentapi.DefaultProfileRange)) {
		t.Errorf("range defaults not applied: %+v", q.Traces)
	}

	fp.hot = &agentapi.FunctionTracesResponse{}
	if rec := ts.do("GET", "/api/v1/profiles/traces?function=nowhere", ""); !strings.Contains(rec.Body.String(), `"traces":[]`) {
		t.Errorf("no hit: %s", rec.Body)
	}
}

func TestProfileTracesBadParams(t *testing.T) {
	ts, fp := newProfileServer(t)
	fp.hot = hotAnswer()
	future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	for target, want := range map[string]string{
		"/api/v1/profiles/traces":                           "function: name the function",
		"/api/v1/profiles/traces?function=f&order=new":      `unknown parameter "order"`,
		"/api/v1/profiles/traces?function=f&limit=0":        "limit: want a whole number",
		"/api/v1/profiles/traces?function=f&from=x":         "from:",
		"/api/v1/profiles/traces?function=f&from=" + future: "to:", // to defaults to now, before from
		"/api/v1/profiles/traces?function=%zz":              "query string:",
	} {
		rec := ts.do("GET", target, "")
		if rec.Code != http.StatusBadRequest || !strings.Contains(errorBody(t, rec), want) {
			t.Errorf("%s: %d %s, want 400 with %q", target, rec.Code, rec.Body, want)
		}
	}
	fp.failWith = errors.New("disk on fire")
	if rec := ts.do("GET", "/api/v1/profiles/traces?function=f", ""); rec.Code != http.StatusInternalServerError {
		t.Errorf("failing backend: %d %s", rec.Code, rec.Body)
	}
}

func TestClientServerFunctionTracesRoundTrip(t *testing.T) {
	fp := &fakeProfiles{ranged: handProfile(), traces: map[trace.TraceID]*profile.Profile{}, hot: hotAnswer()}
	srv := httptest.NewServer(New(Options{Backend: profilingBackend{newFakeBackend(), fp}, Token: testToken}))
	defer srv.Close()
	c := agentapi.NewClient(srv.URL, testToken)
	q := agentapi.FunctionTracesQuery{Function: `App\Cart::total`, File: "/www/src/Cart.php", Endpoint: "GET /cart?x=ü",
		Traces: trace.Query{Start: time.Date(2026, 11, 25, 9, 0, 0, 1, time.UTC), End: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC),
			Service: "shop", Pool: "www", Method: "GET", PathPrefix: "/cart", StatusCode: 200, ErrorsOnly: true,
			MinDuration: time.Millisecond, MaxDuration: time.Second, Limit: 7}}
	resp, err := c.FunctionTraces(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(resp, hotAnswer()) {
		t.Errorf("answer %+v", resp)
	}
	got := fp.lastFunctionQuery()
	if !got.Traces.Start.Equal(q.Traces.Start) || !got.Traces.End.Equal(q.Traces.End) {
		t.Errorf("range %v..%v, want %v..%v", got.Traces.Start, got.Traces.End, q.Traces.Start, q.Traces.End)
	}
	got.Traces.Start, got.Traces.End, q.Traces.Start, q.Traces.End = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if got != q {
		t.Errorf("backend got %+v, want %+v", got, q)
	}
	if _, err := c.FunctionTraces(context.Background(), agentapi.FunctionTracesQuery{}); !errors.Is(err, agentapi.ErrBadRequest) ||
		!strings.Contains(err.Error(), "function:") {
		t.Errorf("no function: %v", err)
	}
}
