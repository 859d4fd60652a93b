package agentapi

import (
	"context"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tusk-php/tusk/pkg/trace"
)

func sameProfileQuery(a, b ProfileQuery) bool {
	if !a.From.Equal(b.From) || !a.To.Equal(b.To) {
		return false
	}
	a.From, a.To, b.From, b.To = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	return a == b
}

func TestProfileQueryRoundTrip(t *testing.T) {
	for _, q := range []ProfileQuery{
		{},
		{From: time.Date(2026, 11, 25, 9, 0, 0, 5, time.FixedZone("X", 3600)), To: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC),
			Service: "php-fpm", Pool: "www", Endpoint: "GET /wp-admin/?a=b&c=ü"},
		{TraceID: trace.TraceID{0xab, 15: 1}},
	} {
		parsed, err := url.ParseQuery(EncodeProfileQuery(q).Encode())
		if err != nil {
			t.Fatal(err)
		}
		got, maxNodes, err := DecodeFlamegraphParams(parsed)
		if err != nil || !sameProfileQuery(got, q) || maxNodes != DefaultMaxNodes {
			t.Errorf("flame graph round trip of %+v: %+v, %d, %v", q, got, maxNodes, err)
		}
		got, limit, err := DecodeTopParams(parsed)
		if err != nil || !sameProfileQuery(got, q) || limit != DefaultTopLimit {
			t.Errorf("top round trip of %+v: %+v, %d, %v", q, got, limit, err)
		}
		if got, err := DecodePprofParams(parsed); err != nil || !sameProfileQuery(got, q) {
			t.Errorf("pprof round trip of %+v: %+v, %v", q, got, err)
		}
	}
}

func TestProfileParamErrors(t *testing.T) {
	for raw, want := range map[string]string{
		"from=yesterday":                      `from: want an RFC 3339 time`,
		"to=1764063000000&from=1764063000001": "to: 1764063000000 is before from 1764063000001",
		"traceId=abc":                         `traceId: trace id "abc": want 32 hex digits`,
		"maxNodes=0":                          "maxNodes: want a whole number from 1 to 200000",
		"maxNodes=200001":                     "maxNodes: want a whole number from 1 to 200000",
		"limit=5":                             `unknown parameter "limit"`,
		"pool=a&pool=b":                       "pool: given 2 times",
		"start=1":                             `unknown parameter "start"; known: from, to, service, pool, endpoint, traceId, maxNodes`,
	} {
		v, _ := url.ParseQuery(raw)
		_, _, err := DecodeFlamegraphParams(v)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("?%s: %v, want %q", raw, err, want)
		}
	}
	v, _ := url.ParseQuery("limit=5001")
	if _, _, err := DecodeTopParams(v); err == nil || !strings.Contains(err.Error(), "limit: want a whole number from 1 to 5000") {
		t.Errorf("limit 5001: %v", err)
	}
	v, _ = url.ParseQuery("maxNodes=5")
	if _, err := DecodePprofParams(v); err == nil {
		t.Error("pprof accepted maxNodes")
	}
	if n, err := DecodeTraceProfileParams(v); err != nil || n != 5 {
		t.Errorf("trace profile maxNodes: %d, %v", n, err)
	}
	v, _ = url.ParseQuery("from=1")
	if _, err := DecodeTraceProfileParams(v); err == nil {
		t.Error("trace profile accepted from")
	}
}

func TestProfileQueryDefaults(t *testing.T) {
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	q := ProfileQuery{}.WithDefaults(now)
	if !q.To.Equal(now) || !q.From.Equal(now.Add(-time.Hour)) {
		t.Errorf("%+v", q)
	}
	to := now.Add(-24 * time.Hour)
	q = ProfileQuery{To: to}.WithDefaults(now)
	if !q.From.Equal(to.Add(-time.Hour)) {
		t.Errorf("from defaults relative to to: %+v", q)
	}
}

