package otlpexport

import (
	"bytes"
	"testing"

	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/tusk-php/tusk/pkg/trace"
)

// sampleTrace is a request with a remote parent, resource-like attributes
// (including the k8s ones another component adds), an exception event, a
// failing SQL client span and a function span.
func sampleTrace() *trace.Trace {
	tid, _ := trace.ParseTraceID("0af7651916cd43dd8448eb211c80319c")
	remote, _ := trace.ParseSpanID("b7ad6b7169203331")
	root, _ := trace.ParseSpanID("00f067aa0ba902b7")
	sql, _ := trace.ParseSpanID("1111111111111111")
	fn, _ := trace.ParseSpanID("2222222222222222")
	return &trace.Trace{
		Summary: trace.Summary{TraceID: tid, Service: "shop", Pool: "www", Host: "web-1", Method: "GET", Path: "/cart",
			StatusCode: 500, StartUnixNano: 1_700_000_000_000_000_000, DurationNano: 5_000_000, Error: true, Incomplete: true, SpanCount: 3},
		Spans: []trace.Span{
			{SpanID: root, ParentSpanID: remote, Name: "GET /cart", Kind: trace.KindServer,
				StartUnixNano: 1_700_000_000_000_000_000, DurationNano: 5_000_000,
				Attributes: trace.Attributes{
					trace.AttrServiceName: "shop", trace.AttrHostName: "web-1", trace.AttrProcessPID: int64(4242),
					trace.AttrThreadID: int64(4242), trace.AttrPHPPool: "www", trace.AttrPHPVersion: "8.2.29",
					"k8s.pod.name": "shop-7d9f", "k8s.namespace.name": "prod", "k8s.pod.uid": "uid-1", "k8s.container.name": "php",
					"container.id":       "abc123",
					trace.AttrHTTPMethod: "GET", trace.AttrURLPath: "/cart", trace.AttrHTTPStatusCode: int64(500),
					trace.AttrPHPProbeMode: "usdt",
				},
				Events: []trace.Event{{Name: trace.EventException, TimeUnixNano: 1_700_000_000_004_000_000, Attributes: trace.Attributes{
					trace.AttrExceptionType: "RuntimeException", trace.AttrExceptionMessage: "boom", trace.AttrExceptionEscaped: true,
				}}},
				Status: trace.Status{Code: trace.StatusError, Message: "HTTP 500"}},
			{SpanID: sql, ParentSpanID: root, Name: "SELECT posts", Kind: trace.KindClient,
				StartUnixNano: 1_700_000_000_001_000_000, DurationNano: 2_000_000,
				Attributes: trace.Attributes{trace.AttrDBSystem: "mysql", trace.AttrDBQueryText: "SELECT * FROM posts",
					trace.AttrCodeFunction: "count_posts", trace.AttrCodeLineNumber: int64(14), "tusk.ratio": 0.5},
				Status: trace.Status{Code: trace.StatusError, Message: "Table 'no_such_table' doesn't exist"}},
			{SpanID: fn, ParentSpanID: root, Name: "App::run", Kind: trace.KindInternal,
				StartUnixNano: 1_700_000_000_000_500_000, DurationNano: 4_000_000,
				Status: trace.Status{Code: trace.StatusOK, Message: "not sent"}},
		},
	}
}

func attrMap(t *testing.T, kvs []*commonpb.KeyValue) map[string]any {
	t.Helper()
	out := map[string]any{}
	for _, kv := range kvs {
		if _, dup := out[kv.Key]; dup {
			t.Errorf("attribute %s twice", kv.Key)
		}
		switch v := kv.Value.Value.(type) {
		case *commonpb.AnyValue_StringValue:
			out[kv.Key] = v.StringValue
		case *commonpb.AnyValue_IntValue:
			out[kv.Key] = v.IntValue
		case *commonpb.AnyValue_DoubleValue:
			out[kv.Key] = v.DoubleValue
		case *commonpb.AnyValue_BoolValue:
			out[kv.Key] = v.BoolValue
		default:
			t.Errorf("attribute %s: unexpected value %T", kv.Key, v)
		}
	}
	return out
}

