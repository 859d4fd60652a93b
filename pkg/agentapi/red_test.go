package agentapi

import (
	"context"
	"math/rand/v2"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// sameREDQuery compares queries field by field, times by instant.
func sameREDQuery(a, b REDQuery) bool {
	if !a.From.Equal(b.From) || !a.To.Equal(b.To) {
		return false
	}
	a.From, a.To, b.From, b.To = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	return a == b
}

func TestREDQueryRoundTrip(t *testing.T) {
	for _, q := range []REDQuery{
		{},
		{
			From: time.Date(2026, 11, 25, 9, 0, 0, 5, time.FixedZone("X", 3600)), To: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC),
			Step: 90 * time.Second, Service: "shop", Pool: "www", Method: "POST",
			PathPrefix: "/wp-admin/admin-ajax.php?x=1&y=ü", GroupBy: GroupByPool, Limit: MaxREDLimit,
		},
		{GroupBy: GroupByNone, Limit: 1, Step: 1500 * time.Millisecond},
		{From: time.Unix(0, 0), Step: time.Hour},
	} {
		parsed, err := url.ParseQuery(EncodeREDQuery(q).Encode())
		if err != nil {
			t.Fatal(err)
		}
		got, err := DecodeREDParams(parsed)
		if err != nil || !sameREDQuery(got, q) {
			t.Errorf("round trip of %+v: %+v, %v", q, got, err)
		}
	}
}

func TestEncodeREDQuery(t *testing.T) {
	if v := EncodeREDQuery(REDQuery{}); len(v) != 0 {
		t.Errorf("EncodeREDQuery(zero) = %q, want no parameters", v.Encode())
	}
	q := REDQuery{From: time.UnixMilli(1764061200000), Step: 30 * time.Second, Method: "get", GroupBy: GroupByService, Limit: 3}
	if got, want := EncodeREDQuery(q).Encode(), "from=2025-11-25T09%3A00%3A00Z&groupBy=service&limit=3&method=GET&step=30s"; got != want {
		t.Errorf("EncodeREDQuery = %s, want %s", got, want)
	}
}

func TestDecodeREDParamsAccepts(t *testing.T) {
	from := time.UnixMilli(1764061200000)
	for raw, want := range map[string]REDQuery{
		"from=1764061200000&to=2025-11-25T10:00:00%2B01:00": {From: from, To: from},
		"method=patch&pathPrefix=/api/":                     {Method: "PATCH", PathPrefix: "/api/"},
		"step=1s&groupBy=none&limit=500":                    {Step: time.Second, GroupBy: GroupByNone, Limit: 500},
		"groupBy=endpoint&service=shop&pool=www":            {GroupBy: GroupByEndpoint, Service: "shop", Pool: "www"},
		// Empty values are absent: Grafana forms send every field.
		"from=&to=&step=&service=&groupBy=&limit=": {},
		// Exactly MaxREDPoints seconds, aligned: the most allowed.
		"from=1764061200000&to=1764072200000&step=1s": {From: from, To: from.Add(MaxREDPoints * time.Second), Step: time.Second},
		// From given alone: to is the agent's now, unknown here.
		"from=1000&step=1s": {From: time.UnixMilli(1000), Step: time.Second},
	} {
		v, err := url.ParseQuery(raw)
		if err != nil {
			t.Fatal(err)
		}
		got, err := DecodeREDParams(v)
		if err != nil || !sameREDQuery(got, want) {
			t.Errorf("DecodeREDParams(%q) = %+v, %v; want %+v", raw, got, err, want)
		}
	}
}

func TestDecodeREDParamsRejects(t *testing.T) {
	for raw, want := range map[string]string{
		"start=1":                             `unknown parameter "start"; known: from, to, step, service, pool, method, pathPrefix, endpoint, groupBy, limit`,
		"trace=1&zzz=1":                       `unknown parameters "trace", "zzz"`,
		"step=1m&step=5m":                     "step: given 2 times",
		"from=yesterday":                      "from: want an RFC 3339 time",
		"to=253402300800000":                  "to: want an RFC 3339 time", // year 10000
		"step=60":                             `step: want a non-negative Go duration like 250ms or 1.5s, got "60"`,
		"step=-1m":                            "step: want a non-negative Go duration",
		"step=500ms":                          "step: want at least 1s, got 500ms",
		"step=0s":                             "step: want at least 1s, got 0s",
		"step=1.0005s":                        "step: want a whole number of milliseconds, got 1.0005s",
		"groupBy=path":                        `groupBy: want endpoint, pool, service or none, got "path"`,
		"groupBy=Endpoint":                    `groupBy: want endpoint, pool, service or none, got "Endpoint"`,
		"limit=0":                             `limit: want a whole number from 1 to 500, got "0"`,
		"limit=501":                           "limit: want a whole number from 1 to 500",
		"limit=ten":                           "limit: want a whole number from 1 to 500",
		"from=1764063000000&to=1764061200000": "to: 2025-11-25T09:00:00Z is before from 2025-11-25T09:30:00Z",
		// A day by the second: the message says what step would do.
		"from=2026-11-25T00:00:00Z&to=2026-11-26T00:00:00Z&step=1s": "step: 1s from 2026-11-25T00:00:00Z to 2026-11-26T00:00:00Z makes 86400 points, more than 11000; use a step of at least 8s",
		// A missing step is the default minute: a year of minutes is too many.
		"from=2025-11-25T00:00:00Z&to=2026-11-25T00:00:00Z": "step: 1m0s from",
		// One point too many: MaxREDPoints seconds that do not start on one.
		"from=1764061200500&to=1764072200500&step=1s": "makes 11001 points",
	} {
		v, err := url.ParseQuery(raw)
		if err != nil {
			t.Fatal(err)
		}
		q, err := DecodeREDParams(v)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("DecodeREDParams(%q) = %+v, %v; want an error with %q", raw, q, err, want)
		}
	}
}

