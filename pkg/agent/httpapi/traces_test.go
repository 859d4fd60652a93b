package httpapi

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tusk-php/tusk/pkg/agentapi"
	"github.com/tusk-php/tusk/pkg/trace"
)

func TestSearchPassesTheDecodedQuery(t *testing.T) {
	ts := newTestServer(t, nil)
	rec := ts.do("GET", "/api/v1/traces?pool=www&method=post&minDuration=100ms&order=slowest&limit=10&start=1764061200000", "")
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	got := decodeJSON[agentapi.SearchResponse](t, rec)
	if len(got.Traces) != 1 || got.Traces[0].Path != "/checkout/" {
		t.Errorf("traces = %+v, want only POST /checkout/", got.Traces)
	}
	want := trace.Query{Pool: "www", Method: "POST", MinDuration: 100 * time.Millisecond, Order: trace.OrderSlowest, Limit: 10, Start: time.UnixMilli(1764061200000)}
	if q := ts.backend.lastQuery; !q.Start.Equal(want.Start) || q.Pool != want.Pool || q.Method != want.Method ||
		q.MinDuration != want.MinDuration || q.Order != want.Order || q.Limit != want.Limit {
		t.Errorf("backend got %+v, want %+v", q, want)
	}
}

func TestSearchWithNoMatchIsAnEmptyList(t *testing.T) {
	ts := newTestServer(t, nil)
	rec := ts.do("GET", "/api/v1/traces?service=nothing-here", "")
	if rec.Code != http.StatusOK || strings.TrimSpace(rec.Body.String()) != `{"traces":[]}` {
		t.Errorf("%d %s, want 200 {\"traces\":[]}", rec.Code, rec.Body)
	}
}

func TestSearchBadParams(t *testing.T) {
	ts := newTestServer(t, nil)
	for query, want := range map[string]string{
		"limit=0":       "limit: want a whole number from 1 to 5000",
		"minDuration=5": `minDuration: want a non-negative Go duration like 250ms or 1.5s, got "5"`,
		"foo=bar":       `unknown parameter "foo"`,
		"status=abc":    "status:",
		"start=2026-11-25T10:00:00Z&end=2026-11-25T09:00:00Z": "is before start",
		"pool=%zz": "query string: invalid URL escape",
		"pool=a;b": "query string:",
	} {
		rec := ts.do("GET", "/api/v1/traces?"+query, "")
		if rec.Code != http.StatusBadRequest {
			t.Errorf("?%s: status %d, want 400", query, rec.Code)
			continue
		}
		if msg := errorBody(t, rec); !strings.Contains(msg, want) {
			t.Errorf("?%s: message %q, want it to contain %q", query, msg, want)
		}
	}
}

func TestGetTrace(t *testing.T) {
	ts := newTestServer(t, nil)
	rec := ts.do("GET", "/api/v1/traces/02000000000000000000000000000000", "")
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	got := decodeJSON[trace.Trace](t, rec)
	if got.Path != "/checkout/" || len(got.Spans) != 1 || got.Spans[0].Attributes[trace.AttrProcessPID] != int64(4321) {
		t.Errorf("trace = %+v", got)
	}
}

func TestGetTraceIDInUpperCase(t *testing.T) {
	ts := newTestServer(t, nil)
	if rec := ts.do("GET", "/api/v1/traces/0A000000000000000000000000000000", ""); rec.Code != http.StatusNotFound {
		t.Errorf("upper-case hex id: status %d, want 404 (parsed, then unknown)", rec.Code)
	}
}

func TestGetTraceBadID(t *testing.T) {
	ts := newTestServer(t, nil)
	for _, id := range []string{"123", "zz000000000000000000000000000000", "0100000000000000000000000000000000"} {
		rec := ts.do("GET", "/api/v1/traces/"+id, "")
		if rec.Code != http.StatusBadRequest {
			t.Errorf("id %q: status %d, want 400", id, rec.Code)
			continue
		}
		if msg := errorBody(t, rec); !strings.Contains(msg, "trace id") {
			t.Errorf("id %q: message %q does not say what is wrong", id, msg)
		}
	}
}

func TestGetTraceUnknown(t *testing.T) {
	ts := newTestServer(t, nil)
	rec := ts.do("GET", "/api/v1/traces/ffffffffffffffffffffffffffffffff", "")
	if rec.Code != http.StatusNotFound {
		t.Fatalf("status %d, want 404", rec.Code)
	}
	if msg := errorBody(t, rec); msg != "trace ffffffffffffffffffffffffffffffff: not found" {
		t.Errorf("message %q", msg)
	}
}
