// Package red holds request rate, errors and duration (RED) figures in a
// form that adds up: the agent counts each time step of its traces into a
// Histogram, and the plugin backend merges the histograms of many agents
// before it reads percentiles from them, so a fleet's p95 is the p95 of its
// requests, not an average of per-host p95s.
package red

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"
)

// bucketsPerDoubling sets the resolution: bucket i holds durations in
// (2^((i-1)/8) µs, 2^(i/8) µs], so a percentile read from the histogram is
// within ±4.4% of the true value (the bucket's geometric middle is returned).
const bucketsPerDoubling = 8

// maxBucket is the bucket of durations of ~12 days and more (2^40 µs); bucket
// 0 holds everything up to 1 µs.
const maxBucket = 40 * bucketsPerDoubling

// Histogram counts durations in exponential buckets; the zero value is empty
// and ready to use. It travels as JSON {"<bucket>": count}, sparse.
type Histogram struct {
	counts map[int]uint64
	total  uint64
}

// BucketOf is the bucket a duration is counted in.
func BucketOf(d time.Duration) int {
	us := float64(d) / float64(time.Microsecond)
	if us <= 1 {
		return 0
	}
	i := int(math.Ceil(math.Log2(us) * bucketsPerDoubling))
	return min(max(i, 0), maxBucket)
}

// BucketUpper is the largest duration bucket i holds.
func BucketUpper(i int) time.Duration {
	return time.Duration(math.Exp2(float64(i)/bucketsPerDoubling) * float64(time.Microsecond))
}

// bucketMiddle is the geometric middle of bucket i, the value a percentile
// falling in it is given.
func bucketMiddle(i int) time.Duration {
	if i == 0 {
		return time.Microsecond / 2
	}
	return time.Duration(math.Exp2((float64(i)-0.5)/bucketsPerDoubling) * float64(time.Microsecond))
}

// Add counts one duration.
func (h *Histogram) Add(d time.Duration) { h.addBucket(BucketOf(d), 1) }

func (h *Histogram) addBucket(i int, n uint64) {
	if n == 0 {
		return
	}
	if h.counts == nil {
		h.counts = make(map[int]uint64)
	}
	h.counts[i] += n
	h.total += n
}

// Merge adds every count of o to h.
func (h *Histogram) Merge(o *Histogram) {
	for i, n := range o.counts {
		h.addBucket(i, n)
	}
}

// Count is how many durations were added.
func (h *Histogram) Count() uint64 { return h.total }

// Quantile returns the duration below which a fraction q (0..1) of the
// counted durations lie, and false when the histogram is empty.
func (h *Histogram) Quantile(q float64) (time.Duration, bool) {
	if h.total == 0 || math.IsNaN(q) {
		return 0, false
	}
	q = min(max(q, 0), 1)
	// rank is 1-based: the smallest bucket whose cumulative count reaches it.
	rank := uint64(math.Ceil(q * float64(h.total)))
	rank = max(rank, 1)
	buckets := make([]int, 0, len(h.counts))
	for i := range h.counts {
		buckets = append(buckets, i)
	}
	slices.Sort(buckets)
	var seen uint64
	for _, i := range buckets {
		seen += h.counts[i]
		if seen >= rank {
			return bucketMiddle(i), true
		}
	}
	return bucketMiddle(buckets[len(buckets)-1]), true
}

// MarshalJSON writes {"<bucket>": count}; encoding/json sorts the keys as text.
func (h Histogram) MarshalJSON() ([]byte, error) {
	m := make(map[string]uint64, len(h.counts))
	for i, n := range h.counts {
		m[strconv.Itoa(i)] = n
	}
	return json.Marshal(m)
}

// UnmarshalJSON reads what MarshalJSON wrote and refuses buckets out of range.
func (h *Histogram) UnmarshalJSON(b []byte) error {
	var m map[string]uint64
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	*h = Histogram{}
	for k, n := range m {
		i, err := strconv.Atoi(k)
		if err != nil || i < 0 || i > maxBucket {
			return fmt.Errorf("histogram bucket %q: want an integer 0..%d", k, maxBucket)
		}
		h.addBucket(i, n)
	}
	return nil
}
