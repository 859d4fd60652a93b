package httpapi

import (
	"net/http"
	"testing"
)

func TestUnknownRouteIsJSON404(t *testing.T) {
	ts := newTestServer(t, nil)
	for _, path := range []string{"/api/v1/nope", "/api/v1/traces/", "/"} {
		rec := ts.do("GET", path, "")
		if rec.Code != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", path, rec.Code)
			continue
		}
		if msg := errorBody(t, rec); msg != "no such API path: "+path {
			t.Errorf("GET %s: message %q", path, msg)
		}
	}
}

func TestWrongMethodIsJSON405(t *testing.T) {
	ts := newTestServer(t, nil)
	rec := ts.do("PUT", "/api/v1/status", "")
	if rec.Code != http.StatusMethodNotAllowed {
		t.Fatalf("status %d, want 405", rec.Code)
	}
	if allow := rec.Header().Get("Allow"); allow != "GET, HEAD" {
		t.Errorf("Allow = %q", allow)
	}
	if msg := errorBody(t, rec); msg != "method PUT is not allowed on /api/v1/status; allowed: GET, HEAD" {
		t.Errorf("message %q", msg)
	}
	// /healthz stays public even for the wrong method.
	if rec := ts.doAuth("POST", "/healthz", "", ""); rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST /healthz without token: %d, want 405", rec.Code)
	}
}

func TestUncleanPathsStillRedirect(t *testing.T) {
	ts := newTestServer(t, nil)
	rec := ts.do("GET", "/api/v1//status", "")
	if rec.Code/100 != 3 || rec.Header().Get("Location") != "/api/v1/status" {
		t.Errorf("GET /api/v1//status: %d Location %q, want a redirect to /api/v1/status", rec.Code, rec.Header().Get("Location"))
	}
}
