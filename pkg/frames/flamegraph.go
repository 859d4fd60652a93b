package frames

import (
	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/tusk-php/tusk/pkg/agentapi"
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
	scale, unit := fg.PeriodNs, "ns"
	if scale <= 0 {
		scale, unit = 1, "short" // no sample yet, so no period: plain counts
	}
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
