package profile

import (
	"fmt"

	"github.com/tusk-php/tusk/pkg/agentapi"
)

// MergeFlamegraphs adds flame graphs of the same query from several agents
// into one, as if one agent had seen every sample: nodes on the same path
// of (function, file) add up. Graphs sampled at different periods are
// counted in the first graph's period, so that values stay comparable CPU
// time. The result is cut to maxNodes like Flamegraph (< 1: the default).
// A graph whose levels do not form a tree is refused.
func MergeFlamegraphs(maxNodes int, graphs ...agentapi.Flamegraph) (agentapi.Flamegraph, error) {
	if maxNodes < 1 {
		maxNodes = agentapi.DefaultMaxNodes
	}
	out := agentapi.Flamegraph{Unit: agentapi.ProfileUnitSamples}
	root := &treeNode{key: nodeKey{label: "total"}}
	all := []*treeNode{root}
	for gi, g := range graphs {
		if isEmpty(g) {
			continue
		}
		if out.PeriodNs == 0 {
			out.PeriodNs = g.PeriodNs
		}
		scale := scaleTo(out.PeriodNs, g.PeriodNs)
		if err := addGraph(root, &all, g, scale, false); err != nil {
			return out, fmt.Errorf("flame graph %d: %w", gi, err)
		}
		out.Total += scale(g.Total)
	}
	out.Nodes = emitTree(root, all, maxNodes)
	return out, nil
}

func isEmpty(g agentapi.Flamegraph) bool { return len(g.Nodes) == 0 || g.Total == 0 }

// scaleTo converts samples taken every from ns into samples of period ns,
// so that graphs sampled at different rates add up as CPU time.
func scaleTo(period, from int64) func(int64) int64 {
	if from <= 0 || period <= 0 || from == period {
		return func(v int64) int64 { return v }
	}
	return func(v int64) int64 { return v * from / period }
}

// addGraph adds g's nodes, scaled, to the tree under root, each to the node
// on the same path of (label, file), adding new nodes to all. With compared
// set, they also count as the compared side of a diff (right, rightSelf).
func addGraph(root *treeNode, all *[]*treeNode, g agentapi.Flamegraph, scale func(int64) int64, compared bool) error {
	add := func(n *treeNode, fn agentapi.FlameNode) {
		value, self := scale(fn.Value), scale(fn.Self)
		n.value += value
		n.self += self
		if compared {
			n.right += value
			n.rightSelf += self
		}
	}
	// path[l] is the tree's node at level l on the way to the current node.
	path := []*treeNode{root}
	for i, n := range g.Nodes {
		if i == 0 {
			if n.Level != 0 {
				return fmt.Errorf("first node has level %d, want the root at 0", n.Level)
			}
			add(root, n)
			continue
		}
		if n.Level < 1 || n.Level > len(path) {
			return fmt.Errorf("node %d jumps to level %d after level %d", i, n.Level, len(path)-1)
		}
		path = path[:n.Level]
		c := path[n.Level-1].child(nodeKey{n.Label, n.File}, all)
		add(c, n)
		path = append(path, c)
	}
	return nil
}
