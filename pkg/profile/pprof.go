package profile

import (
	"io"
	"time"

	"github.com/google/pprof/profile"
)

// Names of the pprof sample labels.
const (
	PprofLabelService  = "service"
	PprofLabelPool     = "pool"
	PprofLabelEndpoint = "endpoint"
)

// Pprof converts p to a pprof profile: sample types samples/count and
// cpu/nanoseconds (count × PeriodNs), one location per frame (line
// included), one function per function name and file, and the service,
// pool and endpoint as string labels of each sample (empty ones left out).
// start and duration, when known, become TimeNanos and DurationNanos.
func Pprof(p *Profile, start time.Time, duration time.Duration) *profile.Profile {
	out := &profile.Profile{
		SampleType: []*profile.ValueType{
			{Type: "samples", Unit: "count"},
			{Type: "cpu", Unit: "nanoseconds"},
		},
		DefaultSampleType: "cpu",
		PeriodType:        &profile.ValueType{Type: "cpu", Unit: "nanoseconds"},
	}
	if !start.IsZero() {
		out.TimeNanos = start.UnixNano()
	}
	out.DurationNanos = int64(max(duration, 0))
	if p == nil {
		return out
	}
	out.Period = p.PeriodNs

	type fnKey struct{ name, file string }
	functions := map[fnKey]*profile.Function{}
	locations := make([]*profile.Location, len(p.Frames))
	for i, f := range p.Frames {
		k := fnKey{f.Name(), f.File}
		fn := functions[k]
		if fn == nil {
			fn = &profile.Function{ID: uint64(len(out.Function) + 1), Name: k.name, SystemName: k.name, Filename: f.File}
			functions[k] = fn
			out.Function = append(out.Function, fn)
		}
		loc := &profile.Location{ID: uint64(i + 1), Line: []profile.Line{{Function: fn, Line: int64(f.Line)}}}
		locations[i] = loc
		out.Location = append(out.Location, loc)
	}
	labels := make([]map[string][]string, len(p.Labels))
	for i, l := range p.Labels {
		m := map[string][]string{}
		for k, v := range map[string]string{PprofLabelService: l.Service, PprofLabelPool: l.Pool, PprofLabelEndpoint: l.Endpoint} {
			if v != "" {
				m[k] = []string{v}
			}
		}
		if len(m) > 0 {
			labels[i] = m
		}
	}
	for _, s := range p.Stacks {
		locs := make([]*profile.Location, len(s.Frames))
		for i, id := range s.Frames { // pprof wants the leaf first
			locs[len(s.Frames)-1-i] = locations[id]
		}
		out.Sample = append(out.Sample, &profile.Sample{
			Location: locs,
			Value:    []int64{s.Count, s.Count * p.PeriodNs},
			Label:    labels[s.Label],
		})
	}
	return out
}

// WritePprof writes p as a gzipped pprof profile (what `go tool pprof`
// reads).
func WritePprof(w io.Writer, p *Profile, start time.Time, duration time.Duration) error {
	return Pprof(p, start, duration).Write(w)
}
