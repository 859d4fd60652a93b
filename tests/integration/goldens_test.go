//go:build integration

package integration

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tusk-php/tusk/pkg/agentapi"
	"github.com/tusk-php/tusk/pkg/trace"
	"github.com/tusk-php/tusk/tests/stack"
)

// goldenHost replaces this machine's host name in the recorded answers.
const goldenHost = "web-1"

// goldenRepoRoot replaces the repository's location, which PHP reports in
// every script and call-site path: where a developer keeps a checkout is
// neither stable nor anybody's business.
const goldenRepoRoot = "/srv/tusk"

// goldenRequest is one request of the recording; file names the trace
// answer saved for it ("" saves none: it only fills search and RED).
type goldenRequest struct {
	path   string // path and query, as sent
	status int
	file   string
}

// goldenRequests are the requests the recording makes, in order: a fast
// page, a plain error status, SQL with N+1, outbound HTTP, Redis, a caught
// exception, an uncaught one, and a CPU-bound request for a flame graph.
var goldenRequests = []goldenRequest{
	{"/index.php", 200, ""},
	{"/status.php?code=200", 200, ""},
	{"/status.php?code=503", 503, ""},
	{"/io/sql.php", 200, "trace-sql.json"},
	{"/io/http.php", 200, ""},
	{"/io/redis.php", 200, ""},
	{"/caught.php", 200, "trace-exception.json"},
	{"/error.php", 500, "trace-error.json"},
	{"/burn.php?ms=300", 200, ""},
}

// TestRecordAgentAnswersForPluginGoldens re-records the agent answers in
// pkg/plugin/testdata/agent/ that the plugin's golden frames are built
// from: real traces, a real flame graph, real RED metrics and status from
// the agent tracing the fixture. It only runs when asked to, because every
// recording changes ids and times:
//
//	TUSK_RECORD_GOLDENS=1 go test -tags integration -run TestRecordAgentAnswersForPluginGoldens ./tests/integration/ -v
func TestRecordAgentAnswersForPluginGoldens(t *testing.T) {
	if os.Getenv("TUSK_RECORD_GOLDENS") != "1" {
		t.Skip("set TUSK_RECORD_GOLDENS=1 to re-record pkg/plugin/testdata/agent/")
	}
	s := startFixture(t, stack.StackOptions{FPMIniArgs: jitOn, Workers: 2}.WithIO())
	a := startAgent(t, s, "--profile-hz", "499")

	// Outside the recorded window: the JIT is on, as in production.
	if code, body := get(t, s, "/opcache.php"); code != 200 || !strings.Contains(body, `"jit":true`) {
		t.Fatalf("opcache JIT is not on: %s", body)
	}
	time.Sleep(100 * time.Millisecond)

	windowStart := time.Now().Add(-20 * time.Millisecond)
	for _, r := range goldenRequests {
		if code, body := get(t, s, r.path); code != r.status {
			t.Fatalf("GET %s: HTTP %d, want %d: %s", r.path, code, r.status, body)
		}
	}
	windowEnd := time.Now().Add(20 * time.Millisecond)

	ids := map[string]trace.TraceID{}
	for _, r := range goldenRequests {
		ids[r.path] = waitRequestTrace(t, a, r, windowStart)
	}
	rec := &goldenRecorder{t: t, agent: a, answers: map[string][]byte{}}

	window := url.Values{
		agentapi.ParamStart: {unixMillisFloor(windowStart)},
		agentapi.ParamEnd:   {unixMillisCeil(windowEnd)},
		agentapi.ParamLimit: {"50"},
		agentapi.ParamOrder: {"newest"},
	}
	rec.save("search.json", rec.waitStable(agentapi.PathTraces+"?"+window.Encode()))

	for _, r := range goldenRequests {
		if r.file != "" {
			rec.save(r.file, rec.mustGet(agentapi.PathTraces+"/"+ids[r.path].String()))
		}
	}

	burn := ids["/burn.php?ms=300"]
	rec.save("flamegraph.json", rec.waitFlamegraph(agentapi.PathTraces+"/"+burn.String()+agentapi.PathTraceProfileSuffix+"?maxNodes=200"))

	// The range's flame graph holds every request of the recording: the
	// other side of the plugin's diff golden.
	rangeGraph := url.Values{
		agentapi.ParamFrom:     {unixMillisFloor(windowStart)},
		agentapi.ParamTo:       {unixMillisCeil(windowEnd)},
		agentapi.ParamMaxNodes: {"200"},
	}
	rec.save("flamegraph-range.json", rec.waitStable(agentapi.PathProfileFlamegraph+"?"+rangeGraph.Encode()))

	functionSearch := url.Values{
		agentapi.ParamFunction: {"burn"},
		agentapi.ParamFrom:     {unixMillisFloor(windowStart)},
		agentapi.ParamTo:       {unixMillisCeil(windowEnd)},
		agentapi.ParamLimit:    {"20"},
	}
	rec.save("function-traces.json", rec.waitFunctionTraces(agentapi.PathProfileTraces+"?"+functionSearch.Encode()))

	red := url.Values{
		agentapi.ParamFrom: {unixMillisFloor(windowStart)},
		agentapi.ParamTo:   {unixMillisCeil(windowEnd)},
		agentapi.ParamStep: {"10s"},
	}
	if code, body := rec.get(agentapi.PathREDMetrics + "?" + red.Encode()); code == http.StatusNotFound {
		// A red.json of an earlier recording would not match the others.
		rec.answers["red.json"] = nil
		t.Logf("red.json skipped: the agent has no %s yet (404)", agentapi.PathREDMetrics)
	} else if code != http.StatusOK {
		t.Fatalf("GET %s: HTTP %d: %s", agentapi.PathREDMetrics, code, body)
	} else {
		rec.save("red.json", body)
	}

	rec.save("status.json", rec.mustGet(agentapi.PathStatus))
	rec.write(filepath.Join(repoRoot(), "pkg", "plugin", "testdata", "agent"))
}

