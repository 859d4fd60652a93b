package profile

import (
	"bytes"
	"cmp"
	"slices"
	"sync"
	"time"

	"github.com/tusk-php/tusk/pkg/trace"
)

// Bucket is a finished profile handed to the sink: either the samples of
// one minute for one (service, pool, endpoint), or, with TraceID set, the
// samples of one request.
type Bucket struct {
	// Time is the start of the minute (UTC, whole minute) of a minute
	// bucket, or the first sample's time of a trace bucket.
	Time time.Time
	// End is just after the last sample's time, for trace buckets; the end
	// of the minute for minute buckets.
	End      time.Time
	Service  string
	Pool     string
	Endpoint string
	TraceID  trace.TraceID // zero for a minute bucket
	Profile  *Profile      // its Labels hold exactly this bucket's labels
}

// IsTrace tells whether b is a per-request profile.
func (b *Bucket) IsTrace() bool { return !b.TraceID.IsZero() }

// Defaults of AggregatorOptions.
const (
	// DefaultTraceIdle: a request's profile is handed on once it has had
	// no sample for this long (it has most likely ended).
	DefaultTraceIdle = 2 * time.Second
	// DefaultTraceMaxAge: a request still sampled after this long is handed
	// on in parts, so a long request does not pin memory; the store merges
	// the parts.
	DefaultTraceMaxAge = time.Minute
	// DefaultLateness: a minute is handed on this long after it ended, so
	// samples delivered a little late still land in it.
	DefaultLateness = 2 * time.Second
	// DefaultMaxTraceStacks caps the distinct stacks of one request.
	DefaultMaxTraceStacks = 1000
	// DefaultMaxTraces caps the requests being profiled at once; samples of
	// further requests still count in their minute, not per request.
	DefaultMaxTraces = 10000
	// DefaultMaxBucketsPerMinute caps the (service, pool, endpoint)
	// buckets of one minute; further endpoints share OtherEndpoint.
	DefaultMaxBucketsPerMinute = 1000
)

// OtherEndpoint is the endpoint that samples of endpoints past
// MaxBucketsPerMinute are counted under.
const OtherEndpoint = "[other]"

// AggregatorOptions tune an Aggregator; zero fields take the defaults.
type AggregatorOptions struct {
	MaxStacks           int           // distinct stacks per minute bucket (DefaultMaxStacks)
	MaxTraceStacks      int           // distinct stacks per request (DefaultMaxTraceStacks)
	MaxTraces           int           // requests profiled at once (DefaultMaxTraces)
	MaxBucketsPerMinute int           // (service, pool, endpoint) per minute (DefaultMaxBucketsPerMinute)
	TraceIdle           time.Duration // DefaultTraceIdle
	TraceMaxAge         time.Duration // DefaultTraceMaxAge
	Lateness            time.Duration // DefaultLateness
}

func (o AggregatorOptions) withDefaults() AggregatorOptions {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defDur := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.MaxStacks, DefaultMaxStacks)
	def(&o.MaxTraceStacks, DefaultMaxTraceStacks)
	def(&o.MaxTraces, DefaultMaxTraces)
	def(&o.MaxBucketsPerMinute, DefaultMaxBucketsPerMinute)
	defDur(&o.TraceIdle, DefaultTraceIdle)
	defDur(&o.TraceMaxAge, DefaultTraceMaxAge)
	defDur(&o.Lateness, DefaultLateness)
	return o
}

// AggregatorStats counts what an Aggregator did since it was made.
type AggregatorStats struct {
	Samples          int64 // samples added (by Count)
	FlushedBuckets   int64 // buckets handed to the sink
	OpenBuckets      int   // minute buckets in memory now
	OpenTraces       int   // request profiles in memory now
	UntracedSamples  int64 // samples not profiled per request: no trace id, or MaxTraces reached
	OtherEndpoint    int64 // samples counted under OtherEndpoint
	TruncatedSamples int64 // samples folded by a stack cap, in flushed buckets
}

type minuteKey struct {
	minute int64 // unix seconds of the minute's start
	Labels
}

type traceBucket struct {
	profile     *Profile
	labels      Labels
	first, last time.Time
}

