package tracebackend

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tusk-php/tusk/pkg/trace"
)

func recordedAgentTrace(t *testing.T) *trace.Trace {
	t.Helper()
	b, err := os.ReadFile("../plugin/testdata/agent/trace-sql.json")
	if err != nil {
		t.Fatal(err)
	}
	var tr trace.Trace
	if err := json.Unmarshal(b, &tr); err != nil {
		t.Fatal(err)
	}
	return &tr
}

// tempoServer serves testdata/tempo as Tempo's API and records the
// queries it got.
func tempoServer(t *testing.T, tenant string, queries *[]string) *httptest.Server {
	t.Helper()
	id := recordedAgentTrace(t).TraceID.String()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Scope-OrgID") != tenant {
			http.Error(w, "no org id", http.StatusUnauthorized)
			return
		}
		file := ""
		switch r.URL.Path {
		case "/api/search":
			*queries = append(*queries, r.URL.RawQuery)
			file = "search.json"
		case "/api/search/tags":
			file = "tags.json"
		case "/api/v2/traces/" + id:
			file = "trace-sql.json"
		default:
			http.Error(w, "trace not found", http.StatusNotFound)
			return
		}
		b, err := os.ReadFile("testdata/tempo/" + file)
		if err != nil {
			t.Error(err)
		}
		w.Write(b)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestTempoTraceIsTheAgentsTrace: a trace read back from Tempo's OTLP JSON
// (base64 ids, resource attributes moved off the request span) is the
// trace the agent stored.
func TestTempoTraceIsTheAgentsTrace(t *testing.T) {
	var queries []string
	srv := tempoServer(t, "team-a", &queries)
	b, err := New(KindTempo, Options{URL: srv.URL + "/", TenantID: "team-a"})
	if err != nil {
		t.Fatal(err)
	}
	want := recordedAgentTrace(t)
	got, err := b.Trace(context.Background(), want.TraceID)
	if err != nil {
		t.Fatal(err)
	}
	compareTraces(t, got, want)
	if _, err := b.Trace(context.Background(), trace.TraceID{1}); !IsNotFound(err) {
		t.Errorf("unknown trace: %v, want not found", err)
	}
	if msg, err := b.Check(context.Background()); err != nil || !strings.Contains(msg, "4 tags") {
		t.Errorf("check: %q %v", msg, err)
	}
	noTenant, _ := New(KindTempo, Options{URL: srv.URL})
	if _, err := noTenant.Check(context.Background()); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("without the tenant: %v", err)
	}
}

// compareTraces checks what the trace view shows: ids, tree, names,
// kinds, times, status, events and the attributes of every span.
func compareTraces(t *testing.T, got, want *trace.Trace) {
	t.Helper()
	if got.TraceID != want.TraceID || got.Service != want.Service || got.Method != want.Method || got.Path != want.Path ||
		got.StatusCode != want.StatusCode || got.Pool != want.Pool || got.StartUnixNano != want.StartUnixNano ||
		got.DurationNano != want.DurationNano || got.NPlusOne != want.NPlusOne || got.Error != want.Error {
		t.Errorf("summary:\n got %+v\nwant %+v", got.Summary, want.Summary)
	}
	if len(got.Spans) != len(want.Spans) {
		t.Fatalf("%d spans, want %d", len(got.Spans), len(want.Spans))
	}
	byID := map[trace.SpanID]trace.Span{}
	for _, s := range got.Spans {
		byID[s.SpanID] = s
	}
	for i, w := range want.Spans {
		g, ok := byID[w.SpanID]
		if !ok {
			t.Errorf("span %s (%s) missing", w.SpanID, w.Name)
			continue
		}
		if i == 0 && got.Spans[0].SpanID != w.SpanID {
			t.Errorf("the request span is not first")
		}
		if g.ParentSpanID != w.ParentSpanID || g.Name != w.Name || g.Kind != w.Kind || g.StartUnixNano != w.StartUnixNano ||
			g.DurationNano != w.DurationNano || g.Status != w.Status || !reflect.DeepEqual(g.Events, w.Events) {
			t.Errorf("span %s:\n got %+v\nwant %+v", w.SpanID, g, w)
		}
		wantAttrs := trace.Attributes{}
		for k, v := range w.Attributes {
			if k != trace.AttrServiceName { // the store's service, not a span attribute there
				wantAttrs[k] = v
			}
		}
		delete(g.Attributes, trace.AttrServiceName)
		if !reflect.DeepEqual(g.Attributes, wantAttrs) {
			t.Errorf("span %s (%s) attributes:\n got %v\nwant %v", w.SpanID, w.Name, g.Attributes, wantAttrs)
		}
	}
}

// TestTempoSearch: the search becomes TraceQL on the request span, and the
// answer's rows (ids without leading zeros) become summaries.
func TestTempoSearch(t *testing.T) {
	var queries []string
	srv := tempoServer(t, "", &queries)
	b, _ := New(KindTempo, Options{URL: srv.URL})
	start := time.Unix(1795668000, 0)
	q := trace.Query{Start: start, End: start.Add(time.Hour), Service: "fixture", Method: "GET", PathPrefix: "/io/",
		StatusCode: 200, MinDuration: time.Millisecond, ErrorsOnly: false, Limit: 3}
	sums, err := b.Search(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	wantQL := `{ kind = server && resource.service.name = "fixture" && span.http.request.method = "GET" && span.url.path =~ "/io/.*" && span.http.response.status_code = 200 && duration >= 1ms }`
	if len(queries) != 1 {
		t.Fatalf("%d searches", len(queries))
	}
	params, _ := url.ParseQuery(queries[0])
	if params.Get("q") != wantQL || params.Get("start") != "1795668000" || params.Get("end") != "1795671601" || params.Get("limit") != "3" {
		t.Errorf("query %v\nwant TraceQL %s", params, wantQL)
	}
	// The served answer is the whole recording: what Tempo would not have
	// filtered (method, path prefix) is filtered here.
	if len(sums) == 0 || len(sums) > 3 {
		t.Fatalf("%d summaries", len(sums))
	}
	for _, s := range sums {
		if !strings.HasPrefix(s.Path, "/io/") || s.Method != "GET" || len(s.TraceID.String()) != 32 {
			t.Errorf("summary %+v", s)
		}
	}
	if got := TraceQL(trace.Query{PathPrefix: `/a.b(c)`, ErrorsOnly: true}); got != `{ kind = server && span.url.path =~ "/a\\.b\\(c\\).*" && status = error }` {
		t.Errorf("escaping: %s", got)
	}
}

func TestNewRefusesBadSettings(t *testing.T) {
	for _, c := range []struct {
		kind Kind
		url  string
		want string
	}{
		{KindJaeger, "localhost:16686", "want http://host:port"},
		{KindTempo, "", "want http://host:port"},
		{"zipkin", "http://z:9411", `"zipkin": want jaeger or tempo`},
	} {
		if _, err := New(c.kind, Options{URL: c.url}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %q: %v", c.kind, c.url, err)
		}
	}
}
