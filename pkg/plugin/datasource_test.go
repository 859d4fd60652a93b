package plugin

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/grafana/grafana-plugin-sdk-go/experimental"

	"github.com/tusk-php/tusk/pkg/agentapi"
	"github.com/tusk-php/tusk/pkg/trace"
)

var updateGoldens = flag.Bool("update", false, "rewrite testdata/frames/*.jsonc from the recorded agent answers")

const goldenDir = "testdata/frames"

func newTestDatasource(t *testing.T, agents ...agentSettings) *Datasource {
	t.Helper()
	jsonData, secure := settingsFor(agents...)
	inst, err := NewDatasource(context.Background(), backend.DataSourceInstanceSettings{
		UID: "tusk-uid", Name: "Tusk", JSONData: jsonData, DecryptedSecureJSONData: secure,
	})
	if err != nil {
		t.Fatal(err)
	}
	return inst.(*Datasource)
}

// recordingWindow is a time range that holds every recorded trace.
func recordingWindow(t *testing.T) backend.TimeRange {
	var s agentapi.SearchResponse
	if err := json.Unmarshal(readRecorded(t, "search.json"), &s); err != nil {
		t.Fatal(err)
	}
	last := s.Traces[0].Start()
	for _, sum := range s.Traces {
		if sum.Start().After(last) {
			last = sum.Start()
		}
	}
	return backend.TimeRange{From: last.Add(-5 * time.Minute).Truncate(time.Minute), To: last.Add(time.Minute).Truncate(time.Minute)}
}

func dataQuery(refID, queryType string, tr backend.TimeRange, model string) backend.DataQuery {
	return backend.DataQuery{RefID: refID, QueryType: queryType, TimeRange: tr, JSON: []byte(model),
		Interval: 10 * time.Second, MaxDataPoints: 1000}
}

func queryOne(t *testing.T, ds *Datasource, dq backend.DataQuery) backend.DataResponse {
	t.Helper()
	resp, err := ds.QueryData(context.Background(), &backend.QueryDataRequest{Queries: []backend.DataQuery{dq}})
	if err != nil {
		t.Fatal(err)
	}
	return resp.Responses[dq.RefID]
}

// baselineBefore is a flamegraph query model whose baseline is the hour
// before the window.
func baselineBefore(w backend.TimeRange) string {
	return fmt.Sprintf(`{"baselineFrom":%d,"baselineTo":%d}`, w.From.Add(-time.Hour).UnixMilli(), w.From.UnixMilli())
}

func recordedTraceID(t *testing.T, path string) string {
	var s agentapi.SearchResponse
	json.Unmarshal(readRecorded(t, "search.json"), &s)
	for _, sum := range s.Traces {
		if sum.Path == path {
			return sum.TraceID.String()
		}
	}
	t.Fatalf("no recorded trace of %s", path)
	return ""
}

// TestGoldenFrames: every query type over the recorded answers of a real
// agent gives the frames in testdata/frames (run with -update to rewrite
// them after a deliberate change, and read the diff).
func TestGoldenFrames(t *testing.T) {
	agent := startRecordedAgent(t, "tok")
	ds := newTestDatasource(t, agentSettings{"web-1", agent.URL, "tok"})
	window := recordingWindow(t)
	for name, dq := range map[string]backend.DataQuery{
		"search":          dataQuery("A", "search", window, `{"limit":50}`),
		"trace-sql":       dataQuery("A", "trace", window, `{"traceId":"`+recordedTraceID(t, "/io/sql.php")+`"}`),
		"trace-exception": dataQuery("A", "trace", window, `{"traceId":"`+recordedTraceID(t, "/caught.php")+`"}`),
		"trace-error":     dataQuery("A", "trace", window, `{"traceId":"`+recordedTraceID(t, "/error.php")+`"}`),
		"flamegraph":      dataQuery("A", "flamegraph", window, `{"traceId":"`+burnTraceID(t)+`"}`),
		"metrics":         dataQuery("A", "metrics", window, `{"groupBy":"endpoint"}`),
		"search-function": dataQuery("A", "search", window, `{"function":"`+recordedHotFunction+`","limit":20}`),
		"flamegraph-diff": dataQuery("A", "flamegraph", window, baselineBefore(window)),
	} {
		t.Run(name, func(t *testing.T) {
			dr := queryOne(t, ds, dq)
			if dr.Error != nil {
				t.Fatalf("query failed: %v", dr.Error)
			}
			experimental.CheckGoldenJSONResponse(t, goldenDir, name, &dr, *updateGoldens)
		})
	}
}