// Aggregator folds samples into per-minute and per-request profiles and
// hands finished ones to a sink.
//
// All methods are safe for concurrent use: Add and the readers take one
// mutex for a map update, so the intended pattern is one goroutine calling
// Add per sample and another (or the same) calling Flush every second or so.
// The sink runs on the goroutine calling Flush, after the mutex is released,
// so a slow sink never delays Add; Flush calls are serialised, so the sink
// is never called concurrently with itself.
type Aggregator struct {
	sink func(Bucket)
	opts AggregatorOptions

	flushMu sync.Mutex // serialises Flush, hence the sink

	mu      sync.Mutex
	minutes map[minuteKey]*Profile
	perMin  map[int64]int // buckets per minute, for MaxBucketsPerMinute
	traces  map[trace.TraceID]*traceBucket
	stats   AggregatorStats
	frames  frameTable // the profiles' frames, see intern.go
	aggIDs  []int32    // scratch: a sample's frames' aggregator ids
	ids     []int32    // scratch: them in a profile
}

// NewAggregator returns an aggregator handing finished buckets to sink
// (for the agent: (*store.Store).AddProfile).
func NewAggregator(sink func(Bucket), opts AggregatorOptions) *Aggregator {
	if sink == nil {
		panic("profile.NewAggregator: nil sink")
	}
	return &Aggregator{
		sink:    sink,
		opts:    opts.withDefaults(),
		minutes: map[minuteKey]*Profile{},
		perMin:  map[int64]int{},
		traces:  map[trace.TraceID]*traceBucket{},
	}
}

// Add counts one sample. Samples without a stack are ignored.
func (a *Aggregator) Add(s Sample) {
	if len(s.Stack) == 0 {
		return
	}
	count := max(s.Count, 1)
	minute := s.Time.Unix()
	minute -= ((minute % 60) + 60) % 60 // floor, also before 1970
	labels := Labels{Service: s.Service, Pool: s.Pool, Endpoint: s.Endpoint}

	a.mu.Lock()
	defer a.mu.Unlock()
	a.stats.Samples += count

	key := minuteKey{minute: minute, Labels: labels}
	p := a.minutes[key]
	if p == nil {
		if a.perMin[minute] >= a.opts.MaxBucketsPerMinute {
			key.Endpoint = OtherEndpoint
			a.stats.OtherEndpoint += count
			p = a.minutes[key]
		}
		if p == nil {
			p = NewProfile(a.opts.MaxStacks)
			a.minutes[key] = p
			a.perMin[minute]++
		}
	}
	stack, aggIDs := a.aggIDsOf(s.Stack)
	setPeriod(p, s.PeriodNs)
	p.addAggIDs(aggIDs, stack, key.Labels, count, &a.ids)

	if s.TraceID.IsZero() {
		a.stats.UntracedSamples += count
		return
	}
	tb := a.traces[s.TraceID]
	if tb == nil {
		if len(a.traces) >= a.opts.MaxTraces {
			a.stats.UntracedSamples += count
			return
		}
		tb = &traceBucket{profile: NewProfile(a.opts.MaxTraceStacks), labels: labels, first: s.Time, last: s.Time}
		a.traces[s.TraceID] = tb
	}
	setPeriod(tb.profile, s.PeriodNs)
	tb.profile.addAggIDs(aggIDs, stack, tb.labels, count, &a.ids)
	if s.Time.Before(tb.first) {
		tb.first = s.Time
	}
	if s.Time.After(tb.last) {
		tb.last = s.Time
	}
}

// aggIDsOf returns stack cut as Profile.Add cuts a deep one, and the
// aggregator ids of its frames (and of TruncatedFrame after a cut one).
func (a *Aggregator) aggIDsOf(stack []Frame) ([]Frame, []int32) {
	if a.frames.full() {
		// Start over, for memory: the profiles' indexes go with the ids.
		a.frames = frameTable{}
		for _, p := range a.minutes {
			p.forgetAggIDs()
		}
		for _, tb := range a.traces {
			tb.profile.forgetAggIDs()
		}
	}
	deep := len(stack) > MaxDepth
	if deep {
		stack = stack[:MaxDepth-1]
	}
	ids := a.aggIDs[:0]
	for i := range stack {
		ids = append(ids, a.frames.id(&stack[i]))
	}
	if deep {
		ids = append(ids, truncatedAggID)
	}
	a.aggIDs = ids
	return stack, ids
}