func TestREDQueryDefaults(t *testing.T) {
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	want := REDQuery{From: now.Add(-time.Hour), To: now, Step: time.Minute, GroupBy: GroupByEndpoint, Limit: DefaultREDLimit}
	if got := (REDQuery{}).WithDefaults(now); !sameREDQuery(got, want) {
		t.Errorf("defaults %+v, want %+v", got, want)
	}
	to := now.Add(-24 * time.Hour)
	set := REDQuery{To: to, Step: time.Hour, GroupBy: GroupByNone, Limit: 3, Pool: "www"}
	got := set.WithDefaults(now)
	set.From = to.Add(-DefaultProfileRange)
	if !sameREDQuery(got, set) {
		t.Errorf("defaults over set fields: %+v, want %+v", got, set)
	}
}

func TestREDStepStart(t *testing.T) {
	for _, tc := range []struct {
		step time.Duration
		t    time.Time
		want int64
	}{
		{time.Minute, time.UnixMilli(1764061230123), 1764061200000},
		{time.Minute, time.UnixMilli(1764061200000), 1764061200000},
		{7 * time.Second, time.Unix(20, 0), 14000},                                    // from the epoch, not year 1
		{7 * time.Second, time.Unix(-1, 999_999_999), -7000},                          // before 1970, rounded down
		{1500 * time.Millisecond, time.Unix(3, 999_999), 3000},                        // sub-millisecond part
		{time.Hour, time.Date(9999, 12, 31, 23, 59, 0, 0, time.UTC), 253402297200000}, // no overflow
	} {
		if got := (REDQuery{Step: tc.step}).StepStartUnixMs(tc.t); got != tc.want {
			t.Errorf("step %s, %s: StepStartUnixMs = %d, want %d", tc.step, tc.t, got, tc.want)
		}
	}
}

func TestREDSteps(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct {
		from, to string
		step     time.Duration
		want     int64
	}{
		{"2026-11-25T09:00:00Z", "2026-11-25T09:00:00Z", time.Minute, 0},
		{"2026-11-25T09:00:10Z", "2026-11-25T09:00:20Z", time.Minute, 1},
		{"2026-11-25T09:00:00Z", "2026-11-25T10:00:00Z", time.Minute, 60},
		{"2026-11-25T09:00:30Z", "2026-11-25T10:00:00Z", time.Minute, 60},
		{"2026-11-25T09:00:30Z", "2026-11-25T10:00:00.000000001Z", time.Minute, 61},
		{"2026-11-25T09:00:30Z", "2026-11-25T10:00:30Z", time.Minute, 61},
		{"1970-01-01T00:00:00Z", "9999-12-31T23:59:59Z", time.Duration(1<<63 - 1).Truncate(time.Millisecond), 28},
	} {
		q := REDQuery{From: at(tc.from), To: at(tc.to), Step: tc.step}
		if got := q.Steps(); got != tc.want {
			t.Errorf("[%s, %s) by %s: %d steps, want %d", tc.from, tc.to, tc.step, got, tc.want)
		}
	}
}

// TestREDProposedStepFits: the step the too-many-points error proposes is
// accepted, whatever the alignment.
func TestREDProposedStepFits(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		from := time.UnixMilli(1764061200000 + rng.Int64N(1e9)).Add(time.Duration(rng.IntN(1e6)))
		to := from.Add(time.Duration(rng.Int64N(int64(400 * 24 * time.Hour))))
		q := REDQuery{From: from, To: to, Step: time.Second}
		step := q.stepThatFits()
		q.Step = step
		if err := q.Validate(); err != nil {
			t.Fatalf("[%s, %s): proposed step %s refused: %v", from, to, step, err)
		}
	}
}

