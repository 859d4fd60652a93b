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
	// right and rightSelf are the compared side's part of value and self
	// in a diff tree (DiffFlamegraphs); zero elsewhere.
	right     int64
	rightSelf int64
}

// child returns n's child k, adding it to the tree (and to all) when new.
func (n *treeNode) child(k nodeKey, all *[]*treeNode) *treeNode {
	c := n.children[k]
	if c == nil {
		if n.children == nil {
			n.children = map[nodeKey]*treeNode{}
		}
		c = &treeNode{key: k, level: n.level + 1}
		n.children[k] = c
		*all = append(*all, c)
	}
	return c
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
			n = n.child(keys[id], &all)
			n.value += s.Count
		}
		n.self += s.Count
	}

	fg.Nodes = emitTree(root, all, maxNodes)
	return fg
}

// emitTree writes the tree under root (all lists every node, root included)
// in depth-first pre-order, keeping the maxNodes largest nodes (see
// keepLargest).
func emitTree(root *treeNode, all []*treeNode, maxNodes int) []agentapi.FlameNode {
	keepLargest(all, maxNodes)
	nodes := make([]agentapi.FlameNode, 0, min(len(all), maxNodes))
	walkKept(root, func(n *treeNode, cut, _ int64) {
		nodes = append(nodes, agentapi.FlameNode{
			Level: n.level, Label: n.key.label, File: n.key.file, Value: n.value, Self: n.self + cut,
		})
	})
	return nodes
}

// keepLargest marks the maxNodes largest nodes of all to be kept. Ties go
// to the shallower node, so a kept node's parent (never smaller, and
// shallower) is always kept too.
func keepLargest(all []*treeNode, maxNodes int) {
	if len(all) <= maxNodes {
		for _, n := range all {
			n.keep = true
		}
		return
	}
	slices.SortFunc(all, func(a, b *treeNode) int {
		return cmp.Or(cmp.Compare(b.value, a.value), cmp.Compare(a.level, b.level),
			cmp.Compare(a.key.label, b.key.label), cmp.Compare(a.key.file, b.key.file))
	})
	for _, n := range all[:maxNodes] {
		n.keep = true
	}
}

// walkKept visits the kept nodes under root, root included, in depth-first
// pre-order, children by label, then file. cut and cutRight are the value
// and right of n's children that were not kept: their samples belong to
// n's self now.
func walkKept(root *treeNode, visit func(n *treeNode, cut, cutRight int64)) {
	var walk func(n *treeNode)
	walk = func(n *treeNode) {
		children := sortedChildren(n)
		var cut, cutRight int64
		for _, c := range children {
			if !c.keep {
				cut += c.value
				cutRight += c.right
			}
		}
		visit(n, cut, cutRight)
		for _, c := range children {
			if c.keep {
				walk(c)
			}
		}
	}
	walk(root)
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
