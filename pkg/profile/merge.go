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
		if len(g.Nodes) == 0 || g.Total == 0 {
			continue
		}
		if out.PeriodNs == 0 {
			out.PeriodNs = g.PeriodNs
		}
		scale := func(v int64) int64 { return v }
		if g.PeriodNs > 0 && out.PeriodNs > 0 && g.PeriodNs != out.PeriodNs {
			scale = func(v int64) int64 { return v * g.PeriodNs / out.PeriodNs }
		}
		// path[l] is the merged node at level l on the way to the current node.
		path := []*treeNode{root}
		for i, n := range g.Nodes {
			if i == 0 {
				if n.Level != 0 {
					return out, fmt.Errorf("flame graph %d: first node has level %d, want the root at 0", gi, n.Level)
				}
				root.value += scale(n.Value)
				root.self += scale(n.Self)
				continue
			}
			if n.Level < 1 || n.Level > len(path) {
				return out, fmt.Errorf("flame graph %d: node %d jumps to level %d after level %d", gi, i, n.Level, len(path)-1)
			}
			path = path[:n.Level]
			parent := path[n.Level-1]
			k := nodeKey{n.Label, n.File}
			c := parent.children[k]
			if c == nil {
				if parent.children == nil {
					parent.children = map[nodeKey]*treeNode{}
				}
				c = &treeNode{key: k, level: n.Level}
				parent.children[k] = c
				all = append(all, c)
			}
			c.value += scale(n.Value)
			c.self += scale(n.Self)
			path = append(path, c)
		}
		out.Total += scale(g.Total)
	}
	out.Nodes = emitTree(root, all, maxNodes)
	return out, nil
}
