package grafanashim

import (
	"encoding/json"
	"net/http"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
)

func (h *Handler) appHealth(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("id") != AppID {
		writeMessage(w, http.StatusNotFound, "Plugin not found")
		return
	}
	h.checkHealth(w, r, h.appContext())
}

func (h *Handler) datasourceHealth(w http.ResponseWriter, r *http.Request) {
	ds, ok := h.datasource(r.PathValue("uid"))
	if !ok {
		writeMessage(w, http.StatusNotFound, "Data source not found")
		return
	}
	h.checkHealth(w, r, datasourceContext(ds))
}

// checkHealth answers like Grafana's CheckHealth and checkDatasourceHealth:
// {status, message, details?}, HTTP 200 when OK and 400 otherwise (the
// runtime's callHealthCheck reads the body of either).
func (h *Handler) checkHealth(w http.ResponseWriter, r *http.Request, pc backend.PluginContext) {
	res, err := h.plugin.CheckHealth(r.Context(), &backend.CheckHealthRequest{PluginContext: pc, Headers: map[string]string{}})
	if err != nil {
		h.logf("grafana-shim: CheckHealth: %v", err)
		writeMessage(w, http.StatusInternalServerError, "Plugin request failed")
		return
	}
	payload := map[string]any{"status": res.Status.String(), "message": res.Message}
	if len(res.JSONDetails) > 0 {
		var details map[string]any
		if err := json.Unmarshal(res.JSONDetails, &details); err != nil {
			writeMessage(w, http.StatusInternalServerError, "Failed to unmarshal detailed response from backend plugin")
			return
		}
		payload["details"] = details
	}
	status := http.StatusOK
	if res.Status != backend.HealthStatusOk {
		status = http.StatusBadRequest
	}
	writeJSON(w, status, payload)
}
