package httpapi

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/tusk-php/tusk/pkg/agentapi"
)

func TestStatus(t *testing.T) {
	ts := newTestServer(t, nil)
	rec := ts.do("GET", "/api/v1/status", "")
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if st := decodeJSON[agentapi.Status](t, rec); st.Version != "v0.1.0-test" || st.Host != "node-1" {
		t.Errorf("status = %+v", st)
	}
}

func TestBackendFailureIs500WithItsMessage(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.backend.failWith = errors.New("store: database is locked")
	rec := ts.do("GET", "/api/v1/status", "")
	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500", rec.Code)
	}
	if msg := errorBody(t, rec); msg != "store: database is locked" {
		t.Errorf("message %q", msg)
	}
	if !strings.Contains(ts.logs.String(), "level=ERROR") || !strings.Contains(ts.logs.String(), "database is locked") {
		t.Errorf("failure not logged as an error:\n%s", ts.logs)
	}
}

func TestMetrics(t *testing.T) {
	metrics := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		_, _ = io.WriteString(w, "tusk_events_total 42\n")
	})
	ts := newTestServer(t, metrics)
	rec := ts.do("GET", "/metrics", "")
	if rec.Code != http.StatusOK || rec.Body.String() != "tusk_events_total 42\n" {
		t.Errorf("metrics: %d %q", rec.Code, rec.Body)
	}
}

func TestMetricsDisabledIs404(t *testing.T) {
	ts := newTestServer(t, nil)
	rec := ts.do("GET", "/metrics", "")
	if rec.Code != http.StatusNotFound {
		t.Fatalf("status %d, want 404", rec.Code)
	}
	if msg := errorBody(t, rec); !strings.Contains(msg, "metrics are not enabled") {
		t.Errorf("message %q", msg)
	}
}