func TestClientRED(t *testing.T) {
	c, s := stub(t, 200, `{"from":"2025-11-25T09:00:00Z","to":"2025-11-25T10:00:00Z","step":"1m0s","series":[`+
		`{"service":"shop","pool":"www","endpoint":"GET /cart","points":[{"startUnixMs":1764061200000,"requests":3,"errors":1,"durations":{"80":2,"180":1}}]},`+
		`{"other":true,"points":[{"startUnixMs":1764061260000,"requests":1,"errors":0,"durations":{"0":1}}]}]}`)
	from := time.Date(2025, 11, 25, 9, 0, 0, 0, time.UTC)
	resp, err := c.RED(context.Background(), REDQuery{From: from, Step: time.Minute, Method: "get", GroupBy: GroupByEndpoint})
	if err != nil {
		t.Fatal(err)
	}
	if s.method != "GET" || s.path != PathREDMetrics || s.auth != "Bearer s3cret" ||
		s.rawQuery != "from=2025-11-25T09%3A00%3A00Z&groupBy=endpoint&method=GET&step=1m0s" {
		t.Errorf("request %+v", *s)
	}
	if !resp.From.Equal(from) || time.Duration(resp.Step) != time.Minute || len(resp.Series) != 2 {
		t.Fatalf("answer %+v", resp)
	}
	cart, other := resp.Series[0], resp.Series[1]
	if cart.Endpoint != "GET /cart" || cart.Other || len(cart.Points) != 1 || !other.Other || other.Service != "" {
		t.Errorf("series %+v", resp.Series)
	}
	p := cart.Points[0]
	if p.Requests != 3 || p.Errors != 1 || p.Durations.Count() != 3 {
		t.Errorf("point %+v", p)
	}
	if p99, ok := p.Durations.Quantile(0.99); !ok || p99 < 5*time.Second || p99 > 6*time.Second {
		t.Errorf("p99 from bucket 180 = %v, %v; want about 5.7s", p99, ok)
	}

	c, _ = stub(t, 400, `{"error":"step: want at least 1s, got 1ms"}`)
	if _, err := c.RED(context.Background(), REDQuery{Step: time.Millisecond}); !strings.Contains(err.Error(), "step: want at least 1s") {
		t.Errorf("refused query: %v", err)
	}
}

// documentedQueryParams lists the query parameters openapi.yaml documents
// for the operation at path, in order: the section runs from the path key
// to the next path key or the components.
func documentedQueryParams(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	start := strings.Index(doc, "\n  "+path+":\n")
	if start < 0 {
		t.Fatalf("openapi.yaml has no path %s", path)
	}
	section := doc[start+1:]
	if next := regexp.MustCompile(`\n  /|\ncomponents:`).FindStringIndex(section); next != nil {
		section = section[:next[0]]
	}
	var documented []string
	for _, m := range regexp.MustCompile(`(?m)^\s+- name: (\S+)\n\s+in: query$`).FindAllStringSubmatch(section, -1) {
		documented = append(documented, m[1])
	}
	return documented
}

func TestOpenAPIREDParams(t *testing.T) {
	if got := documentedQueryParams(t, PathREDMetrics); !slices.Equal(got, REDParams) {
		t.Errorf("openapi.yaml documents %v for %s, DecodeREDParams accepts %v", got, PathREDMetrics, REDParams)
	}
}

// FuzzDecodeREDParams: never panics; what is accepted passes Validate and
// survives EncodeREDQuery unchanged, so Grafana's plugin never sends a
// query the agent reads differently.
func FuzzDecodeREDParams(f *testing.F) {
	f.Add("from=2026-11-25T09:30:00.5%2B02:00&to=1764063000123&step=1m&method=get&groupBy=pool&limit=5")
	f.Add("from=1764061200000&to=1764072200000&step=1s&pathPrefix=%2Fwp-admin%2F&service=shop&pool=www")
	f.Add("step=1.5s&groupBy=none&limit=&to=")
	f.Add("step=500ms&groupBy=x&limit=0&limit=1&zzz=")
	f.Fuzz(func(t *testing.T, raw string) {
		v, _ := url.ParseQuery(raw) // keeps what parsed, as net/http does
		q, err := DecodeREDParams(v)
		if err != nil {
			return
		}
		if err := q.Validate(); err != nil {
			t.Fatalf("DecodeREDParams(%q) accepted %+v, which fails Validate: %v", raw, q, err)
		}
		again, err := DecodeREDParams(EncodeREDQuery(q))
		if err != nil || !sameREDQuery(again, q) {
			t.Fatalf("round trip of %q: %+v → %+v, %v", raw, q, again, err)
		}
	})
}
