package profile

import (
	"cmp"
	"fmt"

	"github.com/tusk-php/tusk/pkg/agentapi"
)

// DiffFlamegraph compares two flame graphs, a baseline (before) and a
// compared one (after), node by node: every path of (function, file) found
// on either side is one node, in the form and order of Flamegraph's nodes
// (depth-first pre-order, children by label, then file, Nodes[0] the root
// "total"). Values count samples of PeriodNs each.
type DiffFlamegraph struct {
	PeriodNs      int64
	BaselineTotal int64
	ComparedTotal int64
	Nodes         []DiffNode
}

// DiffNode is one node of a DiffFlamegraph with each side's value (samples
// in it and below it) and self (samples in it alone, plus cut children).
// A node found on one side only has zeros for the other.
type DiffNode struct {
	Level        int
	Label        string
	File         string
	Baseline     int64
	BaselineSelf int64
	Compared     int64
	ComparedSelf int64
}

// DiffFlamegraphs merges baseline and compared by path into a
// DiffFlamegraph of at most maxNodes nodes (< 1: agentapi.DefaultMaxNodes).
// The nodes kept are those MergeFlamegraphs would keep of the two graphs
// together, the largest by both sides' samples; a cut subtree's samples go
// to its parent's self, each side's to its own, so totals stay exact. When
// the two were sampled at different periods the compared graph is counted
// in the baseline's (or, with an empty baseline, the other way round).
func DiffFlamegraphs(maxNodes int, baseline, compared agentapi.Flamegraph) (DiffFlamegraph, error) {
	if maxNodes < 1 {
		maxNodes = agentapi.DefaultMaxNodes
	}
	out := DiffFlamegraph{PeriodNs: cmp.Or(baselinePeriod(baseline), compared.PeriodNs)}
	root := &treeNode{key: nodeKey{label: "total"}}
	all := []*treeNode{root}
	for _, side := range []struct {
		name     string
		g        agentapi.Flamegraph
		compared bool
		total    *int64
	}{
		{"baseline", baseline, false, &out.BaselineTotal},
		{"compared", compared, true, &out.ComparedTotal},
	} {
		if isEmpty(side.g) {
			continue
		}
		scale := scaleTo(out.PeriodNs, side.g.PeriodNs)
		if err := addGraph(root, &all, side.g, scale, side.compared); err != nil {
			return out, fmt.Errorf("%s flame graph: %w", side.name, err)
		}
		*side.total = scale(side.g.Total)
	}

	keepLargest(all, maxNodes)
	out.Nodes = make([]DiffNode, 0, min(len(all), maxNodes))
	walkKept(root, func(n *treeNode, cut, cutRight int64) {
		out.Nodes = append(out.Nodes, DiffNode{
			Level: n.level, Label: n.key.label, File: n.key.file,
			Baseline:     n.value - n.right,
			BaselineSelf: n.self - n.rightSelf + cut - cutRight,
			Compared:     n.right,
			ComparedSelf: n.rightSelf + cutRight,
		})
	})
	return out, nil
}

// baselinePeriod is the baseline's period, or 0 when it has no samples
// (an empty answer may still carry the agent's period).
func baselinePeriod(g agentapi.Flamegraph) int64 {
	if isEmpty(g) {
		return 0
	}
	return g.PeriodNs
}
