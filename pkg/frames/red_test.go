package frames

import (
	"testing"
	"time"

	"github.com/tusk-php/tusk/pkg/agentapi"
	"github.com/tusk-php/tusk/pkg/red"
)

func point(startMs int64, requests, errors uint64, durations ...time.Duration) agentapi.REDPoint {
	p := agentapi.REDPoint{StartUnixMs: startMs, Requests: requests, Errors: errors}
	for _, d := range durations {
		p.Durations.Add(d)
	}
	return p
}

// TestMergeREDAddsAgentsAndKeepsTheBusiest: the same endpoint on two
// agents is one series; percentiles come from all requests; groups past the
// limit go to the Other series.
func TestMergeREDAddsAgentsAndKeepsTheBusiest(t *testing.T) {
	web1 := &agentapi.REDResponse{Series: []agentapi.REDSeries{
		{Service: "shop", Pool: "www", Endpoint: "GET /cart", Points: []agentapi.REDPoint{point(0, 2, 0, 10*time.Millisecond, 10*time.Millisecond)}},
		{Service: "shop", Pool: "www", Endpoint: "GET /", Points: []agentapi.REDPoint{point(0, 1, 0, time.Millisecond)}},
	}}
	web2 := &agentapi.REDResponse{Series: []agentapi.REDSeries{
		{Service: "shop", Pool: "www", Endpoint: "GET /cart", Points: []agentapi.REDPoint{
			point(0, 2, 1, 400*time.Millisecond, 400*time.Millisecond), point(60000, 1, 0, 5*time.Millisecond)}},
		{Service: "shop", Pool: "www", Endpoint: "POST /login", Points: []agentapi.REDPoint{point(60000, 1, 1, 2*time.Millisecond)}},
		{Other: true, Points: []agentapi.REDPoint{point(0, 4, 0, time.Millisecond)}},
	}}
	got := MergeRED(1, web1, nil, web2)
	if len(got) != 2 || got[0].Endpoint != "GET /cart" || !got[1].Other {
		t.Fatalf("series %+v", got)
	}
	cart := got[0]
	if len(cart.Points) != 2 || cart.Points[0].Requests != 4 || cart.Points[0].Errors != 1 || cart.Points[1].Requests != 1 {
		t.Fatalf("cart points %+v", cart.Points)
	}
	// Half the first step's requests took 400ms: the merged p95 is ~400ms,
	// which neither agent's own p95 averaged would give.
	if p95, _ := cart.Points[0].Durations.Quantile(0.95); p95 < 380*time.Millisecond || p95 > 420*time.Millisecond {
		t.Errorf("merged p95 %s, want ~400ms", p95)
	}
	other := got[1]
	var otherRequests uint64
	for _, p := range other.Points {
		otherRequests += p.Requests
	}
	if otherRequests != 4+1+1 { // the agent's own Other, "GET /" and "POST /login"
		t.Errorf("other series has %d requests, want 6", otherRequests)
	}
}

func TestREDFramesFillEveryStep(t *testing.T) {
	from := time.Unix(600, 0)
	to := from.Add(3 * time.Minute)
	var h red.Histogram
	h.Add(20 * time.Millisecond)
	series := []agentapi.REDSeries{{Service: "shop", Pool: "www", Endpoint: "GET /cart",
		Points: []agentapi.REDPoint{{StartUnixMs: from.Add(time.Minute).UnixMilli(), Requests: 30, Errors: 6, Durations: h}}}}
	fs := RED(series, from, to, time.Minute, []REDMetric{MetricRequests, MetricErrors, MetricP95})
	if len(fs) != 3 {
		t.Fatalf("%d frames, want 3", len(fs))
	}
	for _, f := range fs {
		if n, _ := f.RowLen(); n != 3 {
			t.Errorf("%s: %d rows, want one per minute (3)", f.Name, n)
		}
		if f.Fields[1].Labels["endpoint"] != "GET /cart" || f.Fields[1].Labels["pool"] != "www" {
			t.Errorf("%s: labels %v", f.Name, f.Fields[1].Labels)
		}
	}
	if v := fs[0].Fields[1].At(1).(float64); v != 0.5 {
		t.Errorf("requests/s %v, want 30/60", v)
	}
	if v := fs[1].Fields[1].At(1).(float64); v != 0.1 {
		t.Errorf("errors/s %v, want 6/60", v)
	}
	if v := fs[2].Fields[1].At(0).(*float64); v != nil {
		t.Errorf("p95 of an empty step is %v, want null", *v)
	}
	if v := fs[2].Fields[1].At(1).(*float64); v == nil || *v < 19 || *v > 21 {
		t.Errorf("p95 %v, want ~20ms", v)
	}
	if _, err := ParseREDMetric("p42"); err == nil {
		t.Error("unknown metric accepted")
	}
}
