package grafanashim

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// queryAnswer is what toDataQueryResponse reads.
type queryAnswer struct {
	Results map[string]struct {
		Status int               `json:"status"`
		Error  string            `json:"error"`
		Frames []json.RawMessage `json:"frames"`
	} `json:"results"`
}

// runtimeBody is a body as DataSourceWithBackend.query posts it.
func runtimeBody(from, to time.Time, queries ...string) string {
	return fmt.Sprintf(`{"queries":[%s],"from":"%d","to":"%d"}`, strings.Join(queries, ","), from.UnixMilli(), to.UnixMilli())
}

func searchQuery(ref, extra string) string {
	return `{"refId":"` + ref + `","datasource":{"type":"tusk-php-datasource","uid":"tusk"},"datasourceId":1,` +
		`"queryType":"search","limit":20` + extra + `,"intervalMs":10000,"maxDataPoints":500}`
}

// TestQueryOverThePlugin: a search reaches gpx_php with the datasource's
// settings and token (the replayed agent checks it) and comes back as
// frames; a query naming an unknown agent gets its own error, and then the
// answer is HTTP 400 with both results in the body, as Grafana sends it.
func TestQueryOverThePlugin(t *testing.T) {
	s := startShim(t, startReplayAgent(t), "")
	to := time.Now()
	from := to.Add(-24 * 365 * time.Hour)

	code, _, body := s.do("POST", "/api/ds/query?ds_type=tusk-php-datasource", runtimeBody(from, to, searchQuery("A", "")))
	got := decode[queryAnswer](t, body)
	if a := got.Results["A"]; code != 200 || a.Status != 200 || a.Error != "" || len(a.Frames) == 0 {
		t.Fatalf("search: %d %.400s", code, body)
	}

	code, _, body = s.do("POST", "/api/ds/query", runtimeBody(from, to, searchQuery("A", ""), searchQuery("B", `,"agent":"nope"`)))
	got = decode[queryAnswer](t, body)
	a, b := got.Results["A"], got.Results["B"]
	if code != 400 || len(a.Frames) == 0 || a.Error != "" || !strings.Contains(b.Error, `no agent is called "nope"`) || b.Status < 400 {
		t.Errorf("one bad query: %d A=%d frames %q, B=%d %q", code, len(a.Frames), a.Error, b.Status, b.Error)
	}
}

// TestQueryRequestShape checks the QueryDataRequest against what Grafana's
// query service builds from the same body.
func TestQueryRequestShape(t *testing.T) {
	f := &fakePlugin{}
	s := startFakeShim(t, f, "")
	from, to := time.UnixMilli(1700000000000).UTC(), time.UnixMilli(1700003600000).UTC()
	q1 := searchQuery("A", "")
	q2 := `{"datasource":{"uid":"tusk"},"queryType":"trace","traceId":"abc","timeRange":{"from":"1600000000000","to":"1600000060000"}}`
	q3 := `{"refId":"C","datasource":{"uid":"other","type":"tusk-php-datasource"},"queryType":"metrics"}`
	if code, _, body := s.do("POST", "/api/ds/query", runtimeBody(from, to, q1, q2, q3)); code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	if len(f.queries) != 2 {
		t.Fatalf("%d QueryData calls, want one per datasource", len(f.queries))
	}
	byUID := map[string]int{}
	for i, req := range f.queries {
		byUID[req.PluginContext.DataSourceInstanceSettings.UID] = i
	}
	tusk, other := f.queries[byUID["tusk"]], f.queries[byUID["other"]]
	ds := tusk.PluginContext.DataSourceInstanceSettings
	if ds.ID != 1 || ds.Name != "Tusk" || ds.DecryptedSecureJSONData["token.web-1"] != secret || !strings.Contains(string(ds.JSONData), "web-1") ||
		tusk.PluginContext.PluginID != DatasourceID || tusk.PluginContext.AppInstanceSettings != nil {
		t.Errorf("tusk's plugin context: %+v %+v", tusk.PluginContext, ds)
	}
	if len(tusk.Queries) != 2 || len(other.Queries) != 1 || other.Queries[0].RefID != "C" {
		t.Fatalf("grouping: tusk %+v other %+v", tusk.Queries, other.Queries)
	}
	a, b := tusk.Queries[0], tusk.Queries[1]
	if a.RefID != "A" || a.QueryType != "search" || a.Interval != 10*time.Second || a.MaxDataPoints != 500 ||
		!a.TimeRange.From.Equal(from) || !a.TimeRange.To.Equal(to) || string(a.JSON) != q1 {
		t.Errorf("query A: %+v", a)
	}
	// Grafana's defaults, and the per-query range.
	if b.RefID != "A" || b.Interval != time.Second || b.MaxDataPoints != 100 || b.TimeRange.From.UnixMilli() != 1600000000000 || string(b.JSON) != q2 {
		t.Errorf("query without refId/interval, with its own range: %+v", b)
	}
}

func TestQueryErrors(t *testing.T) {
	f := &fakePlugin{}
	s := startFakeShim(t, f, "")
	now := time.Now()
	for _, tc := range []struct {
		name, body string
		code       int
	}{
		{"not JSON", `{"queries":`, 400},
		{"no queries", runtimeBody(now, now), 400},
		{"no datasource", runtimeBody(now, now, `{"refId":"A"}`), 400},
		{"expression", runtimeBody(now, now, `{"refId":"A","datasource":{"uid":"__expr__"}}`), 400},
		{"unknown datasource", runtimeBody(now, now, `{"refId":"A","datasource":{"uid":"nope"}}`), 404},
		{"bad time", `{"from":"yesterday","queries":[{"datasource":"tusk"}]}`, 400},
	} {
		code, _, body := s.do("POST", "/api/ds/query", tc.body)
		if code != tc.code || decode[struct{ Message string }](t, body).Message == "" {
			t.Errorf("%s: %d %s, want %d with a message", tc.name, code, body, tc.code)
		}
	}
	if len(f.queries) != 0 {
		t.Errorf("bad requests reached the plugin: %d", len(f.queries))
	}

	// The plugin not answering fails each of its queries, not the request.
	f.queryErr = errors.New("connection reset")
	code, _, body := s.do("POST", "/api/ds/query", runtimeBody(now, now, searchQuery("A", "")))
	got := decode[queryAnswer](t, body)
	if code != 400 || got.Results["A"].Status != 500 || !strings.Contains(got.Results["A"].Error, "connection reset") {
		t.Errorf("plugin error: %d %s", code, body)
	}
}

func TestParseTime(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"1700000000123":        time.UnixMilli(1700000000123),
		"now":                  now,
		"now-6h":               now.Add(-6 * time.Hour),
		"now-15m":              now.Add(-15 * time.Minute),
		"now+1d":               now.Add(24 * time.Hour),
		"2026-01-02T03:04:05Z": time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
	} {
		got, err := parseTime(in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("parseTime(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "now-", "now-6x", "yesterday"} {
		if _, err := parseTime(bad, now); err == nil {
			t.Errorf("parseTime(%q): no error", bad)
		}
	}
}
