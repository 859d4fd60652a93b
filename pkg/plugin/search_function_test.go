package plugin

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"

	"github.com/tusk-php/tusk/pkg/agentapi"
	"github.com/tusk-php/tusk/pkg/trace"
)

// functionAgent answers function searches with resp and records what it
// was asked.
func functionAgent(t *testing.T, resp agentapi.FunctionTracesResponse) (*httptest.Server, func() agentapi.FunctionTracesQuery) {
	t.Helper()
	var mu sync.Mutex
	var last agentapi.FunctionTracesQuery
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q, err := agentapi.DecodeFunctionTracesParams(r.URL.Query())
		if r.URL.Path != agentapi.PathProfileTraces || err != nil {
			t.Errorf("%s?%s: %v", r.URL.Path, r.URL.RawQuery, err)
		}
		mu.Lock()
		last = q
		mu.Unlock()
		json.NewEncoder(w).Encode(resp)
	}))
	t.Cleanup(srv.Close)
	return srv, func() agentapi.FunctionTracesQuery { mu.Lock(); defer mu.Unlock(); return last }
}

func hit(id byte, start time.Time, cpu time.Duration) agentapi.FunctionTrace {
	return agentapi.FunctionTrace{
		Summary:         trace.Summary{TraceID: trace.TraceID{id}, Service: "shop", Method: "GET", Path: "/cart", StartUnixNano: start.UnixNano(), DurationNano: 2 * int64(cpu), SpanCount: 1},
		FunctionSamples: int64(cpu / time.Millisecond), FunctionCPUNs: int64(cpu), Samples: 2 * int64(cpu/time.Millisecond),
	}
}

// TestFunctionSearchMergesAgentsByCPU: two agents' hits are one table by
// the function's CPU time, limited; an agent that read only part of the
// range says so; the query carries the search's filters and the flame
// graph's endpoint, without an order.
func TestFunctionSearchMergesAgentsByCPU(t *testing.T) {
	at := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	web1, asked := functionAgent(t, agentapi.FunctionTracesResponse{Scanned: 40, Traces: []agentapi.FunctionTrace{
		hit(1, at, 80*time.Millisecond), hit(2, at.Add(time.Second), 10*time.Millisecond),
	}})
	web2, _ := functionAgent(t, agentapi.FunctionTracesResponse{Scanned: 10000, Truncated: true, Traces: []agentapi.FunctionTrace{
		hit(3, at.Add(2*time.Second), 120*time.Millisecond), hit(4, at.Add(3*time.Second), 10*time.Millisecond),
	}})
	ds := newTestDatasource(t, agentSettings{"web-1", web1.URL, ""}, agentSettings{"web-2", web2.URL, ""})
	w := backend.TimeRange{From: at.Add(-time.Hour), To: at.Add(time.Hour)}
	dr := queryOne(t, ds, dataQuery("A", "search", w,
		`{"function":" App\\Cart::total ","file":"/srv/app/Cart.php","endpoint":"GET /cart","method":"get","minDuration":"5ms","order":"slowest","limit":3}`))
	if dr.Error != nil {
		t.Fatal(dr.Error)
	}
	f := dr.Frames[0]
	ids, _ := f.FieldByName("traceID")
	cpu, _ := f.FieldByName("functionCpu")
	hosts, _ := f.FieldByName("host")
	var got []string
	for i := 0; i < ids.Len(); i++ {
		got = append(got, ids.At(i).(string)[:2]+"="+time.Duration(cpu.At(i).(float64)*float64(time.Millisecond)).String()+"@"+hosts.At(i).(string))
	}
	// 10 ms ties: the newer (web-2's 04) first; the limit drops 02.
	if want := "03=120ms@web-2 01=80ms@web-1 04=10ms@web-2"; strings.Join(got, " ") != want {
		t.Errorf("rows %s, want %s", strings.Join(got, " "), want)
	}
	if cpu.Config.DisplayName != `CPU in App\Cart::total` {
		t.Errorf("column %q", cpu.Config.DisplayName)
	}
	if n := f.Meta.Notices; len(n) != 1 || !strings.Contains(n[0].Text, "agent web-2 read only the newest 10000 profiled requests") {
		t.Errorf("notices %+v", n)
	}
	q := asked()
	if q.Function != `App\Cart::total` || q.File != "/srv/app/Cart.php" || q.Endpoint != "GET /cart" || q.Traces.Method != "GET" ||
		q.Traces.MinDuration != 5*time.Millisecond || q.Traces.Limit != 3 || q.Traces.Order != "" ||
		!q.Traces.Start.Equal(w.From) || !q.Traces.End.Equal(w.To) {
		t.Errorf("agent asked %+v", q)
	}
}

func TestFunctionSearchWithoutHitsSaysWhy(t *testing.T) {
	web1, _ := functionAgent(t, agentapi.FunctionTracesResponse{Scanned: 3, Traces: []agentapi.FunctionTrace{}})
	ds := newTestDatasource(t, agentSettings{"web-1", web1.URL, ""})
	dr := queryOne(t, ds, dataQuery("A", "search", recordingWindow(t), `{"function":"nowhere"}`))
	if dr.Error != nil {
		t.Fatal(dr.Error)
	}
	if n, _ := dr.Frames[0].RowLen(); n != 0 {
		t.Errorf("%d rows", n)
	}
	if n := dr.Frames[0].Meta.Notices; len(n) != 1 || !strings.Contains(n[0].Text, "no request in this range has nowhere in its CPU samples") {
		t.Errorf("notices %+v", n)
	}
}
