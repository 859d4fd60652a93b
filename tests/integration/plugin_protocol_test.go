//go:build integration

package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/tusk-php/tusk/pkg/agentapi"
	"github.com/tusk-php/tusk/pkg/trace"
	"github.com/tusk-php/tusk/tests/plugingrpc"
	"github.com/tusk-php/tusk/tests/stack"
)

// TestPluginBackendOverGrafanaProtocol builds the real gpx_php executable
// with the Magefile, starts it the way Grafana does (go-plugin handshake,
// gRPC) and drives the app and the datasource against a running agent
// attached to real php-fpm, MariaDB and nginx: health, resources (fleet,
// test connection, deep mode on and off), every query type, and bad input,
// a dead agent and a wrong token in the same requests.
func TestPluginBackendOverGrafanaProtocol(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
	defer cancel()
	exe, err := plugingrpc.Build(ctx, repoRoot())
	if err != nil {
		t.Fatal(err)
	}
	// USE_ZEND_DTRACE=1 so that deep mode can really be switched on.
	s := startFixture(t, stack.StackOptions{FPMEnv: []string{"USE_ZEND_DTRACE=1"}, WithMariaDB: true})
	a := startAgent(t, s, "--profile-hz", "499")

	start := time.Now().Add(-time.Second)
	for _, path := range []string{"/io/sql.php", "/burn.php?ms=200", "/error.php"} {
		get(t, s, path)
	}
	sqlTrace := waitPath(t, a, "/io/sql.php", start)
	burnTrace := waitPath(t, a, "/burn.php", start)
	waitPath(t, a, "/error.php", start)

	p, err := plugingrpc.Start(ctx, exe)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if t.Failed() {
			t.Logf("plugin output:\n%s", p.Stderr())
		}
		if err := p.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	}()

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadURL := "http://" + l.Addr().String()
	l.Close()

	settings := func(agents ...[3]string) ([]byte, map[string]string) {
		var list []map[string]string
		secure := map[string]string{}
		for _, ag := range agents {
			list = append(list, map[string]string{"name": ag[0], "url": ag[1]})
			secure["token."+ag[0]] = ag[2]
		}
		b, _ := json.Marshal(map[string]any{"agents": list, "timeoutSeconds": 5})
		return b, secure
	}
	webJSON, webSecure := settings([3]string{"web-1", a.url, a.token})
	// Grafana names the signed-in user in every call; changing probes needs an Editor.
	appCtx := backend.PluginContext{PluginID: "tusk-php-app", User: &backend.User{Login: "ed", Role: "Editor"},
		AppInstanceSettings: &backend.AppInstanceSettings{JSONData: webJSON, DecryptedSecureJSONData: webSecure}}
	dsCtx := backend.PluginContext{PluginID: "tusk-php-datasource",
		DataSourceInstanceSettings: &backend.DataSourceInstanceSettings{ID: 1, UID: "tusk", Name: "Tusk", JSONData: webJSON, DecryptedSecureJSONData: webSecure}}

	t.Run("health", func(t *testing.T) {
		for name, pc := range map[string]backend.PluginContext{"app": appCtx, "datasource": dsCtx} {
			res, err := p.CheckHealth(ctx, &backend.CheckHealthRequest{PluginContext: pc})
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != backend.HealthStatusOk || !strings.Contains(res.Message, "1 of 1 agents answered") || !strings.Contains(res.Message, "usdt") {
				t.Errorf("%s health: %s %q", name, res.Status, res.Message)
			}
		}
		badJSON, badSecure := settings([3]string{"web-1", a.url, "wrong"}, [3]string{"dead", deadURL, "x"})
		res, err := p.CheckHealth(ctx, &backend.CheckHealthRequest{PluginContext: backend.PluginContext{
			AppInstanceSettings: &backend.AppInstanceSettings{JSONData: badJSON, DecryptedSecureJSONData: badSecure, Updated: time.Now()}}})
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != backend.HealthStatusError || !strings.Contains(res.Message, "0 of 2 agents answered") ||
			!strings.Contains(res.Message, "refused the token") || !strings.Contains(res.Message, "no connection to "+deadURL) {
			t.Errorf("bad settings health: %s %q", res.Status, res.Message)
		}
	})

	call := func(t *testing.T, method, path, body string) (int, string) {
		t.Helper()
		resp, err := p.CallResource(ctx, &backend.CallResourceRequest{PluginContext: appCtx, Method: method, Path: path, URL: path, Body: []byte(body)})
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(resp.Body), a.token) {
			t.Errorf("%s %s: the agent's token reached the browser: %s", method, path, resp.Body)
		}
		return resp.Status, string(resp.Body)
	}

	t.Run("resources", func(t *testing.T) {
		if code, body := call(t, "GET", "agents", ""); code != 200 || !strings.Contains(body, `"name":"web-1"`) || !strings.Contains(body, `"hasToken":true`) {
			t.Errorf("agents: %d %s", code, body)
		}
		if code, body := call(t, "GET", "agents/web-1/check", ""); code != 200 || !strings.Contains(body, `"ok":true`) {
			t.Errorf("check: %d %s", code, body)
		}
		if code, body := call(t, "GET", "agents/nope/check", ""); code != 404 || !strings.Contains(body, `no agent is called \"nope\"`) {
			t.Errorf("check of an unknown agent: %d %s", code, body)
		}
		code, body := call(t, "GET", "fleet", "")
		var fleetView struct {
			Agents []struct {
				Name   string           `json:"name"`
				OK     bool             `json:"ok"`
				Status *agentapi.Status `json:"status"`
			} `json:"agents"`
		}
		if code != 200 || json.Unmarshal([]byte(body), &fleetView) != nil || len(fleetView.Agents) != 1 || !fleetView.Agents[0].OK {
			t.Fatalf("fleet: %d %s", code, body)
		}
		st := fleetView.Agents[0].Status
		if len(st.Binaries) == 0 || st.Binaries[0].Mode != "usdt" || len(st.Binaries[0].Pools) == 0 {
			t.Errorf("fleet status of web-1: %+v", st)
		}

		// Deep mode through the app, as its Probes page will do it.
		code, body = call(t, "POST", "agents/web-1/probes/deep", `{"pool":"fixture","threshold":"1ns","for":"1m"}`)
		var grant agentapi.DeepMode
		if code != http.StatusCreated || json.Unmarshal([]byte(body), &grant) != nil || grant.ID == "" || len(grant.AttachedPIDs) == 0 {
			t.Fatalf("enable deep mode: %d %s", code, body)
		}
		if code, body := call(t, "GET", "agents/web-1/probes/deep", ""); code != 200 || !strings.Contains(body, grant.ID) {
			t.Errorf("deep modes: %d %s", code, body)
		}
		before := time.Now()
		get(t, s, "/calls.php?n=3")
		deep := waitPath(t, a, "/calls.php", before)
		if full, err := a.client.Trace(ctx, deep); err != nil || len(full.Spans) < 4 {
			t.Errorf("deep mode on through the plugin, but the trace has %v spans (%v)", spanCount(full), err)
		}
		if code, body := call(t, "DELETE", "agents/web-1/probes/deep/"+grant.ID, ""); code != http.StatusNoContent {
			t.Errorf("disable deep mode: %d %s", code, body)
		}
		if code, body := call(t, "DELETE", "agents/web-1/probes/deep/"+grant.ID, ""); code != 404 {
			t.Errorf("disable it again: %d %s, want the agent's 404", code, body)
		}
		if code, body := call(t, "POST", "agents/web-1/probes/deep", `{"pool":"fixture","for":"forever"}`); code != 400 {
			t.Errorf("bad deep mode request: %d %s", code, body)
		}
	})

	window := backend.TimeRange{From: start.Add(-time.Minute), To: time.Now().Add(time.Minute)}
	a.waitFunctionTraces(t, agentapi.FunctionTracesQuery{Function: "burn", Traces: trace.Query{Start: window.From, End: window.To}}, 1)
	// The hour before the agent started: an empty baseline.
	baseline := fmt.Sprintf(`"baselineFrom":%d,"baselineTo":%d`, start.Add(-2*time.Hour).UnixMilli(), start.Add(-time.Hour).UnixMilli())
	q := func(ref, queryType, model string) backend.DataQuery {
		return backend.DataQuery{RefID: ref, QueryType: queryType, TimeRange: window, JSON: []byte(model), Interval: 10 * time.Second, MaxDataPoints: 500}
	}
	t.Run("queries", func(t *testing.T) {
		resp, err := p.QueryData(ctx, &backend.QueryDataRequest{PluginContext: dsCtx, Queries: []backend.DataQuery{
			q("search", "search", `{"limit":20}`),
			q("trace", "trace", `{"traceId":"`+sqlTrace.String()+`"}`),
			q("flame", "flamegraph", `{"traceId":"`+burnTrace.String()+`"}`),
			q("flameRange", "flamegraph", `{"pool":"fixture"}`),
			q("flameDiff", "flamegraph", `{"pool":"fixture",`+baseline+`}`),
			q("hot", "search", `{"function":"burn"}`),
			q("metrics", "metrics", `{"groupBy":"endpoint","metrics":["requests","errors","p95"]}`),
			q("json", "search", `{"limit":`),
			q("type", "logs", `{}`),
			{RefID: "range", QueryType: "search", TimeRange: backend.TimeRange{From: window.To, To: window.From}, JSON: []byte(`{}`)},
			q("unknown", "trace", `{"traceId":"0123456789abcdef0123456789abcdef"}`),
		}})
		if err != nil {
			t.Fatal(err)
		}
		ok := func(ref string) *data.Frame {
			dr := resp.Responses[ref]
			if dr.Error != nil || len(dr.Frames) == 0 {
				t.Fatalf("%s: %v (%d frames)", ref, dr.Error, len(dr.Frames))
			}
			return dr.Frames[0]
		}
		search := ok("search")
		if table, err := search.StringTable(8, 6); err == nil {
			t.Logf("search frame:\n%s", table)
		}
		names, _ := search.FieldByName("traceName")
		nPlusOne, _ := search.FieldByName("nPlusOne")
		found := false
		for i := 0; i < names.Len(); i++ {
			if names.At(i) == "GET /io/sql.php" && nPlusOne.At(i).(int64) > 0 {
				found = true
			}
		}
		if !found {
			t.Errorf("search has no /io/sql.php row with its N+1 flag")
		}

		tr := ok("trace")
		if table, err := tr.StringTable(8, 8); err == nil {
			t.Logf("trace frame:\n%s", table)
		}
		if tr.Meta.PreferredVisualization != data.VisTypeTrace {
			t.Errorf("trace frame meta %+v", tr.Meta)
		}
		ops, _ := tr.FieldByName("operationName")
		tags, _ := tr.FieldByName("tags")
		callSite := false
		for i := 0; i < ops.Len(); i++ {
			if strings.HasPrefix(ops.At(i).(string), "SELECT") && strings.Contains(string(tags.At(i).(json.RawMessage)), `"code.function.name"`) {
				callSite = true
			}
		}
		if ops.Len() < 5 || !callSite {
			t.Errorf("trace frame: %d spans, SQL span with call site: %v", ops.Len(), callSite)
		}

		hot := ok("hot")
		ids, _ := hot.FieldByName("traceID")
		cpu, _ := hot.FieldByName("functionCpu")
		if ids == nil || cpu == nil || ids.Len() != 1 || ids.At(0) != burnTrace.String() || cpu.At(0).(float64) < 50 {
			t.Errorf("function search for burn: want the /burn.php request with ≥ 50 ms in burn(), got %v %v", ids, cpu)
		}
		diff := ok("flameDiff")
		value, _ := diff.FieldByName("value")
		right, _ := diff.FieldByName("valueRight")
		labels, _ := diff.FieldByName("label")
		if right == nil || value.At(0) != int64(0) || right.At(0).(int64) == 0 || !fieldHas(labels, "burn") ||
			len(diff.Meta.Notices) == 0 || !strings.Contains(diff.Meta.Notices[0].Text, "baseline") {
			t.Errorf("diff against an empty baseline: value %v, valueRight %v, labels %v, notices %+v", value, right, labels, diff.Meta.Notices)
		}

		for _, ref := range []string{"flame", "flameRange"} {
			fg := ok(ref)
			labels, _ := fg.FieldByName("label")
			if fg.Meta.PreferredVisualization != data.VisTypeFlameGraph || !fieldHas(labels, "burn") {
				t.Errorf("%s: flame graph without burn(): %v", ref, labels)
			}
		}

		dr := resp.Responses["metrics"]
		if dr.Error != nil {
			t.Fatalf("metrics: %v", dr.Error)
		}
		var sqlRate float64
		for _, f := range dr.Frames {
			v := f.Fields[1]
			if f.Name == "requests" && v.Labels["endpoint"] == "GET /io/sql.php" {
				for i := 0; i < v.Len(); i++ {
					sqlRate += v.At(i).(float64)
				}
			}
		}
		if sqlRate <= 0 {
			t.Errorf("no requests/s series for GET /io/sql.php in %d frames", len(dr.Frames))
		}

		for ref, want := range map[string]string{
			"json":    "not valid JSON",
			"type":    `unknown query type "logs"`,
			"range":   "ends",
			"unknown": "was not found on agent web-1",
		} {
			if dr := resp.Responses[ref]; dr.Error == nil || !strings.Contains(dr.Error.Error(), want) {
				t.Errorf("%s: %v, want an error with %q", ref, dr.Error, want)
			}
		}
	})

	t.Run("partial", func(t *testing.T) {
		mixedJSON, mixedSecure := settings([3]string{"web-1", a.url, a.token}, [3]string{"dead", deadURL, "x"}, [3]string{"wrong", a.url, "nope"})
		mixed := backend.PluginContext{DataSourceInstanceSettings: &backend.DataSourceInstanceSettings{
			ID: 2, UID: "mixed", Name: "mixed", JSONData: mixedJSON, DecryptedSecureJSONData: mixedSecure}}
		resp, err := p.QueryData(ctx, &backend.QueryDataRequest{PluginContext: mixed, Queries: []backend.DataQuery{q("A", "search", `{}`)}})
		if err != nil {
			t.Fatal(err)
		}
		dr := resp.Responses["A"]
		if dr.Error != nil || len(dr.Frames) != 1 {
			t.Fatalf("partial search: %v", dr.Error)
		}
		var notices []string
		for _, n := range dr.Frames[0].Meta.Notices {
			notices = append(notices, n.Text)
		}
		all := strings.Join(notices, "\n")
		if n, _ := dr.Frames[0].RowLen(); n == 0 || !strings.Contains(all, "agent dead: no connection") || !strings.Contains(all, "agent wrong: the agent at") {
			t.Errorf("rows %d, notices %q", n, all)
		}
	})
}

func waitPath(t *testing.T, a *agentProc, path string, since time.Time) trace.TraceID {
	t.Helper()
	for _, sum := range a.waitTraces(t, trace.Query{PathPrefix: path, Start: since}, 1) {
		if sum.Path == path {
			return sum.TraceID
		}
	}
	t.Fatalf("no trace of %s", path)
	return trace.TraceID{}
}

func spanCount(t *trace.Trace) int {
	if t == nil {
		return 0
	}
	return len(t.Spans)
}

func fieldHas(f *data.Field, want string) bool {
	if f == nil {
		return false
	}
	for i := 0; i < f.Len(); i++ {
		if f.At(i) == want {
			return true
		}
	}
	return false
}
