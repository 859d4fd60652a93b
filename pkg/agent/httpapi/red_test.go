package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tusk-php/tusk/pkg/agentapi"
	"github.com/tusk-php/tusk/pkg/red"
)

var redFrom = time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)

// redAnswer is the fake backend's answer: the fake's traces by endpoint,
// limit 1, so POST /checkout/ is among the others.
func redAnswer() *agentapi.REDResponse {
	durations := func(ds ...time.Duration) (h red.Histogram) {
		for _, d := range ds {
			h.Add(d)
		}
		return h
	}
	minute := func(i int) int64 { return redFrom.Add(time.Duration(i) * time.Minute).UnixMilli() }
	return &agentapi.REDResponse{
		From: redFrom, To: redFrom.Add(3 * time.Minute), Step: agentapi.Duration(time.Minute),
		Series: []agentapi.REDSeries{
			{Service: "shop", Pool: "www", Endpoint: "GET /", Points: []agentapi.REDPoint{
				{StartUnixMs: minute(0), Requests: 3, Durations: durations(12*time.Millisecond, 12*time.Millisecond, 15*time.Millisecond)},
				{StartUnixMs: minute(2), Requests: 1, Durations: durations(9 * time.Millisecond)},
			}},
			{Other: true, Points: []agentapi.REDPoint{
				{StartUnixMs: minute(1), Requests: 1, Errors: 1, Durations: durations(842 * time.Millisecond)},
			}},
		},
	}
}

func newREDServer(t *testing.T) *testServer {
	t.Helper()
	ts := newTestServer(t, nil)
	ts.backend.redAnswer = redAnswer()
	return ts
}

func (b *fakeBackend) lastREDQuery() agentapi.REDQuery {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.lastRED
}

func TestREDMetrics(t *testing.T) {
	ts := newREDServer(t)
	rec := ts.do("GET", "/api/v1/metrics/red?from=2026-11-25T09:00:00Z&to=1795597380000&step=1m&service=shop&pool=www&method=get&pathPrefix=%2F&groupBy=endpoint&limit=1", "")
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	// The wire form the plugin reads, pinned: histograms as sparse
	// {"bucket": count}, steps as Go durations, other only when set.
	want := `{"from":"2026-11-25T09:00:00Z","to":"2026-11-25T09:03:00Z","step":"1m0s","series":[` +
		`{"service":"shop","pool":"www","endpoint":"GET /","points":[` +
		`{"startUnixMs":1795597200000,"requests":3,"errors":0,"durations":{"109":2,"111":1}},` +
		`{"startUnixMs":1795597320000,"requests":1,"errors":0,"durations":{"106":1}}]},` +
		`{"other":true,"points":[{"startUnixMs":1795597260000,"requests":1,"errors":1,"durations":{"158":1}}]}]}`
	if got := strings.TrimSpace(rec.Body.String()); got != want {
		t.Errorf("body\n got %s\nwant %s", got, want)
	}
	q := ts.backend.lastREDQuery()
	wantQ := agentapi.REDQuery{From: redFrom, To: time.UnixMilli(1795597380000), Step: time.Minute, Service: "shop", Pool: "www",
		Method: "GET", PathPrefix: "/", GroupBy: agentapi.GroupByEndpoint, Limit: 1}
	if !q.From.Equal(wantQ.From) || !q.To.Equal(wantQ.To) {
		t.Errorf("backend got [%s, %s), want [%s, %s)", q.From, q.To, wantQ.From, wantQ.To)
	}
	q.From, q.To, wantQ.From, wantQ.To = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if q != wantQ {
		t.Errorf("backend got %+v, want %+v", q, wantQ)
	}
}

func TestREDMetricsDefaults(t *testing.T) {
	ts := newREDServer(t)
	before := time.Now()
	if rec := ts.do("GET", "/api/v1/metrics/red", ""); rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	q := ts.backend.lastREDQuery()
	if q.To.Before(before) || q.To.After(time.Now()) || !q.From.Equal(q.To.Add(-agentapi.DefaultProfileRange)) ||
		q.Step != agentapi.DefaultREDStep || q.GroupBy != agentapi.GroupByEndpoint || q.Limit != agentapi.DefaultREDLimit {
		t.Errorf("defaults not applied: %+v", q)
	}
}

