//go:build integration

package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/tusk-php/tusk/tests/jaegertest"
	"github.com/tusk-php/tusk/tests/plugingrpc"
	"github.com/tusk-php/tusk/tests/stack"
)

// TestDatasourceReadsJaeger: the agent exports to a real Jaeger v2; the
// built plugin, its datasource set to read traces from Jaeger, answers
// search and trace queries with the frames it gives when reading the agent
// itself — same spans, parents, names, kinds, times, status, call sites.
func TestDatasourceReadsJaeger(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
	defer cancel()
	exe, err := plugingrpc.Build(ctx, repoRoot())
	if err != nil {
		t.Fatal(err)
	}
	j := jaegertest.Start(ctx, t)
	s := startFixture(t, stack.StackOptions{WithMariaDB: true})
	a := startAgent(t, s, "--otlp-endpoint", "http://"+j.OTLPGRPC) // plain gRPC on loopback

	start := time.Now().Add(-time.Second)
	get(t, s, "/io/sql.php")
	get(t, s, "/error.php")
	sqlID := waitPath(t, a, "/io/sql.php", start)
	errID := waitPath(t, a, "/error.php", start)
	deadline := time.Now().Add(30 * time.Second)
	for _, id := range []string{sqlID.String(), errID.String()} {
		for {
			if tr, err := j.Client().Trace(ctx, id); err == nil && tr != nil && len(tr.Spans) > 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("trace %s never reached Jaeger; jaeger log:\n%s", id, j.LogTail(40))
			}
			time.Sleep(200 * time.Millisecond)
		}
	}

	p, err := plugingrpc.Start(ctx, exe)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	settings := func(source string) backend.PluginContext {
		b, _ := json.Marshal(map[string]any{
			"traceSource": source, "traceStore": map[string]string{"url": j.QueryURL},
			"agents": []map[string]string{{"name": "web-1", "url": a.url}},
		})
		return backend.PluginContext{DataSourceInstanceSettings: &backend.DataSourceInstanceSettings{
			ID: int64(len(source)), UID: source, Name: source, JSONData: b,
			DecryptedSecureJSONData: map[string]string{"token.web-1": a.token}}}
	}
	window := backend.TimeRange{From: start.Add(-time.Minute), To: time.Now().Add(time.Minute)}
	query := func(pc backend.PluginContext, queryType, model string) backend.DataResponse {
		resp, err := p.QueryData(ctx, &backend.QueryDataRequest{PluginContext: pc, Queries: []backend.DataQuery{
			{RefID: "A", QueryType: queryType, TimeRange: window, JSON: []byte(model)}}})
		if err != nil {
			t.Fatal(err)
		}
		return resp.Responses["A"]
	}
	jaeger, agents := settings("jaeger"), settings("agents")

	health, err := p.CheckHealth(ctx, &backend.CheckHealthRequest{PluginContext: jaeger})
	if err != nil || health.Status != backend.HealthStatusOk || !strings.Contains(health.Message, "trace store: OK, Jaeger at") {
		t.Errorf("health: %v %+v", err, health)
	}

	for _, id := range []string{sqlID.String(), errID.String()} {
		fromJaeger := query(jaeger, "trace", `{"traceId":"`+id+`"}`)
		fromAgent := query(agents, "trace", `{"traceId":"`+id+`"}`)
		if fromJaeger.Error != nil || fromAgent.Error != nil {
			t.Fatalf("trace %s: jaeger %v, agent %v", id, fromJaeger.Error, fromAgent.Error)
		}
		fj, fa := fromJaeger.Frames[0], fromAgent.Frames[0]
		if nj, na := rowsByField(fj, "spanID"), rowsByField(fa, "spanID"); len(nj) != len(na) {
			t.Fatalf("trace %s: %d spans from Jaeger, %d from the agent", id, len(nj), len(na))
		}
		jRow := rowsByField(fj, "spanID")
		spanIDs, _ := fa.FieldByName("spanID")
		for _, field := range []string{"parentSpanID", "operationName", "serviceName", "kind", "statusCode", "statusMessage", "stackTraces", "startTime", "duration"} {
			fJ, _ := fj.FieldByName(field)
			fA, _ := fa.FieldByName(field)
			for i := 0; i < fA.Len(); i++ {
				r, ok := jRow[spanIDs.At(i).(string)]
				if !ok {
					t.Fatalf("trace %s: span %v is not in Jaeger", id, spanIDs.At(i))
				}
				vj, va := fJ.At(r), fA.At(i)
				if f, ok := va.(float64); ok {
					// Jaeger keeps microseconds: start and duration are each
					// cut to the µs.
					if d := vj.(float64) - f; d > 0.002 || d < -0.002 {
						t.Errorf("trace %s %s of span %v: Jaeger %.4f, agent %.4f", id, field, spanIDs.At(i), vj, f)
					}
					continue
				}
				if fmt.Sprint(vj) != fmt.Sprint(va) {
					t.Errorf("trace %s %s of span %v: Jaeger %v, agent %v", id, field, spanIDs.At(i), vj, va)
				}
			}
		}
		tags, _ := fj.FieldByName("tags")
		ops, _ := fj.FieldByName("operationName")
		for i := 0; i < ops.Len(); i++ {
			if strings.HasPrefix(ops.At(i).(string), "SELECT") && !strings.Contains(string(tags.At(i).(json.RawMessage)), `"code.function.name"`) {
				t.Errorf("SQL span %d from Jaeger lost its call site: %s", i, tags.At(i))
			}
		}
	}

	search := query(jaeger, "search", `{"service":"fixture","path":"/io/"}`)
	if search.Error != nil {
		t.Fatal(search.Error)
	}
	ids, _ := search.Frames[0].FieldByName("traceID")
	names, _ := search.Frames[0].FieldByName("traceName")
	if ids.Len() != 1 || ids.At(0) != sqlID.String() || names.At(0) != "GET /io/sql.php" {
		t.Errorf("search from Jaeger: %v %v", ids, names)
	}
	errorsOnly := query(jaeger, "search", `{"errorsOnly":true}`) // no service: every service Jaeger knows
	if errorsOnly.Error != nil {
		t.Fatal(errorsOnly.Error)
	}
	ids, _ = errorsOnly.Frames[0].FieldByName("traceID")
	if ids.Len() != 1 || ids.At(0) != errID.String() {
		jt, _ := j.Client().Trace(ctx, errID.String())
		t.Errorf("errors-only search from Jaeger: %d rows; the trace in Jaeger: %+v", ids.Len(), jt)
	}
	if dr := query(jaeger, "trace", `{"traceId":"0123456789abcdef0123456789abcdef"}`); dr.Error == nil || !strings.Contains(dr.Error.Error(), "not in the trace store") {
		t.Errorf("unknown trace: %v", dr.Error)
	}
}

// rowsByField maps each value of a string field to its row.
func rowsByField(f *data.Frame, name string) map[string]int {
	field, _ := f.FieldByName(name)
	out := map[string]int{}
	for i := 0; i < field.Len(); i++ {
		out[field.At(i).(string)] = i
	}
	return out
}
