package red

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// logNormalDurations returns n request-like durations: median 20ms, with a
// tail into seconds and a head into tens of microseconds.
func logNormalDurations(seed uint64, n int) []time.Duration {
	rng := rand.New(rand.NewPCG(seed, seed+1))
	median := math.Log(float64(20 * time.Millisecond))
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = time.Duration(math.Exp(median + 1.5*rng.NormFloat64()))
	}
	return out
}

// exactQuantile is the q-quantile by the rank Quantile uses: the smallest
// value with at least ceil(q·n) values at or below it.
func exactQuantile(sorted []time.Duration, q float64) time.Duration {
	rank := max(int(math.Ceil(q*float64(len(sorted)))), 1)
	return sorted[rank-1]
}

func TestQuantileAccuracy(t *testing.T) {
	for seed := range uint64(5) {
		durations := logNormalDurations(seed, 20000)
		var h Histogram
		for _, d := range durations {
			h.Add(d)
		}
		if h.Count() != uint64(len(durations)) {
			t.Fatalf("Count = %d, want %d", h.Count(), len(durations))
		}
		slices.Sort(durations)
		for _, q := range []float64{0, 0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1} {
			got, ok := h.Quantile(q)
			want := exactQuantile(durations, q)
			if !ok {
				t.Fatalf("seed %d: Quantile(%v) reports an empty histogram", seed, q)
			}
			if rel := math.Abs(float64(got-want)) / float64(want); rel > 0.05 {
				t.Errorf("seed %d: Quantile(%v) = %v, exact %v: off by %.1f%%, want within 5%%", seed, q, got, want, 100*rel)
			}
		}
	}
}

func TestQuantileClampsOutOfRange(t *testing.T) {
	var h Histogram
	h.Add(time.Millisecond)
	h.Add(time.Second)
	lo, _ := h.Quantile(0)
	hi, _ := h.Quantile(1)
	if below, _ := h.Quantile(-3); below != lo {
		t.Errorf("Quantile(-3) = %v, want Quantile(0) = %v", below, lo)
	}
	if above, _ := h.Quantile(7); above != hi {
		t.Errorf("Quantile(7) = %v, want Quantile(1) = %v", above, hi)
	}
	if _, ok := h.Quantile(math.NaN()); ok {
		t.Error("Quantile(NaN) reported a value")
	}
}

func TestEmptyHistogramHasNoQuantile(t *testing.T) {
	var h Histogram
	for _, q := range []float64{0, 0.5, 1} {
		if d, ok := h.Quantile(q); ok || d != 0 {
			t.Errorf("empty Quantile(%v) = %v, %v; want 0, false", q, d, ok)
		}
	}
	var merged Histogram
	merged.Merge(&h)
	if _, ok := merged.Quantile(0.5); ok || merged.Count() != 0 {
		t.Errorf("merging an empty histogram made %+v", merged)
	}
}

// TestBucketBoundaries checks that BucketUpper and BucketOf agree: a bucket's
// upper bound is in it, and just past it is the next bucket. "Just past" is
// one part in a billion rather than 1ns, which float64 logarithms of hours
// cannot resolve.
func TestBucketBoundaries(t *testing.T) {
	for i := 1; i <= maxBucket; i++ {
		upper := BucketUpper(i)
		if got := BucketOf(upper); got != i {
			t.Errorf("BucketOf(BucketUpper(%d) = %v) = %d", i, upper, got)
		}
		if past := upper + max(upper/1e9, 1); i < maxBucket && BucketOf(past) != i+1 {
			t.Errorf("BucketOf(%v), just past BucketUpper(%d), = %d, want %d", past, i, BucketOf(past), i+1)
		}
	}
	for d, want := range map[time.Duration]int{0: 0, -time.Second: 0, time.Microsecond: 0, 1<<63 - 1: maxBucket} {
		if got := BucketOf(d); got != want {
			t.Errorf("BucketOf(%v) = %d, want %d", d, got, want)
		}
	}
}

func TestMergeEqualsAddingAll(t *testing.T) {
	durations := logNormalDurations(9, 5000)
	var all Histogram
	parts := make([]Histogram, 3)
	for i, d := range durations {
		all.Add(d)
		parts[i%len(parts)].Add(d)
	}
	var merged Histogram
	for i := range parts {
		merged.Merge(&parts[i])
	}
	if !reflect.DeepEqual(merged, all) {
		t.Errorf("merged parts differ from adding all:\n got %s\nwant %s", mustJSON(t, merged), mustJSON(t, all))
	}
	for _, q := range []float64{0.5, 0.95, 0.99} {
		a, _ := all.Quantile(q)
		m, _ := merged.Quantile(q)
		if a != m {
			t.Errorf("Quantile(%v): merged %v, all %v", q, m, a)
		}
	}
}

func TestJSONRoundTrip(t *testing.T) {
	var h Histogram
	for _, d := range logNormalDurations(3, 1000) {
		h.Add(d)
	}
	h.Add(0)             // bucket 0
	h.Add(math.MaxInt64) // the last bucket
	b := mustJSON(t, h)
	var back Histogram
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("Unmarshal(%s): %v", b, err)
	}
	if !reflect.DeepEqual(back, h) {
		t.Errorf("round trip changed the histogram:\n got %s\nwant %s", mustJSON(t, back), b)
	}

	// The documented form: bucket numbers as keys, counts as values, sparse.
	var small Histogram
	small.Add(time.Microsecond) // bucket 0
	small.Add(2 * time.Microsecond)
	small.Add(2 * time.Microsecond) // bucket 8
	if got := string(mustJSON(t, small)); got != `{"0":1,"8":2}` {
		t.Errorf("JSON = %s, want {\"0\":1,\"8\":2}", got)
	}
	if got := string(mustJSON(t, Histogram{})); got != `{}` {
		t.Errorf("empty JSON = %s, want {}", got)
	}
	// Inside a struct, by value, as REDPoint carries it.
	type point struct{ Durations Histogram }
	if got := string(mustJSON(t, point{small})); got != `{"Durations":{"0":1,"8":2}}` {
		t.Errorf("as a field: %s", got)
	}
}

func TestUnmarshalReplacesContent(t *testing.T) {
	var h Histogram
	h.Add(time.Second)
	if err := json.Unmarshal([]byte(`{"8":3,"9":0}`), &h); err != nil {
		t.Fatal(err)
	}
	if h.Count() != 3 || string(mustJSON(t, h)) != `{"8":3}` {
		t.Errorf("after Unmarshal: count %d, %s; want only the 3 decoded", h.Count(), mustJSON(t, h))
	}
}

func TestUnmarshalRefusesBadBuckets(t *testing.T) {
	for _, raw := range []string{
		`{"-1":1}`,
		`{"321":1}`, // past maxBucket
		`{"x":1}`,
		`{"1.5":1}`,
		`{"":1}`,
		`{"99999999999999999999":1}`,
	} {
		var h Histogram
		err := json.Unmarshal([]byte(raw), &h)
		if err == nil || !strings.Contains(err.Error(), "want an integer 0..320") {
			t.Errorf("Unmarshal(%s) = %v, want an error naming the bucket range", raw, err)
		}
	}
	for _, raw := range []string{`[]`, `{"1":-1}`, `{"1":"2"}`, `{"1":1.5}`} {
		var h Histogram
		if err := json.Unmarshal([]byte(raw), &h); err == nil {
			t.Errorf("Unmarshal(%s) accepted %s", raw, mustJSON(t, h))
		}
	}
}

func mustJSON(t *testing.T, h any) []byte {
	t.Helper()
	b, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
