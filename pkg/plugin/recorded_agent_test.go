package plugin

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tusk-php/tusk/pkg/agentapi"
	"github.com/tusk-php/tusk/pkg/trace"
)

// recordedDir holds real agent answers (see its README): the plugin's
// golden frames are built from what an agent really said, replayed here.
const recordedDir = "testdata/agent"

func readRecorded(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(recordedDir, name))
	if err != nil {
		t.Fatalf("recorded answer: %v", err)
	}
	return b
}

// recordedTraces maps each recorded trace's id to its file.
func recordedTraces(t *testing.T) map[string][]byte {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(recordedDir, "trace-*.json"))
	out := map[string][]byte{}
	for _, f := range files {
		b := readRecorded(t, filepath.Base(f))
		var tr trace.Trace
		if err := json.Unmarshal(b, &tr); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out[tr.TraceID.String()] = b
	}
	return out
}

// recordedHotFunction is the function function-traces.json searched for.
const recordedHotFunction = "burn"

// burnTraceID is the request whose profile flamegraph.json is.
func burnTraceID(t *testing.T) string {
	var s agentapi.SearchResponse
	if err := json.Unmarshal(readRecorded(t, "search.json"), &s); err != nil {
		t.Fatal(err)
	}
	for _, sum := range s.Traces {
		if sum.Path == "/burn.php" {
			return sum.TraceID.String()
		}
	}
	t.Fatal("search.json has no /burn.php trace")
	return ""
}

// startRecordedAgent serves the recorded answers on the agent's routes,
// with its bearer-token check. It is a replay, not the agent: the protocol
// test in tests/integration runs the real one.
func startRecordedAgent(t *testing.T, token string) *httptest.Server {
	t.Helper()
	traces := recordedTraces(t)
	burn := burnTraceID(t)
	answer := func(w http.ResponseWriter, status int, body []byte) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		w.Write(body)
	}
	notFound := func(w http.ResponseWriter, what string) {
		b, _ := json.Marshal(agentapi.Error{Error: what + " is not in this agent's store (it may have expired)"})
		answer(w, http.StatusNotFound, b)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+agentapi.PathStatus, func(w http.ResponseWriter, r *http.Request) {
		answer(w, 200, readRecorded(t, "status.json"))
	})
	mux.HandleFunc("GET "+agentapi.PathTraces, func(w http.ResponseWriter, r *http.Request) {
		answer(w, 200, readRecorded(t, "search.json"))
	})
	mux.HandleFunc("GET "+agentapi.PathTraces+"/{id}", func(w http.ResponseWriter, r *http.Request) {
		if b, ok := traces[r.PathValue("id")]; ok {
			answer(w, 200, b)
			return
		}
		notFound(w, "trace "+r.PathValue("id"))
	})
	mux.HandleFunc("GET "+agentapi.PathTraces+"/{id}/profile", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") == burn {
			answer(w, 200, readRecorded(t, "flamegraph.json"))
			return
		}
		notFound(w, "profile of trace "+r.PathValue("id"))
	})
	// A range that ends before the recording (a diff's baseline) gets the
	// graph of the burn request alone, any other the whole recording's.
	recordingStart := recordingWindow(t).From
	mux.HandleFunc("GET "+agentapi.PathProfileFlamegraph, func(w http.ResponseWriter, r *http.Request) {
		q, _, err := agentapi.DecodeFlamegraphParams(r.URL.Query())
		if err != nil {
			t.Errorf("flame graph query %q: %v", r.URL.RawQuery, err)
		}
		if !q.To.IsZero() && !q.To.After(recordingStart) {
			answer(w, 200, readRecorded(t, "flamegraph.json"))
			return
		}
		answer(w, 200, readRecorded(t, "flamegraph-range.json"))
	})
	mux.HandleFunc("GET "+agentapi.PathProfileTraces, func(w http.ResponseWriter, r *http.Request) {
		q, err := agentapi.DecodeFunctionTracesParams(r.URL.Query())
		if err != nil {
			b, _ := json.Marshal(agentapi.Error{Error: err.Error()})
			answer(w, http.StatusBadRequest, b)
			return
		}
		if q.Function == recordedHotFunction {
			answer(w, 200, readRecorded(t, "function-traces.json"))
			return
		}
		answer(w, 200, []byte(`{"scanned":0,"truncated":false,"traces":[]}`))
	})
	mux.HandleFunc("GET "+agentapi.PathREDMetrics, func(w http.ResponseWriter, r *http.Request) {
		answer(w, 200, readRecorded(t, "red.json"))
	})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+token {
			answer(w, http.StatusUnauthorized, []byte(`{"error":"missing or wrong API token"}`))
			return
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// agentSettings is the jsonData and secureJsonData of a fleet.
type agentSettings struct {
	name, url, token string
}

func settingsFor(agents ...agentSettings) ([]byte, map[string]string) {
	var parts []string
	secure := map[string]string{}
	for _, a := range agents {
		parts = append(parts, `{"name":"`+a.name+`","url":"`+a.url+`"}`)
		if a.token != "" {
			secure["token."+a.name] = a.token
		}
	}
	return []byte(`{"agents":[` + strings.Join(parts, ",") + `],"timeoutSeconds":5}`), secure
}
