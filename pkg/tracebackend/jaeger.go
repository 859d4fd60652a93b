package tracebackend

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tusk-php/tusk/pkg/trace"
)

// Jaeger reads Jaeger's HTTP query API (/api/traces, /api/services: the one
// its UI and Grafana's Jaeger datasource use), Jaeger v1 and v2 alike.
type Jaeger struct{ *client }

// maxJaegerServices bounds a search without a service: Jaeger needs one per
// request, so such a search asks each service the store knows.
const maxJaegerServices = 20

type jaegerResponse struct {
	Data   []jaegerTrace `json:"data"`
	Errors []struct {
		Code int    `json:"code"`
		Msg  string `json:"msg"`
	} `json:"errors"`
}

type jaegerTrace struct {
	TraceID   string                   `json:"traceID"`
	Spans     []jaegerSpan             `json:"spans"`
	Processes map[string]jaegerProcess `json:"processes"`
}

type jaegerSpan struct {
	TraceID       string      `json:"traceID"`
	SpanID        string      `json:"spanID"`
	OperationName string      `json:"operationName"`
	References    []jaegerRef `json:"references"`
	StartTime     int64       `json:"startTime"` // µs since the epoch
	Duration      int64       `json:"duration"`  // µs
	Tags          []jaegerKV  `json:"tags"`
	Logs          []struct {
		Timestamp int64      `json:"timestamp"`
		Fields    []jaegerKV `json:"fields"`
	} `json:"logs"`
	ProcessID string `json:"processID"`
}

type jaegerRef struct {
	RefType string `json:"refType"`
	TraceID string `json:"traceID"`
	SpanID  string `json:"spanID"`
}

type jaegerProcess struct {
	ServiceName string     `json:"serviceName"`
	Tags        []jaegerKV `json:"tags"`
}

type jaegerKV struct {
	Key   string `json:"key"`
	Type  string `json:"type"`
	Value any    `json:"value"`
}

func (j *Jaeger) Check(ctx context.Context) (string, error) {
	services, err := j.services(ctx)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("Jaeger at %s: %d services", j.opts.URL, len(services)), nil
}

func (j *Jaeger) services(ctx context.Context) ([]string, error) {
	var resp struct {
		Data []string `json:"data"`
	}
	if err := j.getJSON(ctx, "/api/services", nil, &resp); err != nil {
		return nil, err
	}
	return resp.Data, nil
}

// Search asks Jaeger with what its API filters on (service, time, duration,
// method, status, error as tags) and filters the path prefix itself.
func (j *Jaeger) Search(ctx context.Context, q trace.Query) ([]trace.Summary, error) {
	services := []string{q.Service}
	if q.Service == "" {
		all, err := j.services(ctx)
		if err != nil {
			return nil, err
		}
		services = all[:min(len(all), maxJaegerServices)]
	}
	params := url.Values{}
	if !q.Start.IsZero() {
		params.Set("start", strconv.FormatInt(q.Start.UnixMicro(), 10))
	}
	if !q.End.IsZero() {
		params.Set("end", strconv.FormatInt(q.End.UnixMicro(), 10))
	}
	if q.MinDuration > 0 {
		params.Set("minDuration", q.MinDuration.String())
	}
	if q.MaxDuration > 0 {
		params.Set("maxDuration", q.MaxDuration.String())
	}
	// Only string tags go to Jaeger: how it matches bool and int tags
	// differs between versions (Jaeger v2 did not find error=true), so
	// status and errors are filtered here, on the summaries.
	tags := map[string]string{}
	if q.Method != "" {
		tags[trace.AttrHTTPMethod] = q.Method
	}
	if len(tags) > 0 {
		b, _ := json.Marshal(tags)
		params.Set("tags", string(b))
	}
	// Jaeger returns the newest matches; ask for more when the path prefix
	// or the order is applied afterwards.
	limit := q.EffectiveLimit()
	if q.PathPrefix != "" || q.Order == trace.OrderSlowest || q.StatusCode != 0 || q.ErrorsOnly || q.Pool != "" {
		limit = min(limit*4, 1500)
	}
	params.Set("limit", strconv.Itoa(limit))
	var sums []trace.Summary
	for _, svc := range services {
		params.Set("service", svc)
		var resp jaegerResponse
		if err := j.getJSON(ctx, "/api/traces", params, &resp); err != nil {
			return nil, err
		}
		for _, jt := range resp.Data {
			t, err := jt.toTrace()
			if err != nil {
				return nil, err
			}
			sums = append(sums, t.Summary)
		}
	}
	return finishSearch(sums, q), nil
}

