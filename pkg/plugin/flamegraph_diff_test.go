package plugin

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tusk-php/tusk/pkg/agentapi"
)

// TestFlamegraphDiffOfRecordedGraphs: the baseline is the burn request's
// graph, the compared range the recording's; the frame's value is the
// baseline's CPU, valueRight the compared range's, and the panel's sum of
// the two is both (see frames.DiffFlamegraph). Two agents double both
// sides alike.
func TestFlamegraphDiffOfRecordedGraphs(t *testing.T) {
	var before, after agentapi.Flamegraph
	json.Unmarshal(readRecorded(t, "flamegraph.json"), &before)
	json.Unmarshal(readRecorded(t, "flamegraph-range.json"), &after)
	w := recordingWindow(t)
	for agents, factor := range map[int]int64{1: 1, 2: 2} {
		var settings []agentSettings
		for i := range agents {
			settings = append(settings, agentSettings{[]string{"web-1", "web-2"}[i], startRecordedAgent(t, "tok").URL, "tok"})
		}
		dr := queryOne(t, newTestDatasource(t, settings...), dataQuery("A", "flamegraph", w, baselineBefore(w)))
		if dr.Error != nil {
			t.Fatal(dr.Error)
		}
		f := dr.Frames[0]
		at := func(name string, i int) any { fld, _ := f.FieldByName(name); return fld.At(i) }
		if at("label", 0) != "total" || at("value", 0) != factor*before.Total*before.PeriodNs || at("valueRight", 0) != factor*after.Total*after.PeriodNs {
			t.Errorf("%d agents: root %v/%v, want %d and %d", agents, at("value", 0), at("valueRight", 0),
				factor*before.Total*before.PeriodNs, factor*after.Total*after.PeriodNs)
		}
		if len(f.Meta.Notices) != 0 {
			t.Errorf("notices %+v", f.Meta.Notices)
		}
	}
}

// TestFlamegraphDiffEmptyBaseline: nothing before the deploy is no error,
// only a notice; the baseline query carries the baseline range and the
// same filters.
func TestFlamegraphDiffEmptyBaseline(t *testing.T) {
	recorded := readRecorded(t, "flamegraph.json")
	baseline := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	var askedBaseline agentapi.ProfileQuery
	agent := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q, _, err := agentapi.DecodeFlamegraphParams(r.URL.Query())
		if err != nil {
			t.Error(err)
		}
		if q.From.Equal(baseline) {
			mu.Lock()
			askedBaseline = q
			mu.Unlock()
			w.Write([]byte(`{"unit":"samples","periodNs":2004008,"total":0,"nodes":[{"level":0,"label":"total","value":0,"self":0}]}`))
			return
		}
		w.Write(recorded)
	}))
	defer agent.Close()
	ds := newTestDatasource(t, agentSettings{"web-1", agent.URL, ""})
	model := `{"pool":"www","endpoint":"GET /burn.php","baselineFrom":` + strconv.FormatInt(baseline.UnixMilli(), 10) +
		`,"baselineTo":` + strconv.FormatInt(baseline.Add(time.Hour).UnixMilli(), 10) + `}`
	dr := queryOne(t, ds, dataQuery("A", "flamegraph", recordingWindow(t), model))
	if dr.Error != nil {
		t.Fatal(dr.Error)
	}
	if n := dr.Frames[0].Meta.Notices; len(n) != 1 || !strings.Contains(n[0].Text, "no CPU samples in the baseline range") {
		t.Errorf("notices %+v", n)
	}
	mu.Lock()
	defer mu.Unlock()
	if !askedBaseline.To.Equal(baseline.Add(time.Hour)) || askedBaseline.Pool != "www" || askedBaseline.Endpoint != "GET /burn.php" {
		t.Errorf("baseline query %+v", askedBaseline)
	}
	value, _ := dr.Frames[0].FieldByName("value")
	right, _ := dr.Frames[0].FieldByName("valueRight")
	if value.At(0) != int64(0) || right.At(0).(int64) == 0 {
		t.Errorf("root %v/%v", value.At(0), right.At(0))
	}
}
