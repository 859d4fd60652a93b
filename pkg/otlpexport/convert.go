package otlpexport

import (
	"fmt"
	"math"
	"slices"

	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/tusk-php/tusk/pkg/trace"
)

// ScopeName is the instrumentation scope of every exported span; its version
// is the agent's.
const ScopeName = "tusk"

// Resource attributes the exporter sets besides those it moves from the
// request span (see trace.IsResourceAttribute).
const (
	AttrSDKName     = "telemetry.sdk.name"     // "tusk"
	AttrSDKVersion  = "telemetry.sdk.version"  // the agent's version
	AttrSDKLanguage = "telemetry.sdk.language" // "php": the language of what is instrumented
	AttrIncomplete  = "tusk.incomplete"        // on the request span of a trace known to miss pieces
)

// Info describes the agent for the resource and scope.
type Info struct {
	// Host is host.name when the trace carries none.
	Host string
	// Version is the agent's version: telemetry.sdk.version and the
	// instrumentation scope's version.
	Version string
}

// Convert turns one trace into OTLP: one resource (the PHP process that
// served it) with one scope holding every span.
func Convert(t *trace.Trace, info Info) *tracepb.ResourceSpans {
	return convertChunk(t, 0, len(t.Spans), info)
}

// convertChunk converts spans [lo, hi) of t. A trace too large for one
// request is sent in several chunks, each with the same resource.
func convertChunk(t *trace.Trace, lo, hi int, info Info) *tracepb.ResourceSpans {
	spans := make([]*tracepb.Span, 0, hi-lo)
	for i := lo; i < hi; i++ {
		spans = append(spans, convertSpan(t, i))
	}
	return &tracepb.ResourceSpans{
		Resource: resource(t, info),
		ScopeSpans: []*tracepb.ScopeSpans{{
			Scope: &commonpb.InstrumentationScope{Name: ScopeName, Version: info.Version},
			Spans: spans,
		}},
	}
}

// resource: the request span's resource attributes, the trace's service
// and host, and the telemetry.sdk.* triple.
func resource(t *trace.Trace, info Info) *resourcepb.Resource {
	attrs := map[string]any{}
	if root := t.Root(); root != nil {
		for k, v := range root.Attributes {
			if trace.IsResourceAttribute(k) {
				attrs[k] = v
			}
		}
	}
	if t.Service != "" {
		attrs[trace.AttrServiceName] = t.Service
	}
	if _, ok := attrs[trace.AttrServiceName]; !ok {
		attrs[trace.AttrServiceName] = "php"
	}
	if _, ok := attrs[trace.AttrHostName]; !ok {
		host := t.Host
		if host == "" {
			host = info.Host
		}
		if host != "" {
			attrs[trace.AttrHostName] = host
		}
	}
	if _, ok := attrs[trace.AttrPHPPool]; !ok && t.Pool != "" {
		attrs[trace.AttrPHPPool] = t.Pool
	}
	attrs[AttrSDKName] = ScopeName
	attrs[AttrSDKLanguage] = "php"
	if info.Version != "" {
		attrs[AttrSDKVersion] = info.Version
	}
	return &resourcepb.Resource{Attributes: keyValues(attrs, nil)}
}