// Trace fetches one trace by id.
func (j *Jaeger) Trace(ctx context.Context, id trace.TraceID) (*trace.Trace, error) {
	var resp jaegerResponse
	if err := j.getJSON(ctx, "/api/traces/"+id.String(), nil, &resp); err != nil {
		return nil, err
	}
	if len(resp.Data) == 0 {
		return nil, fmt.Errorf("jaeger: trace %s: %w", id, errNotFound)
	}
	return resp.Data[0].toTrace()
}

// toTrace converts Jaeger's model back to the agent's: the span kind,
// status and events Jaeger keeps as tags and logs become fields again.
func (jt *jaegerTrace) toTrace() (*trace.Trace, error) {
	t := &trace.Trace{}
	var err error
	if t.TraceID, err = trace.ParseTraceID(padHex(jt.TraceID, 32)); err != nil {
		return nil, fmt.Errorf("jaeger trace id %q: %w", jt.TraceID, err)
	}
	rootService := ""
	for _, js := range jt.Spans {
		s := trace.Span{Name: js.OperationName, Kind: trace.KindInternal, StartUnixNano: js.StartTime * int64(time.Microsecond),
			DurationNano: js.Duration * int64(time.Microsecond), Attributes: trace.Attributes{}, Status: trace.Status{Code: trace.StatusUnset}}
		if s.SpanID, err = trace.ParseSpanID(padHex(js.SpanID, 16)); err != nil {
			return nil, fmt.Errorf("jaeger span id %q: %w", js.SpanID, err)
		}
		for _, r := range js.References {
			if r.RefType == "CHILD_OF" && padHex(r.TraceID, 32) == t.TraceID.String() {
				s.ParentSpanID, _ = trace.ParseSpanID(padHex(r.SpanID, 16))
			}
		}
		for _, kv := range js.Tags {
			switch kv.Key {
			case "span.kind":
				s.Kind = trace.SpanKind(fmt.Sprint(kv.Value))
			case "otel.status_code":
				switch fmt.Sprint(kv.Value) {
				case "ERROR":
					s.Status.Code = trace.StatusError
				case "OK":
					s.Status.Code = trace.StatusOK
				}
			case "otel.status_description":
				s.Status.Message = fmt.Sprint(kv.Value)
			case "error", "otel.scope.name", "otel.scope.version", "otel.library.name", "otel.library.version", "internal.span.format", "w3c.tracestate":
			default:
				s.Attributes[kv.Key] = kvValue(kv)
			}
		}
		proc := jt.Processes[js.ProcessID]
		for _, l := range js.Logs {
			e := trace.Event{TimeUnixNano: l.Timestamp * int64(time.Microsecond), Attributes: trace.Attributes{}}
			for _, kv := range l.Fields {
				if kv.Key == "event" {
					e.Name = fmt.Sprint(kv.Value)
					continue
				}
				e.Attributes[kv.Key] = kvValue(kv)
			}
			s.Events = append(s.Events, e)
		}
		if s.ParentSpanID.IsZero() {
			rootService = proc.ServiceName
		}
		t.Spans = append(t.Spans, s)
	}
	if rootService == "" && len(jt.Spans) > 0 {
		rootService = jt.Processes[jt.Spans[0].ProcessID].ServiceName
	}
	// The agent keeps host, pid, pool and k8s names on the request span;
	// Jaeger moved them to the process. They go back where they were.
	if root := rootSpan(t); root != nil {
		for i, js := range jt.Spans {
			if padHex(js.SpanID, 16) == root.SpanID.String() {
				addResource(&t.Spans[i], jt.Processes[js.ProcessID].Tags)
			}
		}
	}
	summarize(t, rootService)
	return t, nil
}

func addResource(s *trace.Span, tags []jaegerKV) {
	for _, kv := range tags {
		if _, ok := s.Attributes[kv.Key]; !ok && isRestoredResource(kv.Key) {
			s.Attributes[kv.Key] = kvValue(kv)
		}
	}
}

// isRestoredResource: the resource attributes the exporter moved off the
// request span go back on it; service.name is the trace's service instead.
func isRestoredResource(key string) bool {
	return trace.IsResourceAttribute(key) && key != trace.AttrServiceName
}

// kvValue restores a tag's type: Jaeger's JSON carries int64 as a number.
func kvValue(kv jaegerKV) any {
	switch v := kv.Value.(type) {
	case float64:
		if kv.Type == "int64" {
			return int64(v)
		}
		return v
	case bool, string:
		return v
	}
	return fmt.Sprint(kv.Value)
}

// padHex puts back the leading zeros Jaeger and Tempo leave out of ids.
func padHex(s string, n int) string {
	s = strings.ToLower(s)
	if len(s) < n {
		return strings.Repeat("0", n-len(s)) + s
	}
	return s
}