func TestREDMetricsWithoutSeries(t *testing.T) {
	ts := newREDServer(t)
	ts.backend.redAnswer = &agentapi.REDResponse{From: redFrom, To: redFrom, Step: agentapi.Duration(time.Minute)}
	rec := ts.do("GET", "/api/v1/metrics/red?pool=none", "")
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"series":[]`) {
		t.Errorf("status %d: %s, want series []", rec.Code, rec.Body)
	}
}

func TestREDMetricsBadParams(t *testing.T) {
	ts := newREDServer(t)
	monthAgo := time.Now().Add(-30 * 24 * time.Hour).UnixMilli()
	for target, want := range map[string]string{
		"?trace=1":                             `unknown parameter "trace"; known: from, to, step,`,
		"?step=1m&step=1h":                     "step: given 2 times",
		"?step=60":                             `step: want a non-negative Go duration`,
		"?step=100ms":                          "step: want at least 1s, got 100ms",
		"?groupBy=host":                        `groupBy: want endpoint, pool, service or none, got "host"`,
		"?limit=501":                           "limit: want a whole number from 1 to 500",
		"?from=1764063000000&to=1764061200000": "to: 2025-11-25T09:00:00Z is before from 2025-11-25T09:30:00Z",
		"?from=yesterday":                      "from: want an RFC 3339 time",
		"?pool=%zz":                            "query string:",
		// "to" is now, so only the server can tell this is too many.
		fmt.Sprintf("?from=%d", monthAgo): "step: 1m0s from",
	} {
		rec := ts.do("GET", "/api/v1/metrics/red"+target, "")
		if rec.Code != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", target, rec.Code)
			continue
		}
		if msg := errorBody(t, rec); !strings.Contains(msg, want) {
			t.Errorf("%s: message %q, want %q", target, msg, want)
		}
	}
	if q := ts.backend.lastREDQuery(); q != (agentapi.REDQuery{}) {
		t.Errorf("a refused query reached the backend: %+v", q)
	}
}

func TestREDMetricsBackendErrors(t *testing.T) {
	ts := newREDServer(t)
	for _, tc := range []struct {
		answer *agentapi.REDResponse
		err    error
		status int
		want   string
	}{
		{nil, fmt.Errorf("%w: range too wide", agentapi.ErrBadRequest), http.StatusBadRequest, "bad request: range too wide"},
		{nil, errors.New("disk on fire"), http.StatusInternalServerError, "disk on fire"},
		{nil, nil, http.StatusInternalServerError, "the backend returned no answer"},
	} {
		ts.backend.redAnswer, ts.backend.redErr = tc.answer, tc.err
		rec := ts.do("GET", "/api/v1/metrics/red", "")
		if rec.Code != tc.status || !strings.Contains(errorBody(t, rec), tc.want) {
			t.Errorf("backend %v: %d %s, want %d %q", tc.err, rec.Code, rec.Body, tc.status, tc.want)
		}
	}
}

func TestClientServerREDRoundTrip(t *testing.T) {
	b := newFakeBackend()
	b.redAnswer = redAnswer()
	srv := httptest.NewServer(New(Options{Backend: b, Token: testToken}))
	defer srv.Close()
	c := agentapi.NewClient(srv.URL, testToken)
	ctx := context.Background()

	q := agentapi.REDQuery{From: redFrom.Add(time.Nanosecond), To: redFrom.Add(time.Hour), Step: 90 * time.Second,
		Service: "shop", Pool: "www", Method: "post", PathPrefix: "/wp-admin/admin-ajax.php?x=1&y=ü",
		GroupBy: agentapi.GroupByPool, Limit: 7}
	got, err := c.RED(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if want := redAnswer(); !reflect.DeepEqual(got, want) {
		t.Errorf("answer changed on the way:\n got %+v\nwant %+v", got, want)
	}
	if p99, ok := got.Series[1].Points[0].Durations.Quantile(0.99); !ok || p99 < 800*time.Millisecond || p99 > 880*time.Millisecond {
		t.Errorf("p99 of the others = %v, %v; want about 842ms", p99, ok)
	}
	sent := b.lastREDQuery()
	if !sent.From.Equal(q.From) || !sent.To.Equal(q.To) {
		t.Errorf("backend got [%s, %s), want [%s, %s)", sent.From, sent.To, q.From, q.To)
	}
	q.Method = "POST"
	sent.From, sent.To, q.From, q.To = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if sent != q {
		t.Errorf("backend got %+v, want %+v", sent, q)
	}

	if _, err := c.RED(ctx, agentapi.REDQuery{Step: time.Millisecond}); !errors.Is(err, agentapi.ErrBadRequest) || !strings.Contains(err.Error(), "step") {
		t.Errorf("step 1ms: %v, want a 400 naming step", err)
	}
	var apiErr *agentapi.APIError
	if _, err := agentapi.NewClient(srv.URL, "nope").RED(ctx, q); !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusUnauthorized {
		t.Errorf("wrong token: %v", err)
	}
}
