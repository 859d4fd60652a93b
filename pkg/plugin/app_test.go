package plugin

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
)

type capturedResponse struct{ resp *backend.CallResourceResponse }

func (c *capturedResponse) Send(r *backend.CallResourceResponse) error {
	if c.resp == nil {
		c.resp = r
	} else {
		c.resp.Body = append(c.resp.Body, r.Body...)
	}
	return nil
}

// editor is the Grafana user of the resource calls in these tests.
var editor = &backend.User{Login: "ed", Role: "Editor"}

func callApp(t *testing.T, h backend.CallResourceHandler, method, path, body string) (int, string) {
	t.Helper()
	return callAppAs(t, h, editor, method, path, body)
}

func callAppAs(t *testing.T, h backend.CallResourceHandler, user *backend.User, method, path, body string) (int, string) {
	t.Helper()
	var c capturedResponse
	err := h.CallResource(context.Background(), &backend.CallResourceRequest{
		PluginContext: backend.PluginContext{User: user},
		Method:        method, Path: path, URL: path, Body: []byte(body),
	}, &c)
	if err != nil {
		t.Fatal(err)
	}
	return c.resp.Status, string(c.resp.Body)
}

// TestAppResourcesNeverLeakTokens: the routes answer with agent names and
// states, map agent failures to 404/400/502 (never 401, which Grafana takes
// for the user's session), and no answer carries a token.
func TestAppResourcesNeverLeakTokens(t *testing.T) {
	agent := startRecordedAgent(t, "s3cret-token")
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := "http://" + l.Addr().String()
	l.Close()
	jsonData, secure := settingsFor(agentSettings{"web-1", agent.URL, "s3cret-token"}, agentSettings{"wrong", agent.URL, "nope"}, agentSettings{"dead", dead, "x"})
	inst, err := NewApp(context.Background(), backend.AppInstanceSettings{JSONData: jsonData, DecryptedSecureJSONData: secure})
	if err != nil {
		t.Fatal(err)
	}
	app := inst.(*App)
	for _, c := range []struct {
		method, path, body string
		status             int
		want               string
	}{
		{"GET", "agents", "", 200, `"name":"web-1","url":"` + agent.URL + `","hasToken":true`},
		{"GET", "agents/web-1/check", "", 200, `"ok":true`},
		{"GET", "agents/wrong/check", "", 200, `refused the token`},
		{"GET", "agents/nope/check", "", 404, `no agent is called \"nope\"`},
		{"GET", "fleet", "", 200, `"name":"dead","url":"` + dead + `","ok":false,"error":"no connection to`},
		{"GET", "agents/web-1/status", "", 200, `"binaries":[`},
		{"GET", "agents/wrong/status", "", http.StatusBadGateway, `agent wrong: the agent at`},
		{"GET", "agents/dead/probes/deep", "", http.StatusBadGateway, `agent dead: no connection`},
		{"POST", "agents/web-1/probes/deep", `{"pool":`, 400, `deep mode request:`},
		{"POST", "agents/web-1/probes/deep", `{"pool":"www","color":"red"}`, 400, `unknown field \"color\"`},
		{"GET", "nothing/here", "", 404, ``},
	} {
		status, body := callApp(t, app, c.method, c.path, c.body)
		if status != c.status || !strings.Contains(body, c.want) {
			t.Errorf("%s %s: %d %s, want %d and %q", c.method, c.path, status, body, c.status, c.want)
		}
		if strings.Contains(body, "s3cret-token") {
			t.Errorf("%s %s: the token is in the answer", c.method, c.path)
		}
	}
	res, _ := app.CheckHealth(context.Background(), &backend.CheckHealthRequest{})
	if res.Status != backend.HealthStatusError || !strings.Contains(res.Message, "1 of 3 agents answered") {
		t.Errorf("app health: %s %q", res.Status, res.Message)
	}
}

// TestOnlyEditorsChangeProbes: deep mode costs the PHP application CPU, so
// a Viewer (or a call that names no Grafana user) may look but not change.
func TestOnlyEditorsChangeProbes(t *testing.T) {
	agent := startRecordedAgent(t, "tok")
	jsonData, secure := settingsFor(agentSettings{"web-1", agent.URL, "tok"})
	inst, err := NewApp(context.Background(), backend.AppInstanceSettings{JSONData: jsonData, DecryptedSecureJSONData: secure})
	if err != nil {
		t.Fatal(err)
	}
	viewer := &backend.User{Login: "vi", Role: "Viewer"}
	for _, c := range []struct {
		user         *backend.User
		method, path string
		status       int
		want         string
	}{
		{viewer, "POST", "agents/web-1/probes/deep", 403, `needs the Editor or Admin role in Grafana (vi is a Viewer)`},
		{viewer, "DELETE", "agents/web-1/probes/deep/abc", 403, `Editor or Admin`},
		{nil, "POST", "agents/web-1/probes/deep", 403, `(no user)`},
		{viewer, "GET", "agents/web-1/status", 200, `"binaries":[`},
		// An empty body (which the SDK passes as none) is a bad request, not a crash.
		{&backend.User{Login: "ad", Role: "Admin"}, "POST", "agents/web-1/probes/deep", 400, `deep mode request: EOF`},
	} {
		status, body := callAppAs(t, inst.(*App), c.user, c.method, c.path, "")
		if status != c.status || !strings.Contains(body, c.want) {
			t.Errorf("%v %s %s: %d %s, want %d and %q", c.user, c.method, c.path, status, body, c.status, c.want)
		}
	}
}

func TestBadSettingsAreTheHealthAnswer(t *testing.T) {
	r := NewRouter()
	res, err := r.CheckHealth(context.Background(), &backend.CheckHealthRequest{PluginContext: backend.PluginContext{
		DataSourceInstanceSettings: &backend.DataSourceInstanceSettings{Name: "Tusk", JSONData: []byte(`{"agents":[{"name":"a","url":"nope"}]}`)}}})
	if err != nil || res.Status != backend.HealthStatusError || !strings.Contains(res.Message, `agent "a": URL "nope"`) {
		t.Errorf("%v %+v", err, res)
	}
	if _, err := r.QueryData(context.Background(), &backend.QueryDataRequest{PluginContext: backend.PluginContext{
		AppInstanceSettings: &backend.AppInstanceSettings{JSONData: []byte(`{}`)}}}); err == nil || !strings.Contains(err.Error(), "not to the app") {
		t.Errorf("query to the app: %v", err)
	}
}
