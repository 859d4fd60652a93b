package agentapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tusk-php/tusk/pkg/trace"
)

// These tests pin the client's side of the wire against a stub; the
// round trip against the real server is in pkg/agent/httpapi.

type seen struct {
	method, path, rawQuery, auth, contentType, body string
}

// stub answers every request with status and body and records the request.
func stub(t *testing.T, status int, body string) (*Client, *seen) {
	t.Helper()
	var s seen
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s = seen{r.Method, r.URL.EscapedPath(), r.URL.RawQuery, r.Header.Get("Authorization"), r.Header.Get("Content-Type"), string(b)}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return NewClient(srv.URL+"/", "s3cret"), &s
}

func TestNewClientDefaults(t *testing.T) {
	c := NewClient("http://agent:9464//", "tok")
	if c.BaseURL != "http://agent:9464" || c.Token != "tok" {
		t.Errorf("NewClient = %+v", c)
	}
	if c.HTTP == nil || c.HTTP.Timeout != 10*time.Second {
		t.Errorf("HTTP client = %+v, want a 10s timeout", c.HTTP)
	}
}

func TestClientSearchSendsQueryAndToken(t *testing.T) {
	c, s := stub(t, 200, `{"traces":[{"traceId":"4bf92f3577b34da6a3ce929d0e0e4736","service":"shop","durationNano":5000000,"startUnixNano":1,"error":true,"incomplete":false,"spanCount":3}]}`)
	got, err := c.Search(context.Background(), trace.Query{Pool: "www", Method: "post", Limit: 5})
	if err != nil {
		t.Fatal(err)
	}
	if s.method != "GET" || s.path != PathTraces || s.rawQuery != "limit=5&method=POST&pool=www" {
		t.Errorf("request = %+v", *s)
	}
	if s.auth != "Bearer s3cret" {
		t.Errorf("Authorization = %q", s.auth)
	}
	if len(got) != 1 || got[0].TraceID.String() != "4bf92f3577b34da6a3ce929d0e0e4736" || !got[0].Error || got[0].SpanCount != 3 {
		t.Errorf("summaries = %+v", got)
	}
}

func TestClientEnableDeepModeSendsJSON(t *testing.T) {
	c, s := stub(t, 201, `{"id":"dm-1","pool":"www","threshold":"2ms","maxDepth":64,"expiresAt":"2026-11-25T10:00:00Z","attachedPids":[7,8]}`)
	dm, err := c.EnableDeepMode(context.Background(), DeepModeRequest{Pool: "www", Threshold: Duration(2 * time.Millisecond)})
	if err != nil {
		t.Fatal(err)
	}
	if s.method != "POST" || s.path != PathDeepModes || s.contentType != "application/json" {
		t.Errorf("request = %+v", *s)
	}
	var sent DeepModeRequest
	if err := json.Unmarshal([]byte(s.body), &sent); err != nil || sent.Pool != "www" || sent.Threshold != Duration(2*time.Millisecond) {
		t.Errorf("body %s decodes to %+v, %v", s.body, sent, err)
	}
	if dm.ID != "dm-1" || len(dm.AttachedPIDs) != 2 || time.Duration(dm.Threshold) != 2*time.Millisecond {
		t.Errorf("deep mode = %+v", dm)
	}
}

func TestClientDisableDeepModeEscapesID(t *testing.T) {
	c, s := stub(t, 204, "")
	if err := c.DisableDeepMode(context.Background(), "a/b c"); err != nil {
		t.Fatal(err)
	}
	if s.method != "DELETE" || s.path != PathDeepModes+"/a%2Fb%20c" {
		t.Errorf("request = %+v", *s)
	}
}

func TestClientAPIErrorCarriesServerMessage(t *testing.T) {
	c, _ := stub(t, 404, `{"error":"trace 4bf92f3577b34da6a3ce929d0e0e4736: not found"}`)
	_, err := c.Trace(context.Background(), trace.TraceID{1})
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 404 || apiErr.Message != "trace 4bf92f3577b34da6a3ce929d0e0e4736: not found" {
		t.Fatalf("err = %#v", err)
	}
	if !IsNotFound(err) || errors.Is(err, ErrBadRequest) {
		t.Errorf("IsNotFound(%v) = false or matches ErrBadRequest", err)
	}
	if want := "agent answered 404 Not Found: trace 4bf92f3577b34da6a3ce929d0e0e4736: not found"; err.Error() != want {
		t.Errorf("err = %q, want %q", err, want)
	}
}

func TestClientBadRequestMatchesSentinel(t *testing.T) {
	c, _ := stub(t, 400, `{"error":"limit: want a whole number from 1 to 5000, got \"0\""}`)
	_, err := c.Search(context.Background(), trace.Query{})
	if !errors.Is(err, ErrBadRequest) || IsNotFound(err) {
		t.Errorf("err = %v, want ErrBadRequest only", err)
	}
}

func TestClientForeignErrorBody(t *testing.T) {
	c, _ := stub(t, 502, "<html><body>"+strings.Repeat("Bad Gateway ", 50)+"</body></html>")
	_, err := c.Status(context.Background())
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 502 {
		t.Fatalf("err = %#v", err)
	}
	if !strings.HasPrefix(apiErr.Message, "<html><body>Bad Gateway") || !strings.HasSuffix(apiErr.Message, "…") || len(apiErr.Message) > 210 {
		t.Errorf("message = %q, want the start of the body, cut", apiErr.Message)
	}
}

func TestClientBadJSON(t *testing.T) {
	c, _ := stub(t, 200, `{"deepModes":`)
	if _, err := c.DeepModes(context.Background()); err == nil || !strings.Contains(err.Error(), "decoding the agent's answer") {
		t.Errorf("err = %v", err)
	}
}

func TestClientUnreachable(t *testing.T) {
	// A port that was just free: nothing listens there.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + l.Addr().String()
	l.Close()

	err = NewClient(url, "tok").Health(context.Background())
	if !errors.Is(err, ErrUnreachable) {
		t.Fatalf("err = %v, want ErrUnreachable", err)
	}
	if !strings.Contains(err.Error(), "agent is not reachable at "+url) {
		t.Errorf("err = %q, want it to name %s", err, url)
	}
}

func TestZeroClientUsesDefaultHTTPClient(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			t.Errorf("empty token sent as %q", r.Header.Get("Authorization"))
		}
		_, _ = io.WriteString(w, `{"status":"ok"}`)
	}))
	defer srv.Close()
	if err := (&Client{BaseURL: srv.URL}).Health(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestHealthNotOK(t *testing.T) {
	c, _ := stub(t, 200, `{"status":"starting"}`)
	if err := c.Health(context.Background()); err == nil || !strings.Contains(err.Error(), `"starting"`) {
		t.Errorf("err = %v", err)
	}
}
