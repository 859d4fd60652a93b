package agentcli

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tusk-php/tusk/pkg/agentapi"
)

// profileAgent stands in for the agent's profile routes, recording the
// queries it was sent.
type profileAgent struct {
	mu      sync.Mutex
	queries map[string]url.Values
	top     string // JSON answer of the top route
}

func (a *profileAgent) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	a.queries[r.URL.Path] = r.URL.Query()
	a.mu.Unlock()
	if r.Header.Get("Authorization") != "Bearer tok" {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	switch r.URL.Path {
	case agentapi.PathProfileTop:
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(a.top))
	case agentapi.PathProfilePprof:
		_, _ = w.Write([]byte("\x1f\x8bfake pprof"))
	default:
		http.NotFound(w, r)
	}
}

func newProfileAgent(t *testing.T, top string) (*profileAgent, string) {
	a := &profileAgent{queries: map[string]url.Values{}, top: top}
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	return a, srv.URL
}

const topAnswer = `{"unit":"samples","periodNs":10101010,"total":8,"functions":[
	{"function":"db_query","file":"/www/db.php","self":4,"total":4,"selfPercent":50,"totalPercent":50},
	{"function":"{main}","file":"/www/index.php","self":2,"total":8,"selfPercent":25,"totalPercent":100},
	{"function":"[php-fpm]","self":2,"total":2,"selfPercent":25,"totalPercent":25}]}`

func TestProfilePrintsTopFunctionsAndWritesPprof(t *testing.T) {
	a, url := newProfileAgent(t, topAnswer)
	out := filepath.Join(t.TempDir(), "php.pb.gz")
	before := time.Now()
	code, stdout, stderr := run("profile", "--agent", url, "--token", "tok", "--from", "30m", "--pool", "www",
		"--endpoint", "GET /", "--top", "3", "--pprof", out)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{
		`8 samples in the last 30m0s, pool "www", endpoint "GET /" (≈ 80ms of CPU at 99 Hz)`,
		"  SELF%      SELF   TOTAL%     TOTAL  FUNCTION   FILE",
		"  50.0%         4    50.0%         4  db_query   /www/db.php",
		"  25.0%         2   100.0%         8  {main}     /www/index.php",
		"  25.0%         2    25.0%         2  [php-fpm]  -",
		"pprof profile written to " + out,
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	q := a.queries[agentapi.PathProfileTop]
	from, err := time.Parse(time.RFC3339Nano, q.Get("from"))
	if err != nil || from.Before(before.Add(-30*time.Minute-time.Second)) || from.After(time.Now().Add(-30*time.Minute)) {
		t.Errorf("from = %q", q.Get("from"))
	}
	if q.Get("pool") != "www" || q.Get("endpoint") != "GET /" || q.Get("limit") != "3" || q.Get("to") == "" {
		t.Errorf("top query %v", q)
	}
	if pq := a.queries[agentapi.PathProfilePprof]; pq.Get("pool") != "www" || pq.Get("from") != q.Get("from") || pq.Has("limit") {
		t.Errorf("pprof query %v", pq)
	}
	if b, err := os.ReadFile(out); err != nil || string(b) != "\x1f\x8bfake pprof" {
		t.Errorf("pprof file: %q, %v", b, err)
	}
}

func TestProfileOfATrace(t *testing.T) {
	a, url := newProfileAgent(t, topAnswer)
	code, stdout, stderr := run("profile", "--agent", url, "--token", "tok", "--trace", "4bf92f3577b34da6a3ce929d0e0e4736")
	if code != exitOK || !strings.Contains(stdout, "8 samples for trace 4bf92f3577b34da6a3ce929d0e0e4736") {
		t.Fatalf("exit %d: %s %s", code, stdout, stderr)
	}
	if q := a.queries[agentapi.PathProfileTop]; q.Get("traceId") != "4bf92f3577b34da6a3ce929d0e0e4736" || q.Has("from") || q.Has("to") {
		t.Errorf("query %v", q)
	}
}

func TestProfileWithNoSamples(t *testing.T) {
	_, url := newProfileAgent(t, `{"unit":"samples","periodNs":0,"total":0,"functions":[]}`)
	code, stdout, _ := run("profile", "--agent", url, "--token", "tok")
	if code != exitOK || !strings.Contains(stdout, "no stack samples in the last 15m0s") {
		t.Errorf("exit %d: %s", code, stdout)
	}
	code, _, stderr := run("profile", "--agent", url, "--token", "tok", "--trace", "4bf92f3577b34da6a3ce929d0e0e4736")
	if code != exitFail || !strings.Contains(stderr, "no stack samples for trace") {
		t.Errorf("trace without samples: exit %d: %s", code, stderr)
	}
}

func TestProfileUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"profile", "--token", "x", "--trace", "xyz"},
		{"profile", "--token", "x", "--top", "0"},
		{"profile", "--token", "x", "--from", "-5m"},
		{"profile", "--token", "x", "extra"},
	} {
		code, _, stderr := run(args...)
		if code != exitUsage || stderr == "" {
			t.Errorf("%q: exit %d, stderr %q", args, code, stderr)
		}
	}
}