// waitRequestTrace waits until the agent stored the trace of r (made after
// since) and returns its id.
func waitRequestTrace(t *testing.T, a *agentProc, r goldenRequest, since time.Time) trace.TraceID {
	t.Helper()
	path, _, _ := strings.Cut(r.path, "?")
	q := trace.Query{PathPrefix: path, StatusCode: r.status, Start: since}
	for _, sum := range a.waitTraces(t, q, 1) {
		if sum.Path == path {
			return sum.TraceID
		}
	}
	t.Fatalf("no trace of %s (HTTP %d)", r.path, r.status)
	return trace.TraceID{}
}

// goldenRecorder fetches raw agent answers over HTTP, as the plugin will,
// and keeps them sanitized and indented until write: a recording that
// fails half-way leaves the previous goldens alone.
type goldenRecorder struct {
	t     *testing.T
	agent *agentProc
	// answers by file name; nil: remove the file.
	answers map[string][]byte
}

// get requests an API path with the agent's bearer token.
func (g *goldenRecorder) get(pathAndQuery string) (int, []byte) {
	g.t.Helper()
	req, err := http.NewRequestWithContext(g.t.Context(), http.MethodGet, g.agent.url+pathAndQuery, nil)
	if err != nil {
		g.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+g.agent.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		g.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		g.t.Fatal(err)
	}
	return resp.StatusCode, body
}

func (g *goldenRecorder) mustGet(pathAndQuery string) []byte {
	g.t.Helper()
	code, body := g.get(pathAndQuery)
	if code != http.StatusOK {
		g.t.Fatalf("GET %s: HTTP %d: %s", pathAndQuery, code, body)
	}
	return body
}

// waitStable polls until two answers in a row are the same: traces of
// other pools (the upstream pool behind io/http.php) may land a moment
// after the ones waited for.
func (g *goldenRecorder) waitStable(pathAndQuery string) []byte {
	g.t.Helper()
	prev := g.mustGet(pathAndQuery)
	for range 50 {
		time.Sleep(200 * time.Millisecond)
		cur := g.mustGet(pathAndQuery)
		if bytes.Equal(prev, cur) {
			return cur
		}
		prev = cur
	}
	g.t.Fatalf("GET %s kept changing for 10s", pathAndQuery)
	return nil
}

