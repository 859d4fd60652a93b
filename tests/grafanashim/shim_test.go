package grafanashim

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tusk-php/tusk/pkg/agentapi"
	"github.com/tusk-php/tusk/tests/plugingrpc"
)

// secret is the agent token in every test's settings: no answer may hold it.
const secret = "shim-test-token-do-not-leak"

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := plugingrpc.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

var build struct {
	once sync.Once
	exe  string
	err  error
}

// pluginExe builds gpx_php with mage once per test binary (mage skips an
// up-to-date build).
func pluginExe(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the plugin executable with mage")
	}
	build.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		build.exe, build.err = plugingrpc.Build(ctx, repoRoot(t))
	})
	if build.err != nil {
		t.Fatal(build.err)
	}
	return build.exe
}

// startReplayAgent answers the agent's status and search routes with a real
// agent's recorded answers (pkg/plugin/testdata/agent), behind its bearer
// token check: enough for a healthy agent and a search with rows.
func startReplayAgent(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(repoRoot(t), "pkg", "plugin", "testdata", "agent")
	serve := func(file string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "Bearer "+secret {
				w.WriteHeader(http.StatusUnauthorized)
				json.NewEncoder(w).Encode(agentapi.Error{Error: "bad token"})
				return
			}
			b, err := os.ReadFile(filepath.Join(dir, file))
			if err != nil {
				t.Error(err)
			}
			w.Header().Set("Content-Type", "application/json")
			w.Write(b)
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+agentapi.PathStatus, serve("status.json"))
	mux.HandleFunc("GET "+agentapi.PathTraces, serve("search.json"))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

// deadURL is an address nothing listens on.
func deadURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return "http://" + l.Addr().String()
}

// agentSettings is the app's and datasource's settings for one agent.
func agentSettings(name, url string) Settings {
	b, _ := json.Marshal(map[string]any{"agents": []map[string]string{{"name": name, "url": url}}, "timeoutSeconds": 5})
	return Settings{JSONData: b, Secure: map[string]string{"token." + name: secret}}
}

// shim is a running shim over the real plugin.
type shim struct {
	t      *testing.T
	url    string
	plugin *plugingrpc.Plugin
}

// startShim starts gpx_php and the shim with the app and one datasource
// (uid tusk) configured for agent web-1 at agentURL.
func startShim(t *testing.T, agentURL, staticDir string) *shim {
	t.Helper()
	exe := pluginExe(t)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	p, err := plugingrpc.Start(ctx, exe)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Error(err)
		}
		if t.Failed() {
			t.Logf("plugin output:\n%s", p.Stderr())
		}
	})
	s := agentSettings("web-1", agentURL)
	h, err := New(Options{
		Plugin:      p,
		App:         s,
		Datasources: []Datasource{{UID: "tusk", Name: "Tusk", JSONData: s.JSONData, Secure: s.Secure}},
		StaticDir:   staticDir,
		Logf:        t.Logf,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &shim{t: t, url: srv.URL, plugin: p}
}

// do sends a request and returns the answer's status, headers and body; it
// fails the test if the answer holds the secret.
func (s *shim) do(method, path, body string, header ...string) (int, http.Header, string) {
	s.t.Helper()
	req, err := http.NewRequest(method, s.url+path, strings.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if strings.Contains(string(b), secret) || strings.Contains(strings.Join(flatten(resp.Header), " "), secret) {
		s.t.Errorf("%s %s: the secret is in the answer: %s", method, path, b)
	}
	return resp.StatusCode, resp.Header, string(b)
}

func flatten(h http.Header) []string {
	var out []string
	for k, v := range h {
		out = append(out, k+": "+strings.Join(v, ", "))
	}
	return out
}

func decode[T any](t *testing.T, body string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	return v
}

// TestPluginIDsMatchPluginJSON keeps the shim's ids and names those of the
// plugin.json files the front end is built with.
func TestPluginIDsMatchPluginJSON(t *testing.T) {
	for file, want := range map[string][2]string{
		"src/plugin.json":            {AppID, AppName},
		"src/datasource/plugin.json": {DatasourceID, DatasourcePluginName},
	} {
		b, err := os.ReadFile(filepath.Join(repoRoot(t), file))
		if err != nil {
			t.Fatal(err)
		}
		got := decode[struct{ ID, Name string }](t, string(b))
		if got.ID != want[0] || got.Name != want[1] {
			t.Errorf("%s: id %q name %q, the shim says %q %q", file, got.ID, got.Name, want[0], want[1])
		}
	}
}

func TestGrafanaVersionMatchesPackageJSON(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "package.json"))
	if err != nil {
		t.Fatal(err)
	}
	pkg := decode[struct {
		Dependencies map[string]string `json:"dependencies"`
	}](t, string(b))
	if got := strings.TrimLeft(pkg.Dependencies["@grafana/runtime"], "^~"); got != GrafanaVersion {
		t.Errorf("@grafana/runtime is %q, the shim claims Grafana %s", got, GrafanaVersion)
	}
}

func TestNewRefusesBadOptions(t *testing.T) {
	if _, err := New(Options{}); err == nil {
		t.Error("New without a plugin: no error")
	}
	dup := []Datasource{{UID: "a"}, {UID: "a"}}
	if _, err := newHandler(&fakePlugin{}, Options{Datasources: dup}); err == nil {
		t.Error("duplicate datasource uid: no error")
	}
}

// TestUnknownAPIPathIsJSON404: an /api path the shim does not imitate is
// Grafana's 404, never the harness page.
func TestUnknownAPIPathIsJSON404(t *testing.T) {
	h, _ := newHandler(&fakePlugin{}, Options{StaticDir: t.TempDir()})
	srv := httptest.NewServer(h)
	defer srv.Close()
	for _, path := range []string{"/api/frontend/settings", "/api/plugins/other-app/health", "/api/datasources/uid/nope/health", "/api/datasources/uid/nope"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		msg := decode[struct{ Message string }](t, string(b))
		if resp.StatusCode != http.StatusNotFound || msg.Message == "" {
			t.Errorf("GET %s: %d %s", path, resp.StatusCode, b)
		}
	}
}
