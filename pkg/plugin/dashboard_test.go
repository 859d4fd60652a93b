package plugin

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// dashboardDir holds the dashboards the app ships (src/plugin.json includes
// them; provisioning/dashboards points Grafana at their copy in dist/).
const dashboardDir = "../../src/dashboards"

type dashboardJSON struct {
	UID        string `json:"uid"`
	Templating struct {
		List []struct {
			Name string `json:"name"`
		} `json:"list"`
	} `json:"templating"`
	Panels []struct {
		ID      int               `json:"id"`
		Type    string            `json:"type"`
		Title   string            `json:"title"`
		Targets []json.RawMessage `json:"targets"`
	} `json:"panels"`
}

// TestShippedDashboardQueriesAnswer runs every query of every shipped
// dashboard through the datasource, against the answers recorded from a real
// agent, with the dashboard's variables set as a user would: a typo in a
// field name or a value the backend refuses fails here rather than as an
// empty panel in someone's Grafana.
func TestShippedDashboardQueriesAnswer(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join(dashboardDir, "*.json"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no dashboards in %s (%v)", dashboardDir, err)
	}
	agent := startRecordedAgent(t, "tok")
	ds := newTestDatasource(t, agentSettings{name: "rec", url: agent.URL, token: "tok"})
	window := recordingWindow(t)
	variables := map[string]string{
		"$service": "", "$pool": "fixture", "$traceId": anyRecordedTraceID(t),
	}

	for _, path := range paths {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var dash dashboardJSON
		dec := json.NewDecoder(bytes.NewReader(raw))
		if err := dec.Decode(&dash); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		declared := map[string]bool{"ds": true}
		for _, v := range dash.Templating.List {
			declared[v.Name] = true
		}
		for name := range variables {
			if !declared[strings.TrimPrefix(name, "$")] {
				t.Errorf("%s: the test sets %s, which the dashboard does not declare", path, name)
			}
		}
		for _, panel := range dash.Panels {
			for i, target := range panel.Targets {
				model := string(target)
				for name, value := range variables {
					model = strings.ReplaceAll(model, name, value)
				}
				if strings.Contains(strings.ReplaceAll(model, "${ds}", ""), "$") {
					t.Errorf("%s panel %q: a variable the test does not set: %s", path, panel.Title, model)
					continue
				}
				assertKnownQueryFields(t, panel.Title, []byte(model))
				var head struct {
					QueryType string `json:"queryType"`
				}
				json.Unmarshal([]byte(model), &head)
				resp := queryOne(t, ds, dataQuery(string(rune('A'+i)), head.QueryType, window, model))
				if resp.Error != nil {
					t.Errorf("%s panel %q: %v", path, panel.Title, resp.Error)
				} else if len(resp.Frames) == 0 || resp.Frames[0].Rows() == 0 {
					t.Errorf("%s panel %q: no rows from the recorded agent", path, panel.Title)
				}
			}
		}
	}
}

// assertKnownQueryFields fails on a field the backend's Query does not read
// (Grafana's own fields aside), which encoding/json would silently ignore.
func assertKnownQueryFields(t *testing.T, panel string, model []byte) {
	t.Helper()
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(model, &fields); err != nil {
		t.Fatalf("panel %q: %v", panel, err)
	}
	delete(fields, "refId")
	delete(fields, "datasource")
	delete(fields, "hide")
	trimmed, _ := json.Marshal(fields)
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.DisallowUnknownFields()
	var q Query
	if err := dec.Decode(&q); err != nil {
		t.Errorf("panel %q: %v", panel, err)
	}
}

func anyRecordedTraceID(t *testing.T) string {
	for id := range recordedTraces(t) {
		return id
	}
	t.Fatal("no recorded trace")
	return ""
}
