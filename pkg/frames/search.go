// Package frames turns what agents answer into the data frames Grafana's
// panels read: a table of traces, the trace frame its TraceView reads (the
// shape Tempo's datasource returns), the nested-set frame of its flame
// graph, and time series. The shapes are what Grafana expects, checked by
// golden files built from real agent answers.
package frames

import (
	"cmp"
	"slices"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/tusk-php/tusk/pkg/trace"
)

// SearchRow is one trace summary and the agent that has it.
type SearchRow struct {
	Agent string
	trace.Summary
}

// DatasourceRef names the datasource that serves a link's query: links from
// a search row open the trace through the same datasource.
type DatasourceRef struct {
	UID  string
	Name string
}

// TraceQuery is the query model of a trace query, which search rows link to.
type TraceQuery struct {
	QueryType string `json:"queryType"`
	TraceID   string `json:"traceId"`
}

// SortSearchRows orders rows from several agents as one agent would have:
// newest or slowest first, and keeps limit of them.
func SortSearchRows(rows []SearchRow, order trace.Order, limit int) []SearchRow {
	slices.SortStableFunc(rows, func(a, b SearchRow) int {
		if order == trace.OrderSlowest {
			if c := cmp.Compare(b.DurationNano, a.DurationNano); c != 0 {
				return c
			}
		}
		return cmp.Or(cmp.Compare(b.StartUnixNano, a.StartUnixNano), cmp.Compare(a.TraceID.String(), b.TraceID.String()))
	})
	if limit > 0 && len(rows) > limit {
		rows = rows[:limit]
	}
	return rows
}

// Search is the table of traces. The trace id links to a trace query of ds,
// so a click opens the trace view (in Explore, or a split pane).
func Search(rows []SearchRow, ds DatasourceRef) *data.Frame {
	n := len(rows)
	ids := make([]string, n)
	starts := make([]time.Time, n)
	names := make([]string, n)
	services := make([]string, n)
	pools := make([]string, n)
	hosts := make([]string, n)
	statuses := make([]int64, n)
	durations := make([]float64, n)
	spans := make([]int64, n)
	nPlusOne := make([]int64, n)
	errs := make([]bool, n)
	incomplete := make([]bool, n)
	for i, r := range rows {
		ids[i] = r.TraceID.String()
		starts[i] = r.Start().UTC()
		names[i] = r.Name()
		services[i] = r.Service
		pools[i] = r.Pool
		hosts[i] = cmp.Or(r.Host, r.Agent)
		statuses[i] = int64(r.StatusCode)
		durations[i] = float64(r.DurationNano) / float64(time.Millisecond)
		spans[i] = int64(r.SpanCount)
		nPlusOne[i] = int64(r.NPlusOne)
		errs[i] = r.Error
		incomplete[i] = r.Incomplete
	}
	traceID := data.NewField("traceID", nil, ids).SetConfig(&data.FieldConfig{
		DisplayName: "Trace ID",
		Links: []data.DataLink{{
			Title: "Open trace ${__value.raw}",
			Internal: &data.InternalDataLink{
				DatasourceUID:  ds.UID,
				DatasourceName: ds.Name,
				Query:          TraceQuery{QueryType: "trace", TraceID: "${__value.raw}"},
			},
		}},
	})
	f := data.NewFrame("Traces",
		traceID,
		data.NewField("startTime", nil, starts).SetConfig(&data.FieldConfig{DisplayName: "Start time"}),
		data.NewField("traceName", nil, names).SetConfig(&data.FieldConfig{DisplayName: "Name"}),
		data.NewField("service", nil, services).SetConfig(&data.FieldConfig{DisplayName: "Service"}),
		data.NewField("pool", nil, pools).SetConfig(&data.FieldConfig{DisplayName: "Pool"}),
		data.NewField("host", nil, hosts).SetConfig(&data.FieldConfig{DisplayName: "Host"}),
		data.NewField("status", nil, statuses).SetConfig(&data.FieldConfig{DisplayName: "Status"}),
		data.NewField("traceDuration", nil, durations).SetConfig(&data.FieldConfig{DisplayName: "Duration", Unit: "ms"}),
		data.NewField("spans", nil, spans).SetConfig(&data.FieldConfig{DisplayName: "Spans"}),
		data.NewField("nPlusOne", nil, nPlusOne).SetConfig(&data.FieldConfig{
			DisplayName: "N+1",
			Description: "statements this request repeated from one call site (0: none)",
		}),
		data.NewField("error", nil, errs).SetConfig(&data.FieldConfig{DisplayName: "Error"}),
		data.NewField("incomplete", nil, incomplete).SetConfig(&data.FieldConfig{
			DisplayName: "Incomplete",
			Description: "events were lost while this request ran: spans may be missing",
		}),
	)
	f.SetMeta(&data.FrameMeta{PreferredVisualization: data.VisTypeTable})
	return f
}