// waitFlamegraph polls until the request's stack samples are stored: they
// arrive separately from its trace.
func (g *goldenRecorder) waitFlamegraph(pathAndQuery string) []byte {
	g.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		code, body := g.get(pathAndQuery)
		var fg agentapi.Flamegraph
		if code == http.StatusOK && json.Unmarshal(body, &fg) == nil && fg.Total >= 20 {
			return body
		}
		if time.Now().After(deadline) {
			g.t.Fatalf("GET %s: no flame graph of ≥ 20 samples within 15s: HTTP %d %s", pathAndQuery, code, body)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// waitFunctionTraces polls a function search until it finds a request: a
// request's profile is stored once it had no sample for 2 s.
func (g *goldenRecorder) waitFunctionTraces(pathAndQuery string) []byte {
	g.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		code, body := g.get(pathAndQuery)
		var resp agentapi.FunctionTracesResponse
		if code == http.StatusOK && json.Unmarshal(body, &resp) == nil && len(resp.Traces) > 0 {
			return body
		}
		if time.Now().After(deadline) {
			g.t.Fatalf("GET %s: no request found within 15s: HTTP %d %s", pathAndQuery, code, body)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// save keeps an answer, sanitized and indented, to be written as name.
func (g *goldenRecorder) save(name string, raw []byte) {
	g.t.Helper()
	clean, err := sanitizeGolden(raw, repoRoot())
	if err != nil {
		g.t.Fatalf("%s: %v", name, err)
	}
	var out bytes.Buffer
	if err := json.Indent(&out, clean, "", "  "); err != nil {
		g.t.Fatalf("%s: agent answer is not JSON: %v\n%s", name, err, raw)
	}
	out.WriteByte('\n')
	g.answers[name] = out.Bytes()
}

// write puts every kept answer into dir.
func (g *goldenRecorder) write(dir string) {
	g.t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		g.t.Fatal(err)
	}
	for _, name := range slices.Sorted(maps.Keys(g.answers)) {
		path := filepath.Join(dir, name)
		body := g.answers[name]
		if body == nil {
			if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
				g.t.Fatal(err)
			}
			continue
		}
		if err := os.WriteFile(path, body, 0o644); err != nil {
			g.t.Fatal(err)
		}
		g.t.Logf("wrote %s (%d bytes)", path, len(body))
	}
}

// sanitizeGolden replaces what identifies this machine in an answer: its
// host name, as a whole word anywhere in the JSON, becomes goldenHost, and
// the repository root at the start of a path becomes goldenRepoRoot.
// Everything else (ids, times, pids, durations) stays as recorded.
func sanitizeGolden(raw []byte, repo string) ([]byte, error) {
	out := bytes.ReplaceAll(raw, []byte(jsonStringBody(repo+"/")), []byte(jsonStringBody(goldenRepoRoot+"/")))
	host, err := os.Hostname()
	if err != nil {
		return nil, err
	}
	names := []string{host}
	if short, _, ok := strings.Cut(host, "."); ok {
		names = append(names, short) // the FQDN first: it contains the short name
	}
	for _, name := range names {
		if name == "" || name == goldenHost {
			continue
		}
		// Host-name characters on neither side: "vm" but not "jvm" or "vm-2".
		word := regexp.MustCompile(`(^|[^A-Za-z0-9_.-])` + regexp.QuoteMeta(jsonStringBody(name)) + `($|[^A-Za-z0-9_-])`)
		// Again until nothing changes: a match consumes the separator after
		// the name, which may be the one before its next occurrence.
		for word.Match(out) {
			out = word.ReplaceAll(out, []byte("${1}"+goldenHost+"${2}"))
		}
	}
	if bytes.Contains(out, []byte(repo+"/")) {
		return nil, fmt.Errorf("the repository path %s is still in the answer", repo)
	}
	return out, nil
}

// jsonStringBody is s as it appears between the quotes of a JSON string.
func jsonStringBody(s string) string {
	b, _ := json.Marshal(s)
	return string(b[1 : len(b)-1])
}

func unixMillisFloor(t time.Time) string {
	return strconv.FormatInt(t.UnixMilli(), 10)
}

func unixMillisCeil(t time.Time) string {
	ms := t.UnixMilli()
	if t.Sub(time.UnixMilli(ms)) > 0 {
		ms++
	}
	return strconv.FormatInt(ms, 10)
}
