package httpapi

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// concrete fills a route's wildcards with a value that would be valid.
func concrete(path string) string {
	return strings.ReplaceAll(path, "{id}", "01000000000000000000000000000000")
}

func TestProtectedRoutesRefuseBadTokens(t *testing.T) {
	ts := newTestServer(t, http.NotFoundHandler())
	for _, rt := range (&server{}).routes() {
		if rt.public {
			continue
		}
		path := concrete(rt.path)
		for _, auth := range []string{
			"",                                       // missing
			"Bearer wrong",                           // wrong, shorter
			"Bearer " + testToken + "x",              // wrong, longer
			"Bearer " + testToken[:len(testToken)-1], // a prefix
			"Basic " + testToken,                     // right secret, wrong scheme
			testToken,                                // no scheme
			"Bearer",                                 // scheme only
		} {
			rec := ts.doAuth(rt.method, path, `{"pool":"www"}`, auth)
			if rec.Code != http.StatusUnauthorized {
				t.Errorf("%s %s with Authorization %q: status %d, want 401", rt.method, path, auth, rec.Code)
				continue
			}
			if got := rec.Header().Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
				t.Errorf("%s %s: WWW-Authenticate = %q, want Bearer", rt.method, path, got)
			}
			if msg := errorBody(t, rec); msg != unauthorized {
				t.Errorf("%s %s with %q: message %q, want the same %q for every refusal", rt.method, path, auth, msg, unauthorized)
			}
		}
	}
	if len(ts.backend.deep) != 0 {
		t.Errorf("an unauthorized POST reached the backend: %v", ts.backend.deep)
	}
}

func TestBearerSchemeIsCaseInsensitive(t *testing.T) {
	ts := newTestServer(t, nil)
	if rec := ts.doAuth("GET", "/api/v1/status", "", "bearer "+testToken); rec.Code != http.StatusOK {
		t.Errorf("lower-case scheme: status %d, want 200", rec.Code)
	}
}

func TestHealthzIsOpen(t *testing.T) {
	ts := newTestServer(t, nil)
	for _, auth := range []string{"", "Bearer wrong"} {
		rec := ts.doAuth("GET", "/healthz", "", auth)
		if rec.Code != http.StatusOK || strings.TrimSpace(rec.Body.String()) != `{"status":"ok"}` {
			t.Errorf("GET /healthz with %q: %d %q", auth, rec.Code, rec.Body)
		}
	}
}

func TestEmptyTokenRefusesEverythingButHealthz(t *testing.T) {
	h := New(Options{Backend: newFakeBackend()})
	for _, auth := range []string{"", "Bearer ", "Bearer x"} {
		req, _ := http.NewRequest("GET", "/api/v1/status", nil)
		req.Header.Set("Authorization", auth)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusUnauthorized {
			t.Errorf("no token configured, Authorization %q: status %d, want 401", auth, rec.Code)
		}
	}
	req, _ := http.NewRequest("GET", "/healthz", nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Errorf("/healthz without a configured token: %d", rec.Code)
	}
}

func TestUnknownPathsNeedTheTokenToo(t *testing.T) {
	ts := newTestServer(t, nil)
	if rec := ts.doAuth("GET", "/api/v1/secret-thing", "", ""); rec.Code != http.StatusUnauthorized {
		t.Errorf("unknown path without token: %d, want 401", rec.Code)
	}
}