// TestTraceFrameHasTheShapeTraceViewReads checks the trace frame against
// the fields of @grafana/data's TraceSpanRow, and the SQL span's content.
func TestTraceFrameHasTheShapeTraceViewReads(t *testing.T) {
	agent := startRecordedAgent(t, "tok")
	ds := newTestDatasource(t, agentSettings{"web-1", agent.URL, "tok"})
	id := recordedTraceID(t, "/io/sql.php")
	dr := queryOne(t, ds, dataQuery("A", "trace", recordingWindow(t), `{"traceId":"  `+strings.ToUpper(id)+` "}`))
	if dr.Error != nil {
		t.Fatal(dr.Error)
	}
	f := dr.Frames[0]
	if f.Meta == nil || f.Meta.PreferredVisualization != data.VisTypeTrace {
		t.Errorf("meta %+v", f.Meta)
	}
	types := map[string]data.FieldType{
		"traceID": data.FieldTypeString, "spanID": data.FieldTypeString, "parentSpanID": data.FieldTypeString,
		"operationName": data.FieldTypeString, "serviceName": data.FieldTypeString, "serviceTags": data.FieldTypeJSON,
		"startTime": data.FieldTypeFloat64, "duration": data.FieldTypeFloat64, "logs": data.FieldTypeJSON,
		"references": data.FieldTypeJSON, "tags": data.FieldTypeJSON, "kind": data.FieldTypeString,
		"statusCode": data.FieldTypeInt64, "statusMessage": data.FieldTypeString,
		"instrumentationLibraryName": data.FieldTypeString, "instrumentationLibraryVersion": data.FieldTypeString,
		"stackTraces": data.FieldTypeJSON, "warnings": data.FieldTypeJSON,
	}
	for name, want := range types {
		field, _ := f.FieldByName(name)
		if field == nil || field.Type() != want {
			t.Errorf("field %s: %v, want type %s", name, field, want)
		}
	}
	rows, _ := f.RowLen()
	var recorded trace.Trace
	json.Unmarshal(readRecorded(t, "trace-sql.json"), &recorded)
	if rows != len(recorded.Spans) {
		t.Fatalf("%d rows for %d spans", rows, len(recorded.Spans))
	}
	col := func(name string, i int) any { fld, _ := f.FieldByName(name); return fld.At(i) }
	if col("parentSpanID", 0) != "" || col("kind", 0) != "server" {
		t.Errorf("root: parent %q kind %q", col("parentSpanID", 0), col("kind", 0))
	}
	sawFailedSQL := false
	for i := 1; i < rows; i++ {
		if col("parentSpanID", i) == "" {
			t.Errorf("span %d has no parent", i)
		}
		var tags []struct {
			Key   string `json:"key"`
			Value any    `json:"value"`
		}
		json.Unmarshal(col("tags", i).(json.RawMessage), &tags)
		tagMap := map[string]any{}
		for _, kv := range tags {
			tagMap[kv.Key] = kv.Value
		}
		if col("kind", i) == "client" && tagMap["db.system.name"] == "mysql" {
			if tagMap["code.function.name"] == nil || tagMap["code.line.number"] == nil {
				t.Errorf("SQL span %d lacks its PHP call site: %v", i, tagMap)
			}
			if col("statusCode", i) == int64(2) {
				sawFailedSQL = true
			}
			var stack []string
			json.Unmarshal(col("stackTraces", i).(json.RawMessage), &stack)
			if len(stack) != 1 || !strings.Contains(stack[0], ".php:") {
				t.Errorf("SQL span %d stack %q", i, stack)
			}
		}
	}
	if !sawFailedSQL {
		t.Error("the failing query (no_such_table) is not an error span")
	}
}

