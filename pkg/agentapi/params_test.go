package agentapi

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tusk-php/tusk/pkg/trace"
)

// sameQuery compares queries field by field, times by instant: a decoded
// time carries the offset it was written with, not the original location.
func sameQuery(a, b trace.Query) bool {
	if !a.Start.Equal(b.Start) || !a.End.Equal(b.End) {
		return false
	}
	a.Start, a.End, b.Start, b.End = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	return a == b
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	cest := time.FixedZone("CEST", 2*60*60)
	for _, q := range []trace.Query{
		{},
		{
			Start:       time.Date(2026, 11, 25, 9, 30, 0, 123456789, cest),
			End:         time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC),
			MinDuration: 1500 * time.Microsecond,
			MaxDuration: 2*time.Second + 3*time.Nanosecond,
			Service:     "shop",
			Pool:        "www",
			Method:      "POST",
			PathPrefix:  "/wp-admin/admin-ajax.php?action=heartbeat&x=ü",
			StatusCode:  503,
			ErrorsOnly:  true,
			Limit:       trace.MaxLimit,
			Order:       trace.OrderSlowest,
		},
		{Limit: 1, Order: trace.OrderNewest, Method: "GET"},
		{Start: time.Unix(0, 0)},
	} {
		v := EncodeQuery(q)
		// Through the wire format, not just the map.
		parsed, err := url.ParseQuery(v.Encode())
		if err != nil {
			t.Fatalf("ParseQuery(%q): %v", v.Encode(), err)
		}
		got, err := DecodeQuery(parsed)
		if err != nil {
			t.Fatalf("DecodeQuery(%q): %v", v.Encode(), err)
		}
		if !sameQuery(got, q) {
			t.Errorf("round trip of %q:\n got %+v\nwant %+v", v.Encode(), got, q)
		}
	}
}

func TestEncodeQueryLeavesOutZeroFields(t *testing.T) {
	if v := EncodeQuery(trace.Query{}); len(v) != 0 {
		t.Errorf("EncodeQuery(zero) = %q, want no parameters", v.Encode())
	}
	if got := EncodeQuery(trace.Query{Method: "get"}).Get(ParamMethod); got != "GET" {
		t.Errorf("method encoded as %q, want GET", got)
	}
}

func TestDecodeQueryAccepts(t *testing.T) {
	for _, tc := range []struct {
		raw   string
		check func(trace.Query) bool
	}{
		{"start=1764063000123", func(q trace.Query) bool { return q.Start.Equal(time.UnixMilli(1764063000123)) }},
		{"end=2026-11-25T10:00:00%2B01:00", func(q trace.Query) bool {
			return q.End.Equal(time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC))
		}},
		{"method=patch", func(q trace.Query) bool { return q.Method == "PATCH" }},
		{"errorsOnly=1", func(q trace.Query) bool { return q.ErrorsOnly }},
		{"errorsOnly=false", func(q trace.Query) bool { return !q.ErrorsOnly }},
		{"minDuration=0", func(q trace.Query) bool { return q.MinDuration == 0 }},
		{"minDuration=5ms&maxDuration=5ms", func(q trace.Query) bool { return q.MaxDuration == 5*time.Millisecond }},
		// Empty values are absent: Grafana forms send every field.
		{"service=&pool=&limit=&start=", func(q trace.Query) bool { return q == trace.Query{} }},
	} {
		v, err := url.ParseQuery(tc.raw)
		if err != nil {
			t.Fatal(err)
		}
		q, err := DecodeQuery(v)
		if err != nil {
			t.Errorf("DecodeQuery(%q): %v", tc.raw, err)
			continue
		}
		if !tc.check(q) {
			t.Errorf("DecodeQuery(%q) = %+v", tc.raw, q)
		}
	}
}

func TestDecodeQueryRejects(t *testing.T) {
	for _, tc := range []struct {
		raw  string
		want []string // all must appear in the error
	}{
		{"foo=1", []string{`unknown parameter "foo"`, "known: start, end"}},
		{"statusCode=500&zzz=1&limit=5", []string{`unknown parameters "statusCode", "zzz"`}},
		{"limit=1&limit=2", []string{"limit: given 2 times"}},
		{"start=yesterday", []string{"start:", "RFC 3339", "unix milliseconds", `"yesterday"`}},
		{"start=2026-11-25", []string{"start:", "RFC 3339"}},
		{"end=-5", []string{"end:", "unix milliseconds"}},
		{"end=99999999999999999999", []string{"end:"}},
		{"end=253402300800000", []string{"end:", "9999"}}, // year 10000
		{"start=0000-01-01T00:00:00%2B01:00", []string{"start:", "1970"}},
		{"minDuration=5", []string{"minDuration:", "Go duration like 250ms", `"5"`}},
		{"maxDuration=-1s", []string{"maxDuration:", "non-negative"}},
		{"minDuration=abc", []string{"minDuration:"}},
		{"status=abc", []string{"status:", "HTTP status code", "100 to 599"}},
		{"status=600", []string{"status:"}},
		{"status=99", []string{"status:"}},
		{"errorsOnly=yes", []string{"errorsOnly:", "true or false", `"yes"`}},
		{"limit=0", []string{"limit:", "1 to 5000"}},
		{"limit=5001", []string{"limit:"}},
		{"limit=ten", []string{"limit:"}},
		{"order=fastest", []string{"order:", `"newest" or "slowest"`, `"fastest"`}},
		{"order=NEWEST", []string{"order:"}},
		// Each value fine, the whole not: Validate speaks.
		{"start=2026-11-25T10:00:00Z&end=2026-11-25T09:00:00Z", []string{"end", "is before start"}},
		{"minDuration=2s&maxDuration=1s", []string{"maxDuration", "below minDuration"}},
	} {
		v, err := url.ParseQuery(tc.raw)
		if err != nil {
			t.Fatal(err)
		}
		q, err := DecodeQuery(v)
		if err == nil {
			t.Errorf("DecodeQuery(%q) = %+v, want an error", tc.raw, q)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("DecodeQuery(%q) error %q does not mention %q", tc.raw, err, w)
			}
		}
	}
}
