package plugin

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"

	"github.com/tusk-php/tusk/pkg/agentapi"
	"github.com/tusk-php/tusk/pkg/frames"
	"github.com/tusk-php/tusk/pkg/trace"
)

// Query types the datasource answers.
const (
	QueryTypeSearch     = "search"
	QueryTypeTrace      = "trace"
	QueryTypeFlamegraph = "flamegraph"
	QueryTypeMetrics    = "metrics"
)

// Query is the datasource's query model, the JSON the query editor writes.
// Fields a query type does not use are ignored.
type Query struct {
	QueryType string `json:"queryType"`
	// Agent, when set, sends the query to that agent only.
	Agent string `json:"agent,omitempty"`

	TraceID string `json:"traceId,omitempty"` // trace; flamegraph of one request

	Service     string `json:"service,omitempty"`
	Pool        string `json:"pool,omitempty"`
	Method      string `json:"method,omitempty"`
	Path        string `json:"path,omitempty"` // prefix
	Status      int    `json:"status,omitempty"`
	MinDuration string `json:"minDuration,omitempty"` // "250ms"
	MaxDuration string `json:"maxDuration,omitempty"`
	ErrorsOnly  bool   `json:"errorsOnly,omitempty"`
	Limit       int    `json:"limit,omitempty"`
	Order       string `json:"order,omitempty"` // newest (default) | slowest

	// Function, in a search, lists the requests whose CPU samples contain
	// it, hottest first; File narrows it to one file.
	Function string `json:"function,omitempty"`
	File     string `json:"file,omitempty"`

	Endpoint string `json:"endpoint,omitempty"` // flamegraph: "GET /cart"
	MaxNodes int    `json:"maxNodes,omitempty"`
	// BaselineFrom and BaselineTo (epoch ms, both or neither) make a
	// flamegraph query a diff of this range against the baseline range.
	BaselineFrom int64 `json:"baselineFrom,omitempty"`
	BaselineTo   int64 `json:"baselineTo,omitempty"`

	GroupBy string   `json:"groupBy,omitempty"` // metrics
	Metrics []string `json:"metrics,omitempty"` // metrics: which series (default all)
}

// parseQuery reads a query's JSON. DataQuery.QueryType wins over the JSON
// field: Grafana fills it from the same field, other clients may not.
func parseQuery(dq backend.DataQuery) (Query, error) {
	var q Query
	if len(dq.JSON) > 0 {
		if err := json.Unmarshal(dq.JSON, &q); err != nil {
			return q, fmt.Errorf("the query is not valid JSON: %w", err)
		}
	}
	if dq.QueryType != "" {
		q.QueryType = dq.QueryType
	}
	if q.QueryType == "" {
		q.QueryType = QueryTypeSearch
	}
	if dq.TimeRange.To.Before(dq.TimeRange.From) {
		return q, fmt.Errorf("the time range ends (%s) before it starts (%s)",
			dq.TimeRange.To.UTC().Format(time.RFC3339), dq.TimeRange.From.UTC().Format(time.RFC3339))
	}
	return q, nil
}

// traceID parses the query's trace id as pasted: 32 hex digits, or 16 (a
// 64-bit id, as older tracers print them), in any case, with spaces around.
func (q Query) traceID() (trace.TraceID, error) {
	s := strings.ToLower(strings.TrimSpace(q.TraceID))
	if s == "" {
		return trace.TraceID{}, fmt.Errorf("enter a trace id")
	}
	if len(s) == 16 {
		s = strings.Repeat("0", 16) + s
	}
	id, err := trace.ParseTraceID(s)
	if err != nil {
		return id, fmt.Errorf("trace id %q: want 32 hexadecimal digits", q.TraceID)
	}
	return id, nil
}

// searchQuery is the agents' search for q over the panel's time range.
func (q Query) searchQuery(tr backend.TimeRange) (trace.Query, error) {
	sq := trace.Query{
		Start: tr.From, End: tr.To,
		Service: q.Service, Pool: q.Pool, Method: strings.ToUpper(q.Method), PathPrefix: q.Path,
		StatusCode: q.Status, ErrorsOnly: q.ErrorsOnly, Limit: q.Limit, Order: trace.Order(q.Order),
	}
	var err error
	if sq.MinDuration, err = parseDuration("minDuration", q.MinDuration); err != nil {
		return sq, err
	}
	if sq.MaxDuration, err = parseDuration("maxDuration", q.MaxDuration); err != nil {
		return sq, err
	}
	return sq, sq.Validate()
}

