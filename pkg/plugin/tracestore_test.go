package plugin

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
)

// TestDatasourceReadsTraceStore: with traceSource tempo, search and trace
// queries go to Tempo (answers in its documented shape, from
// pkg/tracebackend/testdata/tempo) with the tenant header and the token,
// and give the same frames as from the agents; flame graphs and function
// searches still ask the agents.
func TestDatasourceReadsTraceStore(t *testing.T) {
	sqlID := recordedTraceID(t, "/io/sql.php")
	tempo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Scope-OrgID") != "team-a" || r.Header.Get("Authorization") != "Bearer tempo-token" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		files := map[string]string{"/api/search": "search.json", "/api/search/tags": "tags.json", "/api/v2/traces/" + sqlID: "trace-sql.json"}
		f, ok := files[r.URL.Path]
		if !ok {
			http.Error(w, "trace not found", http.StatusNotFound)
			return
		}
		b, _ := os.ReadFile("../tracebackend/testdata/tempo/" + f)
		w.Write(b)
	}))
	defer tempo.Close()
	agent := startRecordedAgent(t, "tok")
	jsonData := []byte(`{"traceSource":"tempo","traceStore":{"url":"` + tempo.URL + `","tenantId":"team-a"},"agents":[{"name":"web-1","url":"` + agent.URL + `"}]}`)
	inst, err := NewDatasource(context.Background(), backend.DataSourceInstanceSettings{UID: "tusk-uid", Name: "Tusk", JSONData: jsonData,
		DecryptedSecureJSONData: map[string]string{"traceStore.token": "tempo-token", "token.web-1": "tok"}})
	if err != nil {
		t.Fatal(err)
	}
	ds := inst.(*Datasource)
	w := recordingWindow(t)

	fromStore := queryOne(t, ds, dataQuery("A", "trace", w, `{"traceId":"`+sqlID+`"}`))
	fromAgent := queryOne(t, newTestDatasource(t, agentSettings{"web-1", agent.URL, "tok"}), dataQuery("A", "trace", w, `{"traceId":"`+sqlID+`"}`))
	if fromStore.Error != nil || fromAgent.Error != nil {
		t.Fatalf("trace: store %v, agent %v", fromStore.Error, fromAgent.Error)
	}
	for _, field := range []string{"spanID", "parentSpanID", "operationName", "kind", "statusCode", "startTime", "duration", "stackTraces", "logs"} {
		a, _ := fromStore.Frames[0].FieldByName(field)
		b, _ := fromAgent.Frames[0].FieldByName(field)
		if a.Len() != b.Len() {
			t.Fatalf("%s: %d rows from Tempo, %d from the agent", field, a.Len(), b.Len())
		}
		for i := 0; i < a.Len(); i++ {
			if av, bv := a.At(i), b.At(i); fmt.Sprint(av) != fmt.Sprint(bv) {
				t.Errorf("%s row %d: Tempo %v, agent %v", field, i, av, bv)
			}
		}
	}

	search := queryOne(t, ds, dataQuery("B", "search", w, `{"path":"/io/"}`))
	if search.Error != nil {
		t.Fatal(search.Error)
	}
	if n, _ := search.Frames[0].RowLen(); n != 3 { // /io/sql.php, /io/http.php, /io/redis.php
		t.Errorf("%d rows from Tempo for /io/, want 3", n)
	}
	if dr := queryOne(t, ds, dataQuery("C", "flamegraph", w, `{"traceId":"`+burnTraceID(t)+`"}`)); dr.Error != nil {
		t.Errorf("flame graph from the agents: %v", dr.Error)
	}
	if dr := queryOne(t, ds, dataQuery("D", "search", w, `{"function":"`+recordedHotFunction+`"}`)); dr.Error != nil || len(dr.Frames) != 1 {
		t.Errorf("function search from the agents: %v", dr.Error)
	} else if n, _ := dr.Frames[0].RowLen(); n == 0 {
		t.Error("function search from the agents: no rows")
	}
	res, _ := ds.CheckHealth(context.Background(), &backend.CheckHealthRequest{})
	if res.Status != backend.HealthStatusOk || !strings.HasPrefix(res.Message, "trace store: OK, Tempo at ") {
		t.Errorf("health: %s %q", res.Status, res.Message)
	}

	if _, err := NewDatasource(context.Background(), backend.DataSourceInstanceSettings{Name: "x", JSONData: []byte(`{"traceSource":"zipkin"}`)}); err == nil ||
		!strings.Contains(err.Error(), `traceSource "zipkin"`) {
		t.Errorf("unknown source: %v", err)
	}
}