func sameAttrs(t *testing.T, what string, got, want map[string]any) {
	t.Helper()
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %s = %#v, want %#v", what, k, got[k], v)
		}
	}
	for k, v := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: unexpected %s = %#v", what, k, v)
		}
	}
}

func TestConvertResourceScopeAndSpans(t *testing.T) {
	tr := sampleTrace()
	rs := Convert(tr, Info{Host: "agent-host", Version: "1.2.3"})

	sameAttrs(t, "resource", attrMap(t, rs.Resource.Attributes), map[string]any{
		"service.name": "shop", "host.name": "web-1", "process.pid": int64(4242),
		"php.fpm.pool": "www", "php.version": "8.2.29",
		"k8s.pod.name": "shop-7d9f", "k8s.namespace.name": "prod", "k8s.pod.uid": "uid-1", "k8s.container.name": "php",
		"container.id":       "abc123",
		"telemetry.sdk.name": "tusk", "telemetry.sdk.language": "php", "telemetry.sdk.version": "1.2.3",
	})
	if len(rs.ScopeSpans) != 1 || rs.ScopeSpans[0].Scope.Name != "tusk" || rs.ScopeSpans[0].Scope.Version != "1.2.3" {
		t.Fatalf("scope %+v", rs.ScopeSpans)
	}
	spans := rs.ScopeSpans[0].Spans
	if len(spans) != 3 {
		t.Fatalf("%d spans", len(spans))
	}
	for i, s := range spans {
		in := tr.Spans[i]
		if !bytes.Equal(s.TraceId, tr.TraceID[:]) || !bytes.Equal(s.SpanId, in.SpanID[:]) || !bytes.Equal(s.ParentSpanId, in.ParentSpanID[:]) {
			t.Errorf("span %d ids %x %x %x", i, s.TraceId, s.SpanId, s.ParentSpanId)
		}
		if s.Name != in.Name || s.StartTimeUnixNano != uint64(in.StartUnixNano) || s.EndTimeUnixNano != uint64(in.StartUnixNano+in.DurationNano) {
			t.Errorf("span %d: %q %d..%d", i, s.Name, s.StartTimeUnixNano, s.EndTimeUnixNano)
		}
	}

	root := spans[0]
	if root.Kind != tracepb.Span_SPAN_KIND_SERVER || spans[1].Kind != tracepb.Span_SPAN_KIND_CLIENT || spans[2].Kind != tracepb.Span_SPAN_KIND_INTERNAL {
		t.Errorf("kinds %v %v %v", root.Kind, spans[1].Kind, spans[2].Kind)
	}
	// The request span keeps what describes the request; the process's
	// attributes went to the resource.
	sameAttrs(t, "request span", attrMap(t, root.Attributes), map[string]any{
		"thread.id": int64(4242), "http.request.method": "GET", "url.path": "/cart",
		"http.response.status_code": int64(500), "tusk.probe.mode": "usdt", "tusk.incomplete": true,
	})
	sameAttrs(t, "SQL span", attrMap(t, spans[1].Attributes), map[string]any{
		"db.system.name": "mysql", "db.query.text": "SELECT * FROM posts", "code.function.name": "count_posts",
		"code.line.number": int64(14), "tusk.ratio": 0.5,
	})
	if len(spans[2].Attributes) != 0 {
		t.Errorf("function span attributes %v", spans[2].Attributes)
	}

	if root.Status.Code != tracepb.Status_STATUS_CODE_ERROR || root.Status.Message != "HTTP 500" {
		t.Errorf("root status %v", root.Status)
	}
	if spans[1].Status.Code != tracepb.Status_STATUS_CODE_ERROR || spans[1].Status.Message != "Table 'no_such_table' doesn't exist" {
		t.Errorf("SQL status %v", spans[1].Status)
	}
	if spans[2].Status.Code != tracepb.Status_STATUS_CODE_OK || spans[2].Status.Message != "" {
		t.Errorf("ok status %v (no description for OK)", spans[2].Status)
	}

	if len(root.Events) != 1 || root.Events[0].Name != "exception" || root.Events[0].TimeUnixNano != 1_700_000_000_004_000_000 {
		t.Fatalf("events %v", root.Events)
	}
	sameAttrs(t, "exception", attrMap(t, root.Events[0].Attributes), map[string]any{
		"exception.type": "RuntimeException", "exception.message": "boom", "exception.escaped": true,
	})

	// Sampled, and the request span's parent is remote.
	if root.Flags != 0x301 || spans[1].Flags != 0x101 {
		t.Errorf("flags %#x %#x", root.Flags, spans[1].Flags)
	}
	if tr.Spans[0].Attributes[trace.AttrServiceName] != "shop" {
		t.Error("Convert modified the trace")
	}
}

