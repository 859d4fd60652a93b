package grafanashim

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"sync"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"

	"github.com/tusk-php/tusk/tests/plugingrpc"
)

// Plugin ids and names, as in src/plugin.json and src/datasource/plugin.json
// (shim_test.go checks).
const (
	AppID                = "tusk-php-app"
	AppName              = "Tusk"
	DatasourceID         = "tusk-php-datasource"
	DatasourcePluginName = "Tusk PHP traces"
)

// Options configures New.
type Options struct {
	// Plugin is the running gpx_php (plugingrpc.Start).
	Plugin *plugingrpc.Plugin
	// App is the app plugin's provisioned settings.
	App Settings
	// Datasources are the provisioned tusk-php-datasource instances; they
	// get ids 1, 2, … in this order.
	Datasources []Datasource
	// StaticDir holds the harness (index.html and its bundle).
	StaticDir string
	// Logf, when set, is told of requests for /api paths the shim does not
	// imitate and of calls the plugin failed to answer.
	Logf func(format string, args ...any)
}

// Settings are a plugin instance's jsonData and decrypted secureJsonData.
type Settings struct {
	JSONData json.RawMessage
	Secure   map[string]string
}

// Datasource is one provisioned datasource.
type Datasource struct {
	UID      string
	Name     string
	JSONData json.RawMessage
	Secure   map[string]string
}

// pluginBackend is what the shim calls; *plugingrpc.Plugin is the real one.
type pluginBackend interface {
	QueryData(context.Context, *backend.QueryDataRequest) (*backend.QueryDataResponse, error)
	CheckHealth(context.Context, *backend.CheckHealthRequest) (*backend.CheckHealthResult, error)
	CallResource(context.Context, *backend.CallResourceRequest) (*backend.CallResourceResponse, error)
}

// Handler is the shim's http.Handler.
type Handler struct {
	plugin    pluginBackend
	staticDir string
	logf      func(format string, args ...any)
	mux       *http.ServeMux

	mu          sync.RWMutex // guards app and datasources
	app         appState
	datasources []dsState
}

type appState struct {
	Settings
	Enabled, Pinned bool
	Updated         time.Time
}

type dsState struct {
	Datasource
	ID      int64
	Updated time.Time
}

var _ http.Handler = (*Handler)(nil)

// New returns the shim for opts. The settings are copied: later changes go
// through POST /api/plugins/tusk-php-app/settings only.
func New(opts Options) (*Handler, error) {
	if opts.Plugin == nil {
		return nil, fmt.Errorf("grafanashim: Options.Plugin is nil")
	}
	return newHandler(opts.Plugin, opts)
}

func newHandler(p pluginBackend, opts Options) (*Handler, error) {
	now := time.Now()
	h := &Handler{plugin: p, staticDir: opts.StaticDir, logf: opts.Logf}
	if h.logf == nil {
		h.logf = func(string, ...any) {}
	}
	h.app = appState{Settings: copySettings(opts.App.JSONData, opts.App.Secure), Enabled: true, Pinned: true, Updated: now}
	seen := map[string]bool{}
	for i, ds := range opts.Datasources {
		if ds.UID == "" || seen[ds.UID] {
			return nil, fmt.Errorf("grafanashim: datasource %d: empty or duplicate uid %q", i+1, ds.UID)
		}
		seen[ds.UID] = true
		s := copySettings(ds.JSONData, ds.Secure)
		ds.JSONData, ds.Secure = s.JSONData, s.Secure
		h.datasources = append(h.datasources, dsState{Datasource: ds, ID: int64(i + 1), Updated: now})
	}

	m := http.NewServeMux()
	m.HandleFunc("POST /api/ds/query", h.query)
	m.HandleFunc("/api/plugins/{id}/resources/{path...}", h.appResource)
	m.HandleFunc("/api/datasources/uid/{uid}/resources/{path...}", h.datasourceResource)
	m.HandleFunc("GET /api/plugins/{id}/health", h.appHealth)
	m.HandleFunc("GET /api/datasources/uid/{uid}/health", h.datasourceHealth)
	m.HandleFunc("GET /api/plugins/{id}/settings", h.getPluginSettings)
	m.HandleFunc("POST /api/plugins/{id}/settings", h.updatePluginSettings)
	m.HandleFunc("GET /api/datasources/uid/{uid}", h.getDatasource)
	m.HandleFunc("GET /harness/boot.json", h.boot)
	m.HandleFunc("/api/", h.unknownAPI)
	m.HandleFunc("/", h.static)
	h.mux = m
	return h, nil
}

func copySettings(jsonData json.RawMessage, secure map[string]string) Settings {
	s := Settings{JSONData: json.RawMessage(`{}`), Secure: map[string]string{}}
	if len(jsonData) > 0 {
		s.JSONData = append(json.RawMessage(nil), jsonData...)
	}
	maps.Copy(s.Secure, secure)
	return s
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mux.ServeHTTP(w, r)
}

func (h *Handler) unknownAPI(w http.ResponseWriter, r *http.Request) {
	h.logf("grafana-shim: %s %s is not imitated: 404", r.Method, r.URL.Path)
	writeMessage(w, http.StatusNotFound, "Not found")
}

// datasource returns the datasource with uid.
func (h *Handler) datasource(uid string) (dsState, bool) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for _, ds := range h.datasources {
		if ds.UID == uid {
			return ds, true
		}
	}
	return dsState{}, false
}

// user is who Grafana says is calling: the admin of org 1.
var user = &backend.User{Login: "admin", Name: "admin", Email: "admin@localhost", Role: "Admin"}

// appContext is the PluginContext Grafana sends with an app call.
func (h *Handler) appContext() backend.PluginContext {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return backend.PluginContext{
		OrgID: 1, PluginID: AppID, User: user,
		AppInstanceSettings: &backend.AppInstanceSettings{
			JSONData:                h.app.JSONData,
			DecryptedSecureJSONData: maps.Clone(h.app.Secure),
			Updated:                 h.app.Updated,
		},
	}
}

// datasourceContext is the PluginContext Grafana sends with a datasource
// call: the datasource's settings, not the app's.
func datasourceContext(ds dsState) backend.PluginContext {
	return backend.PluginContext{
		OrgID: 1, PluginID: DatasourceID, User: user,
		DataSourceInstanceSettings: &backend.DataSourceInstanceSettings{
			ID: ds.ID, UID: ds.UID, Name: ds.Name, Type: DatasourceID,
			JSONData:                ds.JSONData,
			DecryptedSecureJSONData: maps.Clone(ds.Secure),
			Updated:                 ds.Updated,
		},
	}
}

// secureFields is Grafana's secureJsonFields: which secrets are set, never
// their values.
func secureFields(secure map[string]string) map[string]bool {
	out := map[string]bool{}
	for k, v := range secure {
		if v != "" {
			out[k] = true
		}
	}
	return out
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeMessage is Grafana's error answer (response.Error): {"message": …}.
func writeMessage(w http.ResponseWriter, status int, message string) {
	writeJSON(w, status, map[string]string{"message": message})
}
