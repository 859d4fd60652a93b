package agentapi

import (
	"net/url"
	"testing"
)

// FuzzDecodeQuery feeds raw query strings to DecodeQuery: it must never
// panic, whatever it accepts must pass Validate, and an accepted query must
// come back unchanged through EncodeQuery, so the plugin and CLI never send
// something the agent reads differently. Seeds live in
// testdata/fuzz/FuzzDecodeQuery.
func FuzzDecodeQuery(f *testing.F) {
	f.Add("start=2026-11-25T09:30:00.5%2B02:00&end=1764063000123&method=get&order=slowest")
	f.Add("minDuration=1.5ms&maxDuration=1h&limit=10&errorsOnly=T&status=404")
	f.Fuzz(func(t *testing.T, raw string) {
		v, _ := url.ParseQuery(raw) // keeps what parsed, as net/http does
		q, err := DecodeQuery(v)
		if err != nil {
			return
		}
		if err := q.Validate(); err != nil {
			t.Fatalf("DecodeQuery(%q) accepted %+v, which fails Validate: %v", raw, q, err)
		}
		again, err := DecodeQuery(EncodeQuery(q))
		if err != nil {
			t.Fatalf("DecodeQuery(EncodeQuery(%+v)) from %q: %v", q, raw, err)
		}
		if !sameQuery(again, q) {
			t.Fatalf("round trip of %q changed the query:\n got %+v\nwant %+v", raw, again, q)
		}
	})
}
