package grafanashim

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestSettingsRoundTripOverThePlugin saves the app's settings the way its
// config page does and expects them back without secrets, in boot.json,
// and in the plugin, which must make a new app instance for them.
func TestSettingsRoundTripOverThePlugin(t *testing.T) {
	s := startShim(t, deadURL(t), "")
	code, _, body := s.do("GET", "/api/plugins/tusk-php-app/settings", "")
	got := decode[pluginSetting](t, body)
	if code != 200 || got.ID != AppID || got.Type != "app" || !got.Enabled || !got.SecureJSONFields["token.web-1"] || !strings.Contains(string(got.JSONData), "web-1") {
		t.Fatalf("settings: %d %s", code, body)
	}
	// The plugin makes its app instance now, from the first settings.
	if _, _, body := s.do("GET", "/api/plugins/tusk-php-app/resources/agents", ""); strings.Contains(body, "web-2") {
		t.Fatalf("agents before save: %s", body)
	}

	update := map[string]any{
		"enabled": true, "pinned": true,
		"jsonData": map[string]any{"agents": []map[string]string{
			{"name": "web-1", "url": "http://127.0.0.1:1"}, {"name": "web-2", "url": "http://127.0.0.1:2"}}},
		"secureJsonData": map[string]string{"token.web-2": secret + "-2"},
	}
	b, _ := json.Marshal(update)
	if code, _, body := s.do("POST", "/api/plugins/tusk-php-app/settings", string(b), "Content-Type", "application/json"); code != 200 || !strings.Contains(body, "Plugin settings updated") {
		t.Fatalf("save: %d %s", code, body)
	}
	_, _, body = s.do("GET", "/api/plugins/tusk-php-app/settings", "")
	got = decode[pluginSetting](t, body)
	if !got.SecureJSONFields["token.web-1"] || !got.SecureJSONFields["token.web-2"] || !strings.Contains(string(got.JSONData), "web-2") {
		t.Errorf("after save: %s", body)
	}
	_, _, body = s.do("GET", "/harness/boot.json", "")
	if boot := decode[Boot](t, body); !strings.Contains(string(boot.App.JSONData), "web-2") {
		t.Errorf("boot.json after save: %s", body)
	}
	// The plugin's app instance was remade: it knows web-2 and its token.
	_, _, body = s.do("GET", "/api/plugins/tusk-php-app/resources/agents", "")
	if !strings.Contains(body, `"name":"web-2"`) || strings.Count(body, `"hasToken":true`) != 2 {
		t.Errorf("agents after save: %s", body)
	}
	// The datasource keeps its own settings.
	_, _, body = s.do("GET", "/api/datasources/uid/tusk/resources/agents", "")
	if strings.Contains(body, "web-2") {
		t.Errorf("the datasource took the app's settings: %s", body)
	}
}

func TestSettingsErrorsAndDatasource(t *testing.T) {
	s := startFakeShim(t, &fakePlugin{}, "")
	if code, _, _ := s.do("POST", "/api/plugins/tusk-php-app/settings", `{"jsonData":`); code != 400 {
		t.Errorf("bad body: %d", code)
	}
	if code, _, _ := s.do("POST", "/api/plugins/tusk-php-app/settings", `{"jsonData":[1]}`); code != 400 {
		t.Errorf("jsonData not an object: %d", code)
	}
	if code, _, _ := s.do("POST", "/api/plugins/tusk-php-datasource/settings", `{}`); code != 404 {
		t.Errorf("datasource plugin settings saved: %d", code)
	}
	if code, _, body := s.do("GET", "/api/plugins/tusk-php-datasource/settings", ""); code != 200 || decode[pluginSetting](t, body).Type != "datasource" {
		t.Errorf("datasource plugin settings: %d %s", code, body)
	}
	if code, _, _ := s.do("GET", "/api/plugins/other-app/settings", ""); code != 404 {
		t.Errorf("unknown plugin: %d", code)
	}

	code, _, body := s.do("GET", "/api/datasources/uid/other", "")
	ds := decode[datasourceDTO](t, body)
	if code != 200 || ds.ID != 2 || ds.UID != "other" || ds.Type != DatasourceID || !ds.SecureJSONFields["token.web-1"] || ds.IsDefault {
		t.Errorf("datasource: %d %s", code, body)
	}

	_, _, body = s.do("GET", "/harness/boot.json", "")
	boot := decode[Boot](t, body)
	want := BootPluginMeta{ID: DatasourceID, Type: "datasource", Name: DatasourcePluginName, Backend: true}
	if len(boot.Datasources) != 2 || boot.Datasources[0].UID != "tusk" || boot.Datasources[0].ID != 1 || boot.Datasources[1].Meta != want ||
		boot.App.ID != AppID || boot.BuildInfo.Version != GrafanaVersion || !strings.Contains(string(boot.Datasources[0].JSONData), "web-1") {
		t.Errorf("boot.json: %s", body)
	}
}
