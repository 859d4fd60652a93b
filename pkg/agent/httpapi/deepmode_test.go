package httpapi

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tusk-php/tusk/pkg/agentapi"
)

func TestDeepModeLifecycle(t *testing.T) {
	ts := newTestServer(t, nil)

	if rec := ts.do("GET", "/api/v1/probes/deep", ""); rec.Code != http.StatusOK || strings.TrimSpace(rec.Body.String()) != `{"deepModes":[]}` {
		t.Errorf("empty list: %d %s", rec.Code, rec.Body)
	}

	rec := ts.do("POST", "/api/v1/probes/deep", `{"pool":"www","threshold":"2ms","for":"5m"}`)
	if rec.Code != http.StatusCreated {
		t.Fatalf("enable: %d %s", rec.Code, rec.Body)
	}
	dm := decodeJSON[agentapi.DeepMode](t, rec)
	if dm.ID != "dm-1" || dm.Pool != "www" || time.Duration(dm.Threshold) != 2*time.Millisecond {
		t.Errorf("granted %+v", dm)
	}

	list := decodeJSON[agentapi.DeepModesResponse](t, ts.do("GET", "/api/v1/probes/deep", ""))
	if len(list.DeepModes) != 1 || list.DeepModes[0].ID != "dm-1" {
		t.Errorf("list = %+v", list)
	}

	if rec := ts.do("DELETE", "/api/v1/probes/deep/dm-1", ""); rec.Code != http.StatusNoContent || rec.Body.Len() != 0 {
		t.Errorf("disable: %d %q, want 204 and no body", rec.Code, rec.Body)
	}
	rec = ts.do("DELETE", "/api/v1/probes/deep/dm-1", "")
	if rec.Code != http.StatusNotFound {
		t.Errorf("disable again: %d, want 404", rec.Code)
	}
	if msg := errorBody(t, rec); msg != `deep mode "dm-1": not found` {
		t.Errorf("message %q", msg)
	}
}

func TestEnableDeepModeBadRequests(t *testing.T) {
	ts := newTestServer(t, nil)
	for _, tc := range []struct {
		name, body string
		status     int
		want       string
	}{
		{"backend validation", `{"pool":"www","pids":[1]}`, 400, "bad request: set exactly one of pool or pids"},
		{"unknown field", `{"pool":"www","treshold":"2ms"}`, 400, `unknown field "treshold"`},
		{"bad duration", `{"pool":"www","threshold":"fast"}`, 400, `duration "fast"`},
		{"wrong type", `{"pool":42}`, 400, "request body:"},
		{"not JSON", `pool=www`, 400, "request body:"},
		{"empty", ``, 400, "got nothing"},
		{"two values", `{"pool":"www"}{"pool":"www"}`, 400, "more than one JSON value"},
		{"too large", `{"pool":"` + strings.Repeat("w", agentapi.MaxRequestBytes) + `"}`, 413, "larger than 65536 bytes"},
	} {
		rec := ts.do("POST", "/api/v1/probes/deep", tc.body)
		if rec.Code != tc.status {
			t.Errorf("%s: status %d, want %d (%s)", tc.name, rec.Code, tc.status, rec.Body)
			continue
		}
		if msg := errorBody(t, rec); !strings.Contains(msg, tc.want) {
			t.Errorf("%s: message %q, want it to contain %q", tc.name, msg, tc.want)
		}
	}
	if len(ts.backend.deep) != 0 {
		t.Errorf("a refused request was granted: %v", ts.backend.deep)
	}
}
