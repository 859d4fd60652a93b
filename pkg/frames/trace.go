package frames

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/tusk-php/tusk/pkg/trace"
)

// InstrumentationLibrary names what produced the spans in the trace view.
type InstrumentationLibrary struct {
	Name    string
	Version string
}

// keyValue is one tag, log field or service tag of the trace frame.
type keyValue struct {
	Key   string `json:"key"`
	Value any    `json:"value"`
}

type spanLog struct {
	Timestamp float64    `json:"timestamp"` // ms since the epoch
	Name      string     `json:"name,omitempty"`
	Fields    []keyValue `json:"fields"`
}

type spanReference struct {
	TraceID string     `json:"traceID"`
	SpanID  string     `json:"spanID"`
	Tags    []keyValue `json:"tags,omitempty"`
}

// Trace is the frame Grafana's TraceView reads, field for field what
// Tempo's datasource returns (@grafana/data TraceSpanRow): one row per span,
// times as float ms, tags/logs/references as JSON.
func Trace(t *trace.Trace, lib InstrumentationLibrary) (*data.Frame, error) {
	n := len(t.Spans)
	var (
		traceIDs      = make([]string, n)
		spanIDs       = make([]string, n)
		parentIDs     = make([]string, n)
		operations    = make([]string, n)
		services      = make([]string, n)
		serviceTags   = make([]json.RawMessage, n)
		starts        = make([]float64, n)
		durations     = make([]float64, n)
		logs          = make([]json.RawMessage, n)
		references    = make([]json.RawMessage, n)
		tags          = make([]json.RawMessage, n)
		kinds         = make([]string, n)
		statusCodes   = make([]int64, n)
		statusMsgs    = make([]string, n)
		libNames      = make([]string, n)
		libVersions   = make([]string, n)
		stackTraces   = make([]json.RawMessage, n)
		warnings      = make([]json.RawMessage, n)
		traceIDString = t.TraceID.String()
	)
	resource := resourceTags(t)
	resourceJSON, err := json.Marshal(resource)
	if err != nil {
		return nil, err
	}
	for i := range t.Spans {
		s := &t.Spans[i]
		traceIDs[i] = traceIDString
		spanIDs[i] = s.SpanID.String()
		if !s.ParentSpanID.IsZero() {
			parentIDs[i] = s.ParentSpanID.String()
		}
		operations[i] = s.Name
		services[i] = t.Service
		serviceTags[i] = resourceJSON
		starts[i] = float64(s.StartUnixNano) / float64(time.Millisecond)
		durations[i] = float64(s.DurationNano) / float64(time.Millisecond)
		kinds[i] = string(s.Kind)
		statusCodes[i] = otlpStatusCode(s.Status.Code)
		statusMsgs[i] = s.Status.Message
		libNames[i] = lib.Name
		libVersions[i] = lib.Version

		var stack []string
		if st, ok := s.Attributes[trace.AttrCodeStacktrace].(string); ok && st != "" {
			stack = []string{st}
		}
		var warn []string
		if i == 0 && t.Incomplete {
			warn = append(warn, "events were lost while this request ran (ring buffer full or agent restarted): spans may be missing")
		}
		if unfinished, _ := s.Attributes[trace.AttrPHPUnfinished].(bool); unfinished {
			warn = append(warn, "this function had not returned when the request ended (fatal error or exit)")
		}
		for _, v := range []struct {
			dst *json.RawMessage
			val any
		}{
			{&tags[i], spanTags(s)},
			{&logs[i], spanLogs(s)},
			{&references[i], []spanReference{}},
			{&stackTraces[i], stack},
			{&warnings[i], warn},
		} {
			if *v.dst, err = json.Marshal(v.val); err != nil {
				return nil, fmt.Errorf("span %s: %w", s.SpanID, err)
			}
		}
	}
	f := data.NewFrame("Trace",
		data.NewField("traceID", nil, traceIDs),
		data.NewField("spanID", nil, spanIDs),
		data.NewField("parentSpanID", nil, parentIDs),
		data.NewField("operationName", nil, operations),
		data.NewField("serviceName", nil, services),
		data.NewField("kind", nil, kinds),
		data.NewField("statusCode", nil, statusCodes),
		data.NewField("statusMessage", nil, statusMsgs),
		data.NewField("instrumentationLibraryName", nil, libNames),
		data.NewField("instrumentationLibraryVersion", nil, libVersions),
		data.NewField("serviceTags", nil, serviceTags),
		data.NewField("startTime", nil, starts),
		data.NewField("duration", nil, durations),
		data.NewField("logs", nil, logs),
		data.NewField("references", nil, references),
		data.NewField("tags", nil, tags),
		data.NewField("stackTraces", nil, stackTraces),
		data.NewField("warnings", nil, warnings),
	)
	f.SetMeta(&data.FrameMeta{PreferredVisualization: data.VisTypeTrace})
	return f, nil
}

// otlpStatusCode is OTLP's numbering, which TraceView reads: 0 unset, 1 ok,
// 2 error.
func otlpStatusCode(c trace.StatusCode) int64 {
	switch c {
	case trace.StatusOK:
		return 1
	case trace.StatusError:
		return 2
	}
	return 0
}

// resourceTags are the trace's service and the resource attributes found
// on the request span (the other spans do not repeat them): service.name
// first, the rest sorted.
func resourceTags(t *trace.Trace) []keyValue {
	out := []keyValue{{trace.AttrServiceName, t.Service}}
	root := t.Root()
	if root == nil {
		return out
	}
	for k, v := range root.Attributes {
		if trace.IsResourceAttribute(k) && k != trace.AttrServiceName {
			out = append(out, keyValue{k, v})
		}
	}
	slices.SortFunc(out[1:], func(a, b keyValue) int { return cmp.Compare(a.Key, b.Key) })
	return out
}

// spanTags are a span's attributes, sorted, minus the resource attributes
// and the stack trace (which TraceView shows in its own section).
func spanTags(s *trace.Span) []keyValue {
	out := make([]keyValue, 0, len(s.Attributes)+1)
	for k, v := range s.Attributes {
		if k == trace.AttrCodeStacktrace || trace.IsResourceAttribute(k) {
			continue
		}
		out = append(out, keyValue{k, v})
	}
	// Tempo shows the span kind as a tag too, where people look for it.
	out = append(out, keyValue{"span.kind", string(s.Kind)})
	slices.SortFunc(out, func(a, b keyValue) int { return cmp.Compare(a.Key, b.Key) })
	return out
}

// spanLogs are a span's events (exceptions, PHP errors) as TraceView logs.
func spanLogs(s *trace.Span) []spanLog {
	out := make([]spanLog, 0, len(s.Events))
	for _, e := range s.Events {
		fields := make([]keyValue, 0, len(e.Attributes)+1)
		fields = append(fields, keyValue{"event", e.Name})
		keys := make([]string, 0, len(e.Attributes))
		for k := range e.Attributes {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			fields = append(fields, keyValue{k, e.Attributes[k]})
		}
		out = append(out, spanLog{Timestamp: float64(e.TimeUnixNano) / float64(time.Millisecond), Name: e.Name, Fields: fields})
	}
	return out
}
