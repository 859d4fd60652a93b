package httpapi

import (
	"net/http"
	"strings"
	"testing"
)

func TestPanicBecomes500AndTheAgentLives(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.backend.panicIn = "Search"
	rec := ts.do("GET", "/api/v1/traces", "")
	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500", rec.Code)
	}
	if msg := errorBody(t, rec); strings.Contains(msg, "exploded") {
		t.Errorf("panic value leaked to the client: %q", msg)
	}
	logs := ts.logs.String()
	if !strings.Contains(logs, "panic in API handler") || !strings.Contains(logs, "fake backend: Search exploded") || !strings.Contains(logs, "stack=") {
		t.Errorf("panic not logged with its value and stack:\n%s", logs)
	}
	if rec := ts.do("GET", "/api/v1/status", ""); rec.Code != http.StatusOK {
		t.Errorf("next request: %d, want 200", rec.Code)
	}
}

func TestRequestsAreLoggedWithoutTheToken(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.do("GET", "/api/v1/traces/ffffffffffffffffffffffffffffffff?x=1", "")
	ts.doAuth("GET", "/api/v1/status", "", "Bearer wrong-token-guess")
	logs := ts.logs.String()
	for _, want := range []string{
		`level=DEBUG msg="API request" method=GET path=/api/v1/traces/ffffffffffffffffffffffffffffffff status=404 duration=`,
		`method=GET path=/api/v1/status status=401`,
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
	for _, secret := range []string{testToken, "wrong-token-guess", "Bearer"} {
		if strings.Contains(logs, secret) {
			t.Errorf("log contains %q:\n%s", secret, logs)
		}
	}
}
