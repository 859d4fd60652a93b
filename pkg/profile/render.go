package profile

import (
	"cmp"
	"slices"

	"github.com/tusk-php/tusk/pkg/agentapi"
)

// nodeKey is what makes a flame-graph node: a function in a file, whatever
// the line.
type nodeKey struct {
	label string
	file  string
}

type treeNode struct {
	key      nodeKey
	value    int64
	self     int64
	children map[nodeKey]*treeNode
	level    int
	keep     bool
}

// Flamegraph renders p as a flame graph of at most maxNodes nodes (maxNodes
// < 1 means agentapi.DefaultMaxNodes). When the tree is larger, the smallest
// subtrees are cut and their samples added to their parent's Self, so the
// root's Value and Total stay exact and every kept node keeps its Value.
func Flamegraph(p *Profile, maxNodes int) agentapi.Flamegraph {
	if maxNodes < 1 {
		maxNodes = agentapi.DefaultMaxNodes
	}
	fg := agentapi.Flamegraph{Unit: agentapi.ProfileUnitSamples}
	if p == nil {
		fg.Nodes = []agentapi.FlameNode{{Label: "total"}}
		return fg
	}
	fg.PeriodNs = p.PeriodNs
	fg.Total = p.Total()

	// Names are computed once per frame, not once per sample.
	keys := make([]nodeKey, len(p.Frames))
	for i, f := range p.Frames {
		keys[i] = nodeKey{f.Name(), f.File}
	}
	root := &treeNode{key: nodeKey{label: "total"}}
	all := []*treeNode{root}
	for _, s := range p.Stacks {
		n := root
		n.value += s.Count
		for _, id := range s.Frames {
			k := keys[id]
			c := n.children[k]
			if c == nil {
				if n.children == nil {
					n.children = map[nodeKey]*treeNode{}
				}
				c = &treeNode{key: k, level: n.level + 1}
				n.children[k] = c
				all = append(all, c)
			}
			c.value += s.Count
			n = c
		}
		n.self += s.Count
	}

	fg.Nodes = emitTree(root, all, maxNodes)
	return fg
}

// emitTree writes the tree under root (all lists every node, root included)
// in depth-first pre-order, keeping the maxNodes largest nodes. Ties go to
// the shallower node, so a kept node's parent (never smaller, and shallower)
// is always kept too; a cut subtree's samples go to its parent's Self.
func emitTree(root *treeNode, all []*treeNode, maxNodes int) []agentapi.FlameNode {
	if len(all) > maxNodes {
		slices.SortFunc(all, func(a, b *treeNode) int {
			return cmp.Or(cmp.Compare(b.value, a.value), cmp.Compare(a.level, b.level),
				cmp.Compare(a.key.label, b.key.label), cmp.Compare(a.key.file, b.key.file))
		})
		for _, n := range all[:maxNodes] {
			n.keep = true
		}
	} else {
		for _, n := range all {
			n.keep = true
		}
	}

	nodes := make([]agentapi.FlameNode, 0, min(len(all), maxNodes))
	var walk func(n *treeNode)
	walk = func(n *treeNode) {
		i := len(nodes)
		nodes = append(nodes, agentapi.FlameNode{
			Level: n.level, Label: n.key.label, File: n.key.file, Value: n.value, Self: n.self,
		})
		for _, c := range sortedChildren(n) {
			if c.keep {
				walk(c)
			} else {
				nodes[i].Self += c.value
			}
		}
	}
	walk(root)
	return nodes
}

func sortedChildren(n *treeNode) []*treeNode {
	out := make([]*treeNode, 0, len(n.children))
	for _, c := range n.children {
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b *treeNode) int {
		return cmp.Or(cmp.Compare(a.key.label, b.key.label), cmp.Compare(a.key.file, b.key.file))
	})
	return out
}

// TopFunctions lists the functions of p by Self, highest first (ties by
// Total, then name and file), at most limit of them (limit < 1: all). Total
// counts a sample once per function however often it recursed.
func TopFunctions(p *Profile, limit int) agentapi.TopFunctionsResponse {
	resp := agentapi.TopFunctionsResponse{Unit: agentapi.ProfileUnitSamples, Functions: []agentapi.TopFunction{}}
	if p == nil {
		return resp
	}
	resp.PeriodNs = p.PeriodNs
	resp.Total = p.Total()
	keys := make([]nodeKey, len(p.Frames))
	for i, f := range p.Frames {
		keys[i] = nodeKey{f.Name(), f.File}
	}
	type tally struct{ self, total int64 }
	byKey := map[nodeKey]*tally{}
	seen := map[nodeKey]bool{}
	for _, s := range p.Stacks {
		clear(seen)
		for _, id := range s.Frames {
			k := keys[id]
			if seen[k] {
				continue
			}
			seen[k] = true
			t := byKey[k]
			if t == nil {
				t = &tally{}
				byKey[k] = t
			}
			t.total += s.Count
		}
		if len(s.Frames) > 0 {
			byKey[keys[s.Frames[len(s.Frames)-1]]].self += s.Count
		}
	}
	for k, t := range byKey {
		resp.Functions = append(resp.Functions, agentapi.TopFunction{
			Function: k.label, File: k.file, Self: t.self, Total: t.total,
			SelfPercent: percent(t.self, resp.Total), TotalPercent: percent(t.total, resp.Total),
		})
	}
	slices.SortFunc(resp.Functions, func(a, b agentapi.TopFunction) int {
		return cmp.Or(cmp.Compare(b.Self, a.Self), cmp.Compare(b.Total, a.Total),
			cmp.Compare(a.Function, b.Function), cmp.Compare(a.File, b.File))
	})
	if limit > 0 && len(resp.Functions) > limit {
		resp.Functions = resp.Functions[:limit]
	}
	return resp
}

func percent(part, whole int64) float64 {
	if whole == 0 {
		return 0
	}
	return float64(part) * 100 / float64(whole)
}