func convertSpan(t *trace.Trace, i int) *tracepb.Span {
	s := &t.Spans[i]
	out := &tracepb.Span{
		TraceId:           t.TraceID[:],
		SpanId:            s.SpanID[:],
		Name:              s.Name,
		Kind:              spanKind(s.Kind),
		StartTimeUnixNano: unixNano(s.StartUnixNano),
		EndTimeUnixNano:   unixNano(s.StartUnixNano + max(s.DurationNano, 0)),
		// Every span is recorded (W3C sampled flag), and we know whether
		// its parent is remote: only the request span's can be.
		Flags: 0x01 | uint32(tracepb.SpanFlags_SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE_MASK),
	}
	if !s.ParentSpanID.IsZero() {
		out.ParentSpanId = s.ParentSpanID[:]
		if i == 0 {
			out.Flags |= uint32(tracepb.SpanFlags_SPAN_FLAGS_CONTEXT_IS_REMOTE_MASK)
		}
	}
	var skip func(string) bool
	if i == 0 {
		skip = trace.IsResourceAttribute
	}
	out.Attributes = keyValues(s.Attributes, skip)
	if i == 0 && t.Incomplete {
		out.Attributes = append(out.Attributes, keyValue(AttrIncomplete, true))
	}
	for _, e := range s.Events {
		out.Events = append(out.Events, &tracepb.Span_Event{
			Name:         e.Name,
			TimeUnixNano: unixNano(e.TimeUnixNano),
			Attributes:   keyValues(e.Attributes, nil),
		})
	}
	switch s.Status.Code {
	case trace.StatusOK:
		out.Status = &tracepb.Status{Code: tracepb.Status_STATUS_CODE_OK}
	case trace.StatusError:
		// OpenTelemetry keeps the description for errors only.
		out.Status = &tracepb.Status{Code: tracepb.Status_STATUS_CODE_ERROR, Message: s.Status.Message}
	}
	return out
}

func spanKind(k trace.SpanKind) tracepb.Span_SpanKind {
	switch k {
	case trace.KindServer:
		return tracepb.Span_SPAN_KIND_SERVER
	case trace.KindClient:
		return tracepb.Span_SPAN_KIND_CLIENT
	case trace.KindInternal:
		return tracepb.Span_SPAN_KIND_INTERNAL
	}
	return tracepb.Span_SPAN_KIND_UNSPECIFIED
}

func unixNano(ns int64) uint64 { return uint64(max(ns, 0)) }

// keyValues converts attributes in key order (stable output), leaving out
// nil values and the keys skip selects.
func keyValues(attrs map[string]any, skip func(string) bool) []*commonpb.KeyValue {
	if len(attrs) == 0 {
		return nil
	}
	keys := make([]string, 0, len(attrs))
	for k, v := range attrs {
		if v != nil && (skip == nil || !skip(k)) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	out := make([]*commonpb.KeyValue, 0, len(keys))
	for _, k := range keys {
		out = append(out, keyValue(k, attrs[k]))
	}
	return out
}

func keyValue(k string, v any) *commonpb.KeyValue {
	return &commonpb.KeyValue{Key: k, Value: anyValue(v)}
}

// anyValue maps the model's attribute values (string, int64, float64,
// bool) to OTLP; other Go numbers are accepted too, anything else becomes
// its text.
func anyValue(v any) *commonpb.AnyValue {
	switch x := v.(type) {
	case string:
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: x}}
	case bool:
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_BoolValue{BoolValue: x}}
	case int64:
		return intValue(x)
	case int:
		return intValue(int64(x))
	case int32:
		return intValue(int64(x))
	case uint32:
		return intValue(int64(x))
	case uint64:
		if x > math.MaxInt64 {
			return &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: fmt.Sprint(x)}}
		}
		return intValue(int64(x))
	case float64:
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_DoubleValue{DoubleValue: x}}
	case float32:
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_DoubleValue{DoubleValue: float64(x)}}
	case []string:
		vals := make([]*commonpb.AnyValue, len(x))
		for i, s := range x {
			vals[i] = &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: s}}
		}
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_ArrayValue{ArrayValue: &commonpb.ArrayValue{Values: vals}}}
	}
	return &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: fmt.Sprint(v)}}
}

func intValue(i int64) *commonpb.AnyValue {
	return &commonpb.AnyValue{Value: &commonpb.AnyValue_IntValue{IntValue: i}}
}

// spanSize estimates a span's encoded size, to keep requests well under
// receivers' message limits (4 MiB by default for gRPC).
func spanSize(s *trace.Span) int {
	n := 80 + len(s.Name) + len(s.Status.Message) + attrsSize(s.Attributes)
	for _, e := range s.Events {
		n += 24 + len(e.Name) + attrsSize(e.Attributes)
	}
	return n
}

func attrsSize(a trace.Attributes) int {
	n := 0
	for k, v := range a {
		n += 16 + len(k)
		if s, ok := v.(string); ok {
			n += len(s)
		}
	}
	return n
}
