package grafanashim

import (
	"encoding/json"
	"net/http"
)

// Boot is the answer of GET /harness/boot.json: what the browser harness
// needs to boot @grafana/runtime's services over this API. It is the
// contract with tests/browser (see the package doc); change both together.
type Boot struct {
	Datasources []BootDatasource `json:"datasources"`
	App         BootApp          `json:"app"`
	BuildInfo   BootBuildInfo    `json:"buildInfo"`
}

// BootDatasource is one configured datasource, as the harness turns it
// into DataSourceInstanceSettings.
type BootDatasource struct {
	ID       int64           `json:"id"`
	UID      string          `json:"uid"`
	Name     string          `json:"name"`
	Type     string          `json:"type"`
	JSONData json.RawMessage `json:"jsonData"`
	Meta     BootPluginMeta  `json:"meta"`
}

// BootPluginMeta is the datasource plugin's identity.
type BootPluginMeta struct {
	ID      string `json:"id"`
	Type    string `json:"type"`
	Name    string `json:"name"`
	Backend bool   `json:"backend"`
}

// BootApp is the app plugin with its current jsonData.
type BootApp struct {
	ID       string          `json:"id"`
	JSONData json.RawMessage `json:"jsonData"`
}

// BootBuildInfo is what config.buildInfo says about "Grafana".
type BootBuildInfo struct {
	Version string `json:"version"`
}

// GrafanaVersion is the Grafana version the shim claims to be: the one of
// the @grafana packages in package.json.
const GrafanaVersion = "13.2.2"

func (h *Handler) boot(w http.ResponseWriter, _ *http.Request) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	b := Boot{
		Datasources: []BootDatasource{},
		App:         BootApp{ID: AppID, JSONData: h.app.JSONData},
		BuildInfo:   BootBuildInfo{Version: GrafanaVersion},
	}
	for _, ds := range h.datasources {
		b.Datasources = append(b.Datasources, BootDatasource{
			ID: ds.ID, UID: ds.UID, Name: ds.Name, Type: DatasourceID, JSONData: ds.JSONData,
			Meta: BootPluginMeta{ID: DatasourceID, Type: "datasource", Name: DatasourcePluginName, Backend: true},
		})
	}
	writeJSON(w, http.StatusOK, b)
}