// TestOneBadQueryDoesNotSpoilTheOthers: each bad query gets its own clear
// error while the good one in the same request is answered.
func TestOneBadQueryDoesNotSpoilTheOthers(t *testing.T) {
	agent := startRecordedAgent(t, "tok")
	ds := newTestDatasource(t, agentSettings{"web-1", agent.URL, "tok"})
	w := recordingWindow(t)
	backwards := backend.TimeRange{From: w.To, To: w.From}
	queries := []backend.DataQuery{
		dataQuery("good", "search", w, `{}`),
		dataQuery("json", "", w, `{"queryType":`),
		dataQuery("type", "sql", w, `{}`),
		dataQuery("range", "search", backwards, `{}`),
		dataQuery("noid", "trace", w, `{"traceId":""}`),
		dataQuery("badid", "trace", w, `{"traceId":"xyz"}`),
		dataQuery("unknown", "trace", w, `{"traceId":"0123456789abcdef0123456789abcdef"}`),
		dataQuery("duration", "search", w, `{"minDuration":"fast"}`),
		dataQuery("status", "search", w, `{"status":42}`),
		dataQuery("agent", "search", w, `{"agent":"nope"}`),
		dataQuery("groupBy", "metrics", w, `{"groupBy":"host"}`),
		dataQuery("metric", "metrics", w, `{"metrics":["p42"]}`),
		dataQuery("baselineAlone", "flamegraph", w, `{"baselineFrom":1764061200000}`),
		dataQuery("baselineBackwards", "flamegraph", w, `{"baselineFrom":1764061200000,"baselineTo":1764061100000}`),
		dataQuery("baselineOfTrace", "flamegraph", w, `{"traceId":"`+burnTraceID(t)+`",`+baselineBefore(w)[1:]),
		dataQuery("functionStatus", "search", w, `{"function":"burn","status":42}`),
	}
	resp, err := ds.QueryData(context.Background(), &backend.QueryDataRequest{Queries: queries})
	if err != nil {
		t.Fatal(err)
	}
	if dr := resp.Responses["good"]; dr.Error != nil || len(dr.Frames) != 1 {
		t.Errorf("good query: %v", dr.Error)
	}
	for ref, want := range map[string]string{
		"json":              "not valid JSON",
		"type":              `unknown query type "sql"`,
		"range":             "ends",
		"noid":              "enter a trace id",
		"badid":             `trace id "xyz": want 32 hexadecimal digits`,
		"unknown":           "was not found on agent web-1",
		"duration":          `minDuration "fast"`,
		"status":            "status 42 is not an HTTP status code",
		"agent":             `no agent is called "nope"`,
		"groupBy":           `groupBy "host"`,
		"metric":            `metric "p42"`,
		"baselineAlone":     "baselineFrom and baselineTo: give both",
		"baselineBackwards": "baselineTo (1764061100000) must be after baselineFrom (1764061200000)",
		"baselineOfTrace":   "a baseline compares time ranges",
		"functionStatus":    "status 42 is not an HTTP status code",
	} {
		dr := resp.Responses[ref]
		if dr.Error == nil || !strings.Contains(dr.Error.Error(), want) {
			t.Errorf("%s: error %v, want %q", ref, dr.Error, want)
			continue
		}
		if dr.Status != backend.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", ref, dr.Status)
		}
	}
}

