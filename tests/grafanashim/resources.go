package grafanashim

import (
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
)

func (h *Handler) appResource(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("id") != AppID {
		writeMessage(w, http.StatusNotFound, "Plugin not found")
		return
	}
	h.callResource(w, r, h.appContext())
}

func (h *Handler) datasourceResource(w http.ResponseWriter, r *http.Request) {
	ds, ok := h.datasource(r.PathValue("uid"))
	if !ok {
		writeMessage(w, http.StatusNotFound, "Data source not found")
		return
	}
	h.callResource(w, r, datasourceContext(ds))
}

// Request headers Grafana does not pass to a plugin: the browser's session
// and credentials, and hop-by-hop headers.
var droppedRequestHeaders = []string{"Cookie", "Authorization", "Connection", "Keep-Alive",
	"Proxy-Authenticate", "Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

// Response headers Grafana's plugin client removes before the browser.
var droppedResponseHeaders = []string{"Set-Cookie", "Connection", "Keep-Alive", "Proxy-Authenticate",
	"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade", "Content-Length"}

// callResource passes the request to the plugin the way Grafana's
// callPluginResource does: Path is what follows resources/ (no leading
// slash), URL is that path with the query, and the plugin's status,
// headers and body go back as they are.
func (h *Handler) callResource(w http.ResponseWriter, r *http.Request, pc backend.PluginContext) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeMessage(w, http.StatusBadRequest, "Failed to read request body")
		return
	}
	path := r.PathValue("path")
	headers := r.Header.Clone()
	for _, k := range droppedRequestHeaders {
		headers.Del(k)
	}
	req := &backend.CallResourceRequest{
		PluginContext: pc,
		Path:          path,
		Method:        r.Method,
		URL:           (&url.URL{Path: path, RawQuery: r.URL.RawQuery}).String(),
		Headers:       headers,
		Body:          body,
	}
	res, err := h.plugin.CallResource(r.Context(), req)
	if err != nil {
		h.logf("grafana-shim: CallResource %s %s: %v", r.Method, path, err)
		writeMessage(w, http.StatusInternalServerError, "Failed to call resource")
		return
	}
	out := w.Header()
	for k, v := range res.Headers {
		out[http.CanonicalHeaderKey(k)] = v
	}
	for _, k := range droppedResponseHeaders {
		out.Del(k)
	}
	status := res.Status
	if status == 0 {
		status = http.StatusOK
	}
	// Like Grafana's plugin client: an answer without a type is JSON.
	if out.Get("Content-Type") == "" && status != http.StatusNoContent {
		out.Set("Content-Type", "application/json")
	}
	w.WriteHeader(status)
	if status != http.StatusNoContent && !strings.EqualFold(r.Method, http.MethodHead) {
		_, _ = w.Write(res.Body)
	}
}
