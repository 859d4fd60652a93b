package grafanashim

import (
	"bytes"
	"encoding/json"
	"maps"
	"net/http"
	"time"
)

// pluginSetting is the part of Grafana's dtos.PluginSetting the front end
// reads (AppRootProps.meta / PluginConfigPageProps.plugin.meta).
type pluginSetting struct {
	ID               string          `json:"id"`
	Type             string          `json:"type"`
	Name             string          `json:"name"`
	Enabled          bool            `json:"enabled"`
	Pinned           bool            `json:"pinned"`
	JSONData         json.RawMessage `json:"jsonData"`
	SecureJSONFields map[string]bool `json:"secureJsonFields"`
}

func (h *Handler) getPluginSettings(w http.ResponseWriter, r *http.Request) {
	switch r.PathValue("id") {
	case AppID:
		h.mu.RLock()
		defer h.mu.RUnlock()
		writeJSON(w, http.StatusOK, pluginSetting{
			ID: AppID, Type: "app", Name: AppName, Enabled: h.app.Enabled, Pinned: h.app.Pinned,
			JSONData: h.app.JSONData, SecureJSONFields: secureFields(h.app.Secure),
		})
	case DatasourceID:
		// A datasource plugin's own setting is empty; its instances hold the settings.
		writeJSON(w, http.StatusOK, pluginSetting{
			ID: DatasourceID, Type: "datasource", Name: DatasourcePluginName, Enabled: true,
			JSONData: json.RawMessage(`{}`), SecureJSONFields: map[string]bool{},
		})
	default:
		writeMessage(w, http.StatusNotFound, "Plugin not found, no installed plugin with that id")
	}
}

// updatePluginSettingCmd is Grafana's UpdatePluginSettingCmd.
type updatePluginSettingCmd struct {
	Enabled        *bool             `json:"enabled"`
	Pinned         *bool             `json:"pinned"`
	JSONData       json.RawMessage   `json:"jsonData"`
	SecureJSONData map[string]string `json:"secureJsonData"`
}

// updatePluginSettings stores the app's settings the way Grafana does:
// jsonData replaced, secureJsonData merged key by key (a key left out keeps
// its secret). The plugin sees the change on its next call, through
// AppInstanceSettings.Updated.
func (h *Handler) updatePluginSettings(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("id") != AppID {
		writeMessage(w, http.StatusNotFound, "Plugin not installed")
		return
	}
	var cmd updatePluginSettingCmd
	if err := json.NewDecoder(r.Body).Decode(&cmd); err != nil {
		writeMessage(w, http.StatusBadRequest, "bad request data")
		return
	}
	if len(cmd.JSONData) > 0 && !bytes.HasPrefix(bytes.TrimSpace(cmd.JSONData), []byte("{")) &&
		!bytes.Equal(bytes.TrimSpace(cmd.JSONData), []byte("null")) {
		writeMessage(w, http.StatusBadRequest, "bad request data")
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if cmd.Enabled != nil {
		h.app.Enabled = *cmd.Enabled
	}
	if cmd.Pinned != nil {
		h.app.Pinned = *cmd.Pinned
	}
	if len(cmd.JSONData) == 0 || bytes.Equal(bytes.TrimSpace(cmd.JSONData), []byte("null")) {
		h.app.JSONData = json.RawMessage(`{}`)
	} else {
		h.app.JSONData = append(json.RawMessage(nil), cmd.JSONData...)
	}
	secure := maps.Clone(h.app.Secure)
	maps.Copy(secure, cmd.SecureJSONData)
	h.app.Secure = secure
	// Strictly later, so that the SDK's instance manager remakes the app.
	now := time.Now()
	if !now.After(h.app.Updated) {
		now = h.app.Updated.Add(time.Millisecond)
	}
	h.app.Updated = now
	writeMessage(w, http.StatusOK, "Plugin settings updated")
}

// datasourceDTO is the part of Grafana's dtos.DataSource the front end reads.
type datasourceDTO struct {
	ID               int64           `json:"id"`
	UID              string          `json:"uid"`
	OrgID            int64           `json:"orgId"`
	Name             string          `json:"name"`
	Type             string          `json:"type"`
	TypeName         string          `json:"typeName"`
	Access           string          `json:"access"`
	URL              string          `json:"url"`
	IsDefault        bool            `json:"isDefault"`
	JSONData         json.RawMessage `json:"jsonData"`
	SecureJSONFields map[string]bool `json:"secureJsonFields"`
	Version          int             `json:"version"`
	ReadOnly         bool            `json:"readOnly"`
}

func (h *Handler) getDatasource(w http.ResponseWriter, r *http.Request) {
	ds, ok := h.datasource(r.PathValue("uid"))
	if !ok {
		writeMessage(w, http.StatusNotFound, "Data source not found")
		return
	}
	writeJSON(w, http.StatusOK, datasourceDTO{
		ID: ds.ID, UID: ds.UID, OrgID: 1, Name: ds.Name, Type: DatasourceID, TypeName: DatasourcePluginName,
		Access: "proxy", IsDefault: ds.ID == 1, JSONData: ds.JSONData, SecureJSONFields: secureFields(ds.Secure),
		Version: 1, ReadOnly: true,
	})
}