// TestFailingAgentsGivePartialResultsWithNotices: of three agents, one is
// down and one refuses the token; the third's results come back with a
// notice per failure. When all fail, the error says why for each.
func TestFailingAgentsGivePartialResultsWithNotices(t *testing.T) {
	good := startRecordedAgent(t, "tok")
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	down := "http://" + l.Addr().String()
	l.Close()
	ds := newTestDatasource(t,
		agentSettings{"web-1", good.URL, "tok"},
		agentSettings{"web-2", down, "tok"},
		agentSettings{"web-3", good.URL, "wrong"},
	)
	w := recordingWindow(t)
	for _, dq := range []backend.DataQuery{
		dataQuery("search", "search", w, `{}`),
		dataQuery("trace", "trace", w, `{"traceId":"`+recordedTraceID(t, "/io/sql.php")+`"}`),
		dataQuery("flamegraph", "flamegraph", w, `{}`),
		dataQuery("metrics", "metrics", w, `{}`),
	} {
		dr := queryOne(t, ds, dq)
		if dr.Error != nil {
			t.Errorf("%s: %v", dq.RefID, dr.Error)
			continue
		}
		notices := dr.Frames[0].Meta.Notices
		text := ""
		for _, n := range notices {
			text += n.Text + "\n"
		}
		if !strings.Contains(text, "agent web-2: ") || !strings.Contains(text, "agent web-3: ") || !strings.Contains(text, "refused the token") {
			t.Errorf("%s: notices %q", dq.RefID, text)
		}
		if n, _ := dr.Frames[0].RowLen(); n == 0 {
			t.Errorf("%s: no rows from the agent that answered", dq.RefID)
		}
	}

	allDown := newTestDatasource(t, agentSettings{"web-2", down, "tok"}, agentSettings{"web-3", good.URL, "wrong"})
	dr := queryOne(t, allDown, dataQuery("A", "search", w, `{}`))
	if dr.Error == nil || dr.Status != backend.StatusBadGateway ||
		!strings.Contains(dr.Error.Error(), "web-2: no connection to") || !strings.Contains(dr.Error.Error(), "web-3: the agent at") {
		t.Errorf("all agents failing: %d %v", dr.Status, dr.Error)
	}
}

// TestTwoAgentsMergeIntoOneList: the same recordings on two agents are one
// list sorted by start, limited as asked.
func TestTwoAgentsMergeIntoOneList(t *testing.T) {
	a := startRecordedAgent(t, "tok")
	b := startRecordedAgent(t, "tok2")
	ds := newTestDatasource(t, agentSettings{"web-1", a.URL, "tok"}, agentSettings{"web-2", b.URL, "tok2"})
	dr := queryOne(t, ds, dataQuery("A", "search", recordingWindow(t), `{"limit":7,"order":"slowest"}`))
	if dr.Error != nil {
		t.Fatal(dr.Error)
	}
	f := dr.Frames[0]
	if n, _ := f.RowLen(); n != 7 {
		t.Fatalf("%d rows, want the limit 7", n)
	}
	dur, _ := f.FieldByName("traceDuration")
	for i := 1; i < 7; i++ {
		if dur.At(i).(float64) > dur.At(i-1).(float64) {
			t.Errorf("row %d is slower than row %d", i, i-1)
		}
	}
	if dur.At(0) != dur.At(1) {
		t.Errorf("the slowest trace, held by both agents, should come twice: %v %v", dur.At(0), dur.At(1))
	}
	id, _ := f.FieldByName("traceID")
	link := id.Config.Links[0].Internal
	if link.DatasourceUID != "tusk-uid" {
		t.Errorf("search row links to datasource %q", link.DatasourceUID)
	}
	q, _ := json.Marshal(link.Query)
	if string(q) != `{"queryType":"trace","traceId":"${__value.raw}"}` {
		t.Errorf("search row link query %s", q)
	}
}

func TestCheckHealthReportsEachAgent(t *testing.T) {
	good := startRecordedAgent(t, "tok")
	ds := newTestDatasource(t, agentSettings{"web-1", good.URL, "tok"}, agentSettings{"web-3", good.URL, ""})
	res, err := ds.CheckHealth(context.Background(), &backend.CheckHealthRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != backend.HealthStatusError || !strings.Contains(res.Message, "1 of 2 agents answered") ||
		!strings.Contains(res.Message, "web-1: OK, agent ") || !strings.Contains(res.Message, "web-3: FAILED, the agent at") {
		t.Errorf("%s: %s", res.Status, res.Message)
	}
}
