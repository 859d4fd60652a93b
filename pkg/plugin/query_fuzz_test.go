package plugin

import (
	"context"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
)

// FuzzQueryData: any query JSON gets an answer (frames or one error), never
// a panic or a hang. No agent is configured, so queries that parse reach
// the "no agent" error without any network.
func FuzzQueryData(f *testing.F) {
	for _, seed := range []string{
		`{}`, `{"queryType":"search","limit":20,"minDuration":"5ms","order":"slowest"}`,
		`{"queryType":"trace","traceId":"0123456789abcdef"}`, `{"queryType":"flamegraph","maxNodes":-1}`,
		`{"queryType":"metrics","groupBy":"pool","metrics":["p99"],"limit":501}`, `{"status":"x"}`, `[`, `null`,
		`{"queryType":"search","function":"App\Cart::total","file":"/app/Cart.php","endpoint":"GET /cart"}`,
		`{"queryType":"flamegraph","baselineFrom":1764061200000,"baselineTo":1764064800000,"maxNodes":5}`,
	} {
		f.Add([]byte(seed), int64(3600), int64(10))
	}
	inst, err := NewDatasource(context.Background(), backend.DataSourceInstanceSettings{JSONData: []byte(`{}`)})
	if err != nil {
		f.Fatal(err)
	}
	ds := inst.(*Datasource)
	f.Fuzz(func(t *testing.T, model []byte, rangeSeconds, intervalSeconds int64) {
		now := time.Unix(1795600000, 0)
		dq := backend.DataQuery{RefID: "A", JSON: model,
			TimeRange: backend.TimeRange{From: now.Add(-time.Duration(rangeSeconds) * time.Second), To: now},
			Interval:  time.Duration(intervalSeconds) * time.Second, MaxDataPoints: 1000}
		resp, err := ds.QueryData(context.Background(), &backend.QueryDataRequest{Queries: []backend.DataQuery{dq}})
		if err != nil {
			t.Fatal(err)
		}
		dr := resp.Responses["A"]
		if dr.Error == nil && len(dr.Frames) == 0 {
			t.Fatalf("no error and no frame for %q", model)
		}
	})
}
