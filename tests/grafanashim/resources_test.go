package grafanashim

import (
	"strings"
	"testing"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
)

// TestResourcesOverThePlugin: the app's and the datasource's resource
// routes reach gpx_php with their settings, and its statuses and bodies
// come back as they are.
func TestResourcesOverThePlugin(t *testing.T) {
	s := startShim(t, deadURL(t), "")
	for _, prefix := range []string{"/api/plugins/tusk-php-app/resources", "/api/datasources/uid/tusk/resources"} {
		code, hdr, body := s.do("GET", prefix+"/agents", "")
		if code != 200 || !strings.Contains(body, `"name":"web-1"`) || !strings.Contains(body, `"hasToken":true`) ||
			!strings.HasPrefix(hdr.Get("Content-Type"), "application/json") {
			t.Errorf("GET %s/agents: %d %s %s", prefix, code, hdr.Get("Content-Type"), body)
		}
		if code, _, body := s.do("GET", prefix+"/agents/nope/check?x=1", ""); code != 404 || !strings.Contains(body, `no agent is called \"nope\"`) {
			t.Errorf("GET %s/agents/nope/check: %d %s", prefix, code, body)
		}
		if code, _, body := s.do("GET", prefix+"/no-such-resource", ""); code != 404 {
			t.Errorf("GET %s/no-such-resource: %d %s", prefix, code, body)
		}
	}
	// The datasource has no probe control: the app's route only.
	if code, _, body := s.do("GET", "/api/datasources/uid/tusk/resources/agents/web-1/probes/deep", ""); code != 404 {
		t.Errorf("datasource deep mode route: %d %s", code, body)
	}
	if code, _, _ := s.do("GET", "/api/datasources/uid/nope/resources/agents", ""); code != 404 {
		t.Errorf("unknown datasource: %d", code)
	}
}

// TestResourceRequestShape checks the CallResourceRequest against Grafana's
// callPluginResource, and the answer against its plugin client's filtering.
func TestResourceRequestShape(t *testing.T) {
	f := &fakePlugin{resource: &backend.CallResourceResponse{
		Status:  201,
		Headers: map[string][]string{"x-agent": {"web-1"}, "Set-Cookie": {"a=b"}},
		Body:    []byte(`{"id":"d1"}`),
	}}
	s := startFakeShim(t, f, "")
	code, hdr, body := s.do("POST", "/api/plugins/tusk-php-app/resources/agents/web%201/probes/deep?for=1m&x=a%26b", `{"pool":"www"}`,
		"Cookie", "grafana_session=1", "Authorization", "Bearer browser", "X-Plugin-Id", "tusk-php-app", "Content-Type", "application/json")
	if code != 201 || body != `{"id":"d1"}` || hdr.Get("X-Agent") != "web-1" || hdr.Get("Set-Cookie") != "" || hdr.Get("Content-Type") != "application/json" {
		t.Errorf("answer: %d %v %s", code, hdr, body)
	}
	req := f.resources[0]
	if req.Path != "agents/web 1/probes/deep" || req.URL != "agents/web%201/probes/deep?for=1m&x=a%26b" || req.Method != "POST" || string(req.Body) != `{"pool":"www"}` {
		t.Errorf("request: path %q url %q method %s body %s", req.Path, req.URL, req.Method, req.Body)
	}
	if req.Headers["Cookie"] != nil || req.Headers["Authorization"] != nil || req.Headers["X-Plugin-Id"][0] != "tusk-php-app" {
		t.Errorf("headers: %v", req.Headers)
	}
	pc := req.PluginContext
	if pc.PluginID != AppID || pc.AppInstanceSettings == nil || pc.DataSourceInstanceSettings != nil ||
		pc.AppInstanceSettings.DecryptedSecureJSONData["token.web-1"] != secret || pc.User == nil || pc.User.Role != "Admin" {
		t.Errorf("app context: %+v", pc)
	}

	f.resource = &backend.CallResourceResponse{Status: 204}
	if code, hdr, body := s.do("DELETE", "/api/datasources/uid/other/resources/x", ""); code != 204 || body != "" || hdr.Get("Content-Type") != "" {
		t.Errorf("204: %d %v %q", code, hdr, body)
	}
	if ds := f.resources[1].PluginContext.DataSourceInstanceSettings; ds == nil || ds.UID != "other" {
		t.Errorf("datasource context: %+v", f.resources[1].PluginContext)
	}
}