// functionQuery is the agents' function search for q: the search's
// filters, plus the flame graph's endpoint when the query came from one.
// The hottest requests come first, whatever order asks.
func (q Query) functionQuery(tr backend.TimeRange) (agentapi.FunctionTracesQuery, error) {
	sq, err := q.searchQuery(tr)
	if err != nil {
		return agentapi.FunctionTracesQuery{}, err
	}
	sq.Order = ""
	fq := agentapi.FunctionTracesQuery{
		Function: strings.TrimSpace(q.Function), File: strings.TrimSpace(q.File), Endpoint: q.Endpoint, Traces: sq,
	}
	return fq, fq.Validate()
}

// baseline is the range a flamegraph query compares with; ok is false when
// it compares with nothing.
func (q Query) baseline() (tr backend.TimeRange, ok bool, err error) {
	switch {
	case q.BaselineFrom == 0 && q.BaselineTo == 0:
		return tr, false, nil
	case q.BaselineFrom == 0 || q.BaselineTo == 0:
		return tr, false, fmt.Errorf("baselineFrom and baselineTo: give both (epoch milliseconds) to compare with a baseline range, or neither")
	case q.BaselineFrom < 0 || q.BaselineTo <= q.BaselineFrom:
		return tr, false, fmt.Errorf("baselineTo (%d) must be after baselineFrom (%d), both epoch milliseconds", q.BaselineTo, q.BaselineFrom)
	}
	return backend.TimeRange{From: time.UnixMilli(q.BaselineFrom), To: time.UnixMilli(q.BaselineTo)}, true, nil
}

// profileQuery is the agents' profile query for q.
func (q Query) profileQuery(tr backend.TimeRange) (agentapi.ProfileQuery, error) {
	if q.MaxNodes < 0 || q.MaxNodes > agentapi.MaxMaxNodes {
		return agentapi.ProfileQuery{}, fmt.Errorf("maxNodes %d: want 1..%d", q.MaxNodes, agentapi.MaxMaxNodes)
	}
	return agentapi.ProfileQuery{From: tr.From, To: tr.To, Service: q.Service, Pool: q.Pool, Endpoint: q.Endpoint}, nil
}

// redQuery is the agents' RED query for q: the step is the panel's
// interval, made coarser when the range would have too many points.
func (q Query) redQuery(dq backend.DataQuery) (agentapi.REDQuery, []frames.REDMetric, error) {
	rq := agentapi.REDQuery{
		From: dq.TimeRange.From, To: dq.TimeRange.To,
		Service: q.Service, Pool: q.Pool, Method: strings.ToUpper(q.Method), PathPrefix: q.Path, Endpoint: q.Endpoint,
		GroupBy: agentapi.REDGroupBy(q.GroupBy), Limit: q.Limit,
	}
	switch rq.GroupBy {
	case "":
		rq.GroupBy = agentapi.GroupByEndpoint
	case agentapi.GroupByEndpoint, agentapi.GroupByPool, agentapi.GroupByService, agentapi.GroupByNone:
	default:
		return rq, nil, fmt.Errorf("groupBy %q: want endpoint, pool, service or none", q.GroupBy)
	}
	if rq.Limit < 0 || rq.Limit > agentapi.MaxREDLimit {
		return rq, nil, fmt.Errorf("limit %d: want 1..%d series", rq.Limit, agentapi.MaxREDLimit)
	}
	span := dq.TimeRange.To.Sub(dq.TimeRange.From)
	step := max(dq.Interval, agentapi.MinREDStep)
	if points := int64(min(dq.MaxDataPoints, agentapi.MaxREDPoints)); points > 0 && span/step > time.Duration(points) {
		step = span / time.Duration(points)
	}
	if span/step >= agentapi.MaxREDPoints {
		step = span/agentapi.MaxREDPoints + time.Second
	}
	rq.Step = (step + time.Second - 1).Truncate(time.Second) // whole seconds, never finer than asked
	var metrics []frames.REDMetric
	for _, name := range q.Metrics {
		m, err := frames.ParseREDMetric(name)
		if err != nil {
			return rq, nil, err
		}
		metrics = append(metrics, m)
	}
	return rq, metrics, nil
}

func parseDuration(name, s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%s %q: want a duration such as 250ms or 2s", name, s)
	}
	return d, nil
}
