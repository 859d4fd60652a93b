package frames

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/tusk-php/tusk/pkg/agentapi"
)

// REDMetric is one of the time series a metrics query returns per group.
type REDMetric string

const (
	MetricRequests REDMetric = "requests" // requests per second
	MetricErrors   REDMetric = "errors"   // errors per second
	MetricP50      REDMetric = "p50"      // duration percentiles, ms
	MetricP95      REDMetric = "p95"
	MetricP99      REDMetric = "p99"
)

// AllREDMetrics is what a metrics query returns when it names none.
var AllREDMetrics = []REDMetric{MetricRequests, MetricErrors, MetricP50, MetricP95, MetricP99}

var quantiles = map[REDMetric]float64{MetricP50: 0.50, MetricP95: 0.95, MetricP99: 0.99}

// ParseREDMetric accepts a metric's name.
func ParseREDMetric(s string) (REDMetric, error) {
	for _, m := range AllREDMetrics {
		if string(m) == s {
			return m, nil
		}
	}
	names := make([]string, len(AllREDMetrics))
	for i, m := range AllREDMetrics {
		names[i] = string(m)
	}
	return "", fmt.Errorf("metric %q: want one of %s", s, strings.Join(names, ", "))
}

// redKey identifies a series across agents.
type redKey struct {
	service, pool, endpoint string
	other                   bool
}

// mergedSeries is one group summed over agents, step by step.
type mergedSeries struct {
	key    redKey
	total  uint64
	points map[int64]*agentapi.REDPoint
}

// MergeRED adds up the answers of several agents to one RED query: the same
// group on two agents is one series whose steps sum (histograms merged, so
// percentiles are those of all the requests). The limit busiest groups are
// kept, the rest summed into the Other series, as one agent does.
func MergeRED(limit int, answers ...*agentapi.REDResponse) []agentapi.REDSeries {
	byKey := map[redKey]*mergedSeries{}
	for _, a := range answers {
		if a == nil {
			continue
		}
		for _, s := range a.Series {
			k := redKey{s.Service, s.Pool, s.Endpoint, s.Other}
			m := byKey[k]
			if m == nil {
				m = &mergedSeries{key: k, points: map[int64]*agentapi.REDPoint{}}
				byKey[k] = m
			}
			for _, p := range s.Points {
				addPoint(m, p)
			}
		}
	}
	all := make([]*mergedSeries, 0, len(byKey))
	var other *mergedSeries
	for _, m := range byKey {
		if m.key.other {
			other = m
			continue
		}
		all = append(all, m)
	}
	slices.SortFunc(all, func(a, b *mergedSeries) int {
		return cmp.Or(cmp.Compare(b.total, a.total), cmp.Compare(a.key.service, b.key.service),
			cmp.Compare(a.key.pool, b.key.pool), cmp.Compare(a.key.endpoint, b.key.endpoint))
	})
	if limit > 0 && len(all) > limit {
		if other == nil {
			other = &mergedSeries{key: redKey{other: true}, points: map[int64]*agentapi.REDPoint{}}
		}
		for _, m := range all[limit:] {
			for _, p := range m.points {
				addPoint(other, *p)
			}
		}
		all = all[:limit]
	}
	if other != nil {
		all = append(all, other)
	}
	out := make([]agentapi.REDSeries, len(all))
	for i, m := range all {
		s := agentapi.REDSeries{Service: m.key.service, Pool: m.key.pool, Endpoint: m.key.endpoint, Other: m.key.other}
		for _, p := range m.points {
			s.Points = append(s.Points, *p)
		}
		slices.SortFunc(s.Points, func(a, b agentapi.REDPoint) int { return cmp.Compare(a.StartUnixMs, b.StartUnixMs) })
		out[i] = s
	}
	return out
}

func addPoint(m *mergedSeries, p agentapi.REDPoint) {
	q := m.points[p.StartUnixMs]
	if q == nil {
		q = &agentapi.REDPoint{StartUnixMs: p.StartUnixMs}
		m.points[p.StartUnixMs] = q
	}
	q.Requests += p.Requests
	q.Errors += p.Errors
	q.Durations.Merge(&p.Durations)
	m.total += p.Requests
}

// RED turns series into one frame per series and metric, each a time field
// and a value field labelled with the group (service, pool, endpoint): the
// multi-frame time series form that graphs and alert rules read. Every step
// from from to to is present: rates are 0 on a step without requests,
// percentiles null.
func RED(series []agentapi.REDSeries, from, to time.Time, step time.Duration, metrics []REDMetric) data.Frames {
	if len(metrics) == 0 {
		metrics = AllREDMetrics
	}
	var steps []int64 // unix ms of each step start
	if step > 0 {
		first := from.Truncate(step)
		if first.After(from) { // Truncate works on absolute time: stay at or before from
			first = first.Add(-step)
		}
		for t := first; t.Before(to); t = t.Add(step) {
			steps = append(steps, t.UnixMilli())
		}
	}
	times := make([]time.Time, len(steps))
	for i, ms := range steps {
		times[i] = time.UnixMilli(ms).UTC()
	}
	seconds := step.Seconds()
	var out data.Frames
	for _, s := range series {
		at := make(map[int64]*agentapi.REDPoint, len(s.Points))
		for i := range s.Points {
			at[s.Points[i].StartUnixMs] = &s.Points[i]
		}
		labels, title := seriesLabels(s)
		for _, m := range metrics {
			var values any
			unit := "reqps"
			switch m {
			case MetricRequests, MetricErrors:
				v := make([]float64, len(steps))
				for i, ms := range steps {
					if p := at[ms]; p != nil {
						n := p.Requests
						if m == MetricErrors {
							n = p.Errors
						}
						v[i] = float64(n) / seconds
					}
				}
				values = v
			default:
				unit = "ms"
				v := make([]*float64, len(steps))
				for i, ms := range steps {
					if p := at[ms]; p != nil {
						if d, ok := p.Durations.Quantile(quantiles[m]); ok {
							x := float64(d) / float64(time.Millisecond)
							v[i] = &x
						}
					}
				}
				values = v
			}
			value := data.NewField(string(m), labels, values).SetConfig(&data.FieldConfig{
				Unit:              unit,
				DisplayNameFromDS: title + " " + metricTitle(m),
			})
			f := data.NewFrame(string(m), data.NewField("time", nil, times), value)
			f.SetMeta(&data.FrameMeta{Type: data.FrameTypeTimeSeriesMulti, TypeVersion: data.FrameTypeVersion{0, 1}})
			out = append(out, f)
		}
	}
	return out
}

// seriesLabels are a series' group as labels (for alert rules and legends)
// and as a title.
func seriesLabels(s agentapi.REDSeries) (data.Labels, string) {
	labels := data.Labels{}
	var parts []string
	for _, kv := range [][2]string{{"service", s.Service}, {"pool", s.Pool}, {"endpoint", s.Endpoint}} {
		if kv[1] != "" {
			labels[kv[0]] = kv[1]
			parts = append(parts, kv[1])
		}
	}
	if s.Other {
		labels["other"] = "true"
		parts = []string{"other"}
	}
	// The most specific part names the series; the labels carry the rest.
	title := "all"
	if len(parts) > 0 {
		title = parts[len(parts)-1]
	}
	return labels, title
}

func metricTitle(m REDMetric) string {
	switch m {
	case MetricRequests:
		return "req/s"
	case MetricErrors:
		return "errors/s"
	}
	return string(m)
}