func TestConvertRootWithoutParentAndFallbacks(t *testing.T) {
	tr := sampleTrace()
	tr.Spans[0].ParentSpanID = trace.SpanID{}
	tr.Spans[0].Attributes = trace.Attributes{trace.AttrServiceName: "from-attr"}
	tr.Host, tr.Incomplete = "", false
	tr.Spans[0].Status = trace.Status{Code: trace.StatusUnset}
	rs := Convert(tr, Info{Host: "agent-host"})
	res := attrMap(t, rs.Resource.Attributes)
	if res["service.name"] != "shop" || res["host.name"] != "agent-host" || res["php.fpm.pool"] != "www" {
		t.Errorf("resource %v", res)
	}
	if _, ok := res["telemetry.sdk.version"]; ok {
		t.Error("no version, no telemetry.sdk.version")
	}
	root := rs.ScopeSpans[0].Spans[0]
	if len(root.ParentSpanId) != 0 || root.Flags != 0x101 || root.Status != nil || len(root.Attributes) != 0 {
		t.Errorf("root %+v", root)
	}
}

func TestIsResourceKey(t *testing.T) {
	for k, want := range map[string]bool{
		"service.name": true, "service.namespace": true, "host.name": true, "process.pid": true, "k8s.pod.name": true,
		"container.id": true, "php.fpm.pool": true, "php.version": true,
		"thread.id": false, "php.script": false, "http.request.method": false, "k8s": false, "servicename": false,
	} {
		if trace.IsResourceAttribute(k) != want {
			t.Errorf("IsResourceAttribute(%q) = %v", k, !want)
		}
	}
}

func TestAnyValue(t *testing.T) {
	for _, c := range []struct {
		in   any
		want string
	}{
		{"x", `string_value:"x"`}, {int64(-3), `int_value:-3`}, {7, `int_value:7`}, {int32(8), `int_value:8`},
		{uint32(9), `int_value:9`}, {uint64(10), `int_value:10`}, {uint64(1 << 63), `string_value:"9223372036854775808"`},
		{1.5, `double_value:1.5`}, {float32(0.25), `double_value:0.25`}, {true, `bool_value:true`},
		{[]string{"a", "b"}, `array_value:{values:{string_value:"a"} values:{string_value:"b"}}`},
		{struct{ A int }{1}, `string_value:"{1}"`},
	} {
		got := anyValue(c.in).String()
		if normalize(got) != normalize(c.want) {
			t.Errorf("%#v: %s, want %s", c.in, got, c.want)
		}
	}
	if kv := keyValues(map[string]any{"a": nil, "b": "x"}, nil); len(kv) != 1 || kv[0].Key != "b" {
		t.Errorf("nil values are left out: %v", kv)
	}
}

// normalize removes the spaces protobuf's text format varies.
func normalize(s string) string {
	return string(bytes.Join(bytes.Fields([]byte(s)), nil))
}
