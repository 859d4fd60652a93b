package agentapi

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tusk-php/tusk/pkg/trace"
)

func sameFunctionTracesQuery(a, b FunctionTracesQuery) bool {
	if !sameQuery(a.Traces, b.Traces) {
		return false
	}
	a.Traces, b.Traces = trace.Query{}, trace.Query{}
	return a == b
}

func TestFunctionTracesRoundTrip(t *testing.T) {
	cest := time.FixedZone("CEST", 2*60*60)
	for _, q := range []FunctionTracesQuery{
		{Function: "burn"},
		{
			Function: `App\Cart::total`, File: "/srv/app/src/Cart.php", Endpoint: "POST /cart?x=ü",
			Traces: trace.Query{
				Start: time.Date(2026, 11, 25, 9, 30, 0, 123456789, cest), End: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC),
				MinDuration: time.Millisecond, MaxDuration: time.Second, Service: "shop", Pool: "www", Method: "POST",
				PathPrefix: "/cart", StatusCode: 500, ErrorsOnly: true, Limit: trace.MaxLimit,
			},
		},
	} {
		v := EncodeFunctionTracesQuery(q)
		parsed, err := url.ParseQuery(v.Encode())
		if err != nil {
			t.Fatal(err)
		}
		got, err := DecodeFunctionTracesParams(parsed)
		if err != nil {
			t.Fatalf("DecodeFunctionTracesParams(%q): %v", v.Encode(), err)
		}
		if !sameFunctionTracesQuery(got, q) {
			t.Errorf("round trip of %q:\n got %+v\nwant %+v", v.Encode(), got, q)
		}
	}
	if v := EncodeFunctionTracesQuery(FunctionTracesQuery{Function: "f", Traces: trace.Query{Order: trace.OrderSlowest}}); v.Has(ParamOrder) {
		t.Errorf("order sent: %q", v.Encode())
	}
}

func TestDecodeFunctionTracesParamsRejects(t *testing.T) {
	for _, tc := range []struct {
		raw  string
		want []string
	}{
		{"", []string{"function: name the function", "Class::method"}},
		{"function=", []string{"function: name the function"}},
		{"function=f&order=slowest", []string{`unknown parameter "order"`, "known: function, file, from"}},
		{"function=f&start=1", []string{`unknown parameter "start"`}},
		{"function=f&function=g", []string{"function: given 2 times"}},
		{"function=f&from=2026-11-25T10:00:00Z&to=2026-11-25T09:00:00Z", []string{"to:", "is before from"}},
		{"function=f&from=yesterday", []string{"from:", "RFC 3339"}},
		{"function=f&minDuration=2s&maxDuration=1s", []string{"maxDuration", "below minDuration"}},
		{"function=f&status=42", []string{"status:", "100 to 599"}},
		{"function=f&limit=5001", []string{"limit:", "1 to 5000"}},
		{"function=f&errorsOnly=maybe", []string{"errorsOnly:"}},
	} {
		v, err := url.ParseQuery(tc.raw)
		if err != nil {
			t.Fatal(err)
		}
		q, err := DecodeFunctionTracesParams(v)
		if err == nil {
			t.Errorf("DecodeFunctionTracesParams(%q) = %+v, want an error", tc.raw, q)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("DecodeFunctionTracesParams(%q) error %q does not mention %q", tc.raw, err, w)
			}
		}
	}
}

func TestFunctionTracesWithDefaults(t *testing.T) {
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	q := FunctionTracesQuery{Function: "f"}.WithDefaults(now)
	if !q.Traces.End.Equal(now) || !q.Traces.Start.Equal(now.Add(-DefaultProfileRange)) {
		t.Errorf("defaults: %+v", q.Traces)
	}
	from := now.Add(-5 * time.Minute)
	q = FunctionTracesQuery{Function: "f", Traces: trace.Query{Start: from}}.WithDefaults(now)
	if !q.Traces.Start.Equal(from) || !q.Traces.End.Equal(now) {
		t.Errorf("from kept: %+v", q.Traces)
	}
}

func TestClientFunctionTraces(t *testing.T) {
	c, seen := stub(t, 200, `{"scanned":3,"truncated":false,"traces":[{"traceId":"0af7651916cd43dd8448eb211c80319c","service":"shop",
		"startUnixNano":1,"durationNano":2,"error":false,"incomplete":false,"spanCount":1,"functionSamples":7,"functionCpuNs":70,"samples":9}]}`)
	resp, err := c.FunctionTraces(context.Background(), FunctionTracesQuery{Function: "burn", File: "/app/burn.php"})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Scanned != 3 || len(resp.Traces) != 1 || resp.Traces[0].FunctionSamples != 7 || resp.Traces[0].FunctionCPUNs != 70 ||
		resp.Traces[0].Samples != 9 || resp.Traces[0].Service != "shop" {
		t.Errorf("answer %+v", resp)
	}
	if q, _ := url.ParseQuery(seen.rawQuery); seen.path != PathProfileTraces || q.Get(ParamFunction) != "burn" || q.Get(ParamFile) != "/app/burn.php" {
		t.Errorf("request %s?%s", seen.path, seen.rawQuery)
	}
}

func TestOpenAPIFunctionTracesParams(t *testing.T) {
	if got := documentedQueryParams(t, PathProfileTraces); !slices.Equal(got, FunctionTracesParams) {
		t.Errorf("openapi.yaml documents %v for %s, DecodeFunctionTracesParams accepts %v", got, PathProfileTraces, FunctionTracesParams)
	}
}

// FuzzDecodeFunctionTracesParams: never panics; what is accepted passes
// Validate and survives EncodeFunctionTracesQuery unchanged.
func FuzzDecodeFunctionTracesParams(f *testing.F) {
	f.Add("function=burn&file=%2Fapp%2Fburn.php&from=1764061200000&to=2026-11-25T10:00:00Z&limit=20")
	f.Add("function=App%5CCart%3A%3Atotal&service=shop&pool=www&endpoint=GET+%2Fcart&method=get&pathPrefix=%2Fc&status=500&errorsOnly=1&minDuration=1ms&maxDuration=2s")
	f.Add("function=&limit=0&zzz=")
	f.Fuzz(func(t *testing.T, raw string) {
		v, _ := url.ParseQuery(raw)
		q, err := DecodeFunctionTracesParams(v)
		if err != nil {
			return
		}
		if err := q.Validate(); err != nil {
			t.Fatalf("accepted %+v, which fails Validate: %v", q, err)
		}
		again, err := DecodeFunctionTracesParams(EncodeFunctionTracesQuery(q))
		if err != nil || !sameFunctionTracesQuery(again, q) {
			t.Fatalf("round trip of %q: %+v → %+v, %v", raw, q, again, err)
		}
	})
}