// TestOpenAPIProfileParams checks that each profile operation documents
// exactly the parameters its decoder accepts.
func TestOpenAPIProfileParams(t *testing.T) {
	b, err := os.ReadFile("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for path, want := range map[string][]string{
		PathProfileFlamegraph: append(slices.Clone(ProfileFilterParams), ParamMaxNodes),
		PathProfileTop:        append(slices.Clone(ProfileFilterParams), ParamLimit),
		PathProfilePprof:      ProfileFilterParams,
		PathTraces + "/{id}" + PathTraceProfileSuffix: {ParamMaxNodes},
	} {
		start := strings.Index(doc, "\n  "+path+":\n")
		if start < 0 {
			t.Errorf("openapi.yaml has no path %s", path)
			continue
		}
		section := doc[start+1:]
		if next := regexp.MustCompile(`\n  /|\ncomponents:`).FindStringIndex(section); next != nil {
			section = section[:next[0]]
		}
		var documented []string
		for _, m := range regexp.MustCompile(`(?m)^\s+- name: (\S+)\n\s+in: query$`).FindAllStringSubmatch(section, -1) {
			documented = append(documented, m[1])
		}
		if !slices.Equal(documented, want) {
			t.Errorf("%s: openapi.yaml documents %v, the decoder accepts %v", path, documented, want)
		}
	}
}

func TestClientProfileCalls(t *testing.T) {
	c, s := stub(t, 200, `{"unit":"samples","periodNs":10101010,"total":3,"nodes":[{"level":0,"label":"total","value":3,"self":0},{"level":1,"label":"{main}","file":"/i.php","value":3,"self":3}]}`)
	from := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	fg, err := c.Flamegraph(context.Background(), ProfileQuery{From: from, Pool: "www"}, 100)
	if err != nil {
		t.Fatal(err)
	}
	if s.path != PathProfileFlamegraph || s.rawQuery != "from=2026-11-25T09%3A00%3A00Z&maxNodes=100&pool=www" || s.auth != "Bearer s3cret" {
		t.Errorf("request %+v", *s)
	}
	if fg.Total != 3 || len(fg.Nodes) != 2 || fg.Nodes[1].File != "/i.php" || fg.PeriodNs != 10101010 {
		t.Errorf("flame graph %+v", fg)
	}
	id := trace.TraceID{0xab}
	if _, err := c.TraceProfile(context.Background(), id, 0); err != nil {
		t.Fatal(err)
	}
	if s.path != "/api/v1/traces/ab000000000000000000000000000000/profile" || s.rawQuery != "" {
		t.Errorf("request %+v", *s)
	}

	c, s = stub(t, 200, `{"unit":"samples","periodNs":1,"total":4,"functions":[{"function":"f","self":4,"total":4,"selfPercent":100,"totalPercent":100}]}`)
	top, err := c.TopFunctions(context.Background(), ProfileQuery{Endpoint: "GET /"}, 7)
	if err != nil {
		t.Fatal(err)
	}
	if s.path != PathProfileTop || s.rawQuery != "endpoint=GET+%2F&limit=7" || len(top.Functions) != 1 || top.Functions[0].SelfPercent != 100 {
		t.Errorf("request %+v, answer %+v", *s, top)
	}

	c, s = stub(t, 200, "\x1f\x8bpprof")
	b, err := c.Pprof(context.Background(), ProfileQuery{Service: "php-fpm"})
	if err != nil || string(b) != "\x1f\x8bpprof" || s.path != PathProfilePprof || s.rawQuery != "service=php-fpm" || s.auth != "Bearer s3cret" {
		t.Errorf("pprof %q %v, request %+v", b, err, *s)
	}
	c, _ = stub(t, 404, `{"error":"continuous profiling is not enabled on this agent"}`)
	if _, err := c.Pprof(context.Background(), ProfileQuery{}); !IsNotFound(err) || !strings.Contains(err.Error(), "not enabled") {
		t.Errorf("pprof 404: %v", err)
	}
}

// FuzzDecodeProfileParams: never panics; what is accepted survives
// EncodeProfileQuery unchanged.
func FuzzDecodeProfileParams(f *testing.F) {
	f.Add("from=2026-11-25T09:30:00.5%2B02:00&to=1764063000123&pool=www&maxNodes=10")
	f.Add("traceId=4bf92f3577b34da6a3ce929d0e0e4736&endpoint=GET+%2F")
	f.Fuzz(func(t *testing.T, raw string) {
		v, _ := url.ParseQuery(raw)
		q, _, err := DecodeFlamegraphParams(v)
		if err != nil {
			return
		}
		again, _, err := DecodeFlamegraphParams(EncodeProfileQuery(q))
		if err != nil || !sameProfileQuery(again, q) {
			t.Fatalf("round trip of %q: %+v → %+v, %v", raw, q, again, err)
		}
	})
}
