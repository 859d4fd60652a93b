package frames

import (
	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/tusk-php/tusk/pkg/agentapi"
	"github.com/tusk-php/tusk/pkg/profile"
)

// Flamegraph is the nested-set frame Grafana's flame graph panel reads:
// level, value, self and label per node in depth-first order, plus the PHP
// file of the function. Values are CPU time in nanoseconds (samples times
// the sampling period), so the panel shows "1.2 s" instead of a count whose
// meaning depends on the sampling rate.
func Flamegraph(fg agentapi.Flamegraph) *data.Frame {
	n := len(fg.Nodes)
	levels := make([]int64, n)
	values := make([]int64, n)
	selfs := make([]int64, n)
	labels := make([]string, n)
	files := make([]string, n)
	scale, unit := cpuScale(fg.PeriodNs)
	for i, node := range fg.Nodes {
		levels[i] = int64(node.Level)
		values[i] = node.Value * scale
		selfs[i] = node.Self * scale
		labels[i] = node.Label
		files[i] = node.File
	}
	f := data.NewFrame("Flame graph",
		data.NewField("level", nil, levels),
		data.NewField("value", nil, values).SetConfig(&data.FieldConfig{Unit: unit}),
		data.NewField("self", nil, selfs).SetConfig(&data.FieldConfig{Unit: unit}),
		data.NewField("label", nil, labels),
		data.NewField("file", nil, files),
	)
	f.SetMeta(&data.FrameMeta{PreferredVisualization: data.VisTypeFlameGraph})
	return f
}

// DiffFlamegraph is the frame Grafana's flame graph panel draws as a diff
// of a baseline and a compared range: Flamegraph's fields plus valueRight
// and selfRight, in CPU nanoseconds as there.
//
// value and self are the baseline's alone, not both sides' sum:
// @grafana/flamegraph (13.0, FlameGraph/dataTransform.mjs,
// nestedSetToLevels) sizes a bar as value + valueRight, and its colours
// (colors.mjs, getBarColorByDiff: ticksLeft = ticks - ticksRight) and
// tables take the baseline back as that sum minus valueRight. A sum in
// value would count the compared range twice.
func DiffFlamegraph(d profile.DiffFlamegraph) *data.Frame {
	n := len(d.Nodes)
	levels := make([]int64, n)
	values := make([]int64, n)
	selfs := make([]int64, n)
	valuesRight := make([]int64, n)
	selfsRight := make([]int64, n)
	labels := make([]string, n)
	files := make([]string, n)
	scale, unit := cpuScale(d.PeriodNs)
	for i, node := range d.Nodes {
		levels[i] = int64(node.Level)
		values[i] = node.Baseline * scale
		selfs[i] = node.BaselineSelf * scale
		valuesRight[i] = node.Compared * scale
		selfsRight[i] = node.ComparedSelf * scale
		labels[i] = node.Label
		files[i] = node.File
	}
	f := data.NewFrame("Flame graph diff",
		data.NewField("level", nil, levels),
		data.NewField("value", nil, values).SetConfig(&data.FieldConfig{Unit: unit, DisplayName: "Baseline"}),
		data.NewField("self", nil, selfs).SetConfig(&data.FieldConfig{Unit: unit, DisplayName: "Baseline self"}),
		data.NewField("valueRight", nil, valuesRight).SetConfig(&data.FieldConfig{Unit: unit, DisplayName: "Compared"}),
		data.NewField("selfRight", nil, selfsRight).SetConfig(&data.FieldConfig{Unit: unit, DisplayName: "Compared self"}),
		data.NewField("label", nil, labels),
		data.NewField("file", nil, files),
	)
	f.SetMeta(&data.FrameMeta{PreferredVisualization: data.VisTypeFlameGraph})
	return f
}

// cpuScale turns samples into CPU nanoseconds; without a period (no sample
// yet) the values stay plain counts.
func cpuScale(periodNs int64) (scale int64, unit string) {
	if periodNs <= 0 {
		return 1, "short"
	}
	return periodNs, "ns"
}