func setPeriod(p *Profile, periodNs int64) {
	if p.PeriodNs == 0 && periodNs > 0 {
		p.PeriodNs = periodNs
	}
}

// Flush hands to the sink every minute bucket whose minute ended at least
// Lateness before now, and every request profile idle for TraceIdle (or
// older than TraceMaxAge), minute buckets oldest first. Call it every
// second or so with time.Now(); samples are bucketed by their own Time, so
// now must be on the same clock.
func (a *Aggregator) Flush(now time.Time) {
	a.flush(now, false)
}

// FlushAll hands everything in memory to the sink, finished or not: for
// shutdown.
func (a *Aggregator) FlushAll() {
	a.flush(time.Time{}, true)
}

func (a *Aggregator) flush(now time.Time, all bool) {
	a.flushMu.Lock()
	defer a.flushMu.Unlock()
	out := a.take(now, all)
	for _, b := range out {
		a.sink(b)
	}
}

// take removes the finished buckets under the lock.
func (a *Aggregator) take(now time.Time, all bool) []Bucket {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []Bucket
	for key, p := range a.minutes {
		end := time.Unix(key.minute+60, 0).UTC()
		if !all && now.Sub(end) < a.opts.Lateness {
			continue
		}
		out = append(out, Bucket{
			Time: time.Unix(key.minute, 0).UTC(), End: end,
			Service: key.Service, Pool: key.Pool, Endpoint: key.Endpoint, Profile: p,
		})
		delete(a.minutes, key)
		if a.perMin[key.minute]--; a.perMin[key.minute] <= 0 {
			delete(a.perMin, key.minute)
		}
	}
	sortBuckets(out)
	n := len(out)
	for id, tb := range a.traces {
		if !all && now.Sub(tb.last) < a.opts.TraceIdle && now.Sub(tb.first) < a.opts.TraceMaxAge {
			continue
		}
		out = append(out, Bucket{
			Time: tb.first, End: tb.last.Add(time.Nanosecond),
			Service: tb.labels.Service, Pool: tb.labels.Pool, Endpoint: tb.labels.Endpoint,
			TraceID: id, Profile: tb.profile,
		})
		delete(a.traces, id)
	}
	sortBuckets(out[n:])
	a.stats.FlushedBuckets += int64(len(out))
	for _, b := range out {
		a.stats.TruncatedSamples += b.Profile.TruncatedSamples()
		b.Profile.forgetAggIDs()
	}
	return out
}

// Stats returns the counters.
func (a *Aggregator) Stats() AggregatorStats {
	a.mu.Lock()
	defer a.mu.Unlock()
	st := a.stats
	st.OpenBuckets = len(a.minutes)
	st.OpenTraces = len(a.traces)
	return st
}

// sortBuckets orders buckets by time, then labels, then trace id, so the
// sink sees a stable order.
func sortBuckets(bs []Bucket) {
	slices.SortFunc(bs, func(a, b Bucket) int {
		return cmp.Or(
			a.Time.Compare(b.Time),
			cmp.Compare(a.Service, b.Service),
			cmp.Compare(a.Pool, b.Pool),
			cmp.Compare(a.Endpoint, b.Endpoint),
			bytes.Compare(a.TraceID[:], b.TraceID[:]),
		)
	})
}

// MergeOpen adds to p what is still in memory and matches: the minute
// buckets not yet handed to the sink (match gets their labels and minute),
// or, with traceID set, that request's open profile. A query then sees the
// last minute's samples before they are stored. A bucket is either here or
// on its way to the sink, never both, so nothing is counted twice.
func (a *Aggregator) MergeOpen(p *Profile, traceID trace.TraceID, match func(l Labels, start, end time.Time) bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !traceID.IsZero() {
		if tb := a.traces[traceID]; tb != nil {
			p.Merge(tb.profile)
		}
		return
	}
	for key, mp := range a.minutes {
		start := time.Unix(key.minute, 0).UTC()
		if match(key.Labels, start, start.Add(time.Minute)) {
			p.Merge(mp)
		}
	}
}
