package grafanashim

import (
	"strings"
	"testing"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
)

type healthAnswer struct {
	Status  string         `json:"status"`
	Message string         `json:"message"`
	Details map[string]any `json:"details"`
}

// TestHealthOverThePlugin: the app's and the datasource's health checks
// reach gpx_php with their settings and come back in Grafana's shape, 200
// when OK and 400 when not (a dead agent).
func TestHealthOverThePlugin(t *testing.T) {
	for _, tc := range []struct {
		name, agent string
		code        int
		status      string
		message     string
	}{
		{"healthy agent", startReplayAgent(t), 200, "OK", "1 of 1 agents answered"},
		{"dead agent", deadURL(t), 400, "ERROR", "no connection to"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startShim(t, tc.agent, "")
			for _, path := range []string{"/api/plugins/tusk-php-app/health", "/api/datasources/uid/tusk/health"} {
				code, _, body := s.do("GET", path, "")
				got := decode[healthAnswer](t, body)
				if code != tc.code || got.Status != tc.status || !strings.Contains(got.Message, tc.message) {
					t.Errorf("GET %s: %d %+v, want %d %s %q", path, code, got, tc.code, tc.status, tc.message)
				}
			}
		})
	}
}

func TestHealthDetailsAndContext(t *testing.T) {
	f := &fakePlugin{healthReply: &backend.CheckHealthResult{
		Status: backend.HealthStatusError, Message: "bad", JSONDetails: []byte(`{"agents":2}`)}}
	s := startFakeShim(t, f, "")
	code, _, body := s.do("GET", "/api/datasources/uid/other/health", "")
	got := decode[healthAnswer](t, body)
	if code != 400 || got.Status != "ERROR" || got.Details["agents"] != float64(2) {
		t.Errorf("health: %d %s", code, body)
	}
	pc := f.health[0].PluginContext
	if pc.DataSourceInstanceSettings == nil || pc.DataSourceInstanceSettings.UID != "other" || pc.DataSourceInstanceSettings.ID != 2 ||
		pc.AppInstanceSettings != nil || pc.PluginID != DatasourceID || pc.OrgID != 1 {
		t.Errorf("datasource health context: %+v", pc)
	}
}
