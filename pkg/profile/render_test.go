package profile

import (
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/tusk-php/tusk/pkg/agentapi"
)

// TestFlamegraphHandBuilt checks the nested-set output against the tree
// worked out by hand from handSamples:
//
//	total      8  self 0
//	 {main}    8  self 1
//	  A::run   6  self 0
//	   db_query 4 self 4   (lines 5 and 7 are one node)
//	   render  2  self 2
//	  B::helper 1 self 1
func TestFlamegraphHandBuilt(t *testing.T) {
	fg := Flamegraph(handProfile(), 0)
	want := agentapi.Flamegraph{
		Unit: "samples", PeriodNs: testPeriod, Total: 8,
		Nodes: []agentapi.FlameNode{
			{Level: 0, Label: "total", Value: 8, Self: 0},
			{Level: 1, Label: "{main}", File: "/www/index.php", Value: 8, Self: 1},
			{Level: 2, Label: "A::run", File: "/www/A.php", Value: 6, Self: 0},
			{Level: 3, Label: "db_query", File: "/www/db.php", Value: 4, Self: 4},
			{Level: 3, Label: "render", File: "/www/view.php", Value: 2, Self: 2},
			{Level: 2, Label: "B::helper", File: "/www/B.php", Value: 1, Self: 1},
		},
	}
	if !reflect.DeepEqual(fg, want) {
		t.Errorf("flame graph:\n got %+v\nwant %+v", fg, want)
	}
}

// TestFlamegraphPrunesSmallestSubtrees: with 4 nodes allowed, render (2) and
// B::helper (1) go, their samples becoming their parents' self.
func TestFlamegraphPrunesSmallestSubtrees(t *testing.T) {
	fg := Flamegraph(handProfile(), 4)
	want := []agentapi.FlameNode{
		{Level: 0, Label: "total", Value: 8, Self: 0},
		{Level: 1, Label: "{main}", File: "/www/index.php", Value: 8, Self: 2},
		{Level: 2, Label: "A::run", File: "/www/A.php", Value: 6, Self: 2},
		{Level: 3, Label: "db_query", File: "/www/db.php", Value: 4, Self: 4},
	}
	if !reflect.DeepEqual(fg.Nodes, want) || fg.Total != 8 {
		t.Errorf("pruned flame graph:\n got %+v\nwant %+v", fg.Nodes, want)
	}
	// One node: only the root, holding everything as self.
	fg = Flamegraph(handProfile(), 1)
	if len(fg.Nodes) != 1 || fg.Nodes[0].Value != 8 || fg.Nodes[0].Self != 8 {
		t.Errorf("maxNodes 1: %+v", fg.Nodes)
	}
}

// checkNestedSet checks the invariants Grafana relies on: pre-order levels,
// value = self + children's values, children sorted by label, then file.
func checkNestedSet(t *testing.T, fg agentapi.Flamegraph) {
	t.Helper()
	nodes := fg.Nodes
	if len(nodes) == 0 || nodes[0].Level != 0 || nodes[0].Label != "total" || nodes[0].Value != fg.Total {
		t.Fatalf("bad root: %+v (total %d)", nodes[:min(1, len(nodes))], fg.Total)
	}
	type open struct {
		i        int
		children int64
		lastKey  string
	}
	var stack []open
	closeTo := func(level int) {
		for len(stack) > 0 && nodes[stack[len(stack)-1].i].Level >= level {
			o := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if n := nodes[o.i]; n.Value != n.Self+o.children {
				t.Fatalf("node %d %+v: value != self + children %d", o.i, n, o.children)
			}
		}
	}
	var selfSum int64
	for i, n := range nodes {
		selfSum += n.Self
		if i > 0 && (n.Level < 1 || n.Level > nodes[i-1].Level+1) {
			t.Fatalf("node %d: level %d after %d", i, n.Level, nodes[i-1].Level)
		}
		closeTo(n.Level)
		if len(stack) > 0 {
			parent := &stack[len(stack)-1]
			key := n.Label + "\x00" + n.File
			if parent.lastKey != "" && key <= parent.lastKey {
				t.Fatalf("node %d: children not sorted (%q after %q)", i, key, parent.lastKey)
			}
			parent.lastKey = key
			parent.children += n.Value
		}
		stack = append(stack, open{i: i})
	}
	closeTo(0)
	if selfSum != fg.Total {
		t.Fatalf("self sums to %d, total %d", selfSum, fg.Total)
	}
}

func TestFlamegraphInvariantsOnRandomProfiles(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 8 {
		p := randomProfile(r, 2000, 0)
		full := Flamegraph(p, agentapi.MaxMaxNodes)
		checkNestedSet(t, full)
		for _, maxNodes := range []int{1, 2, 10, 100, len(full.Nodes) - 1, len(full.Nodes)} {
			fg := Flamegraph(p, maxNodes)
			checkNestedSet(t, fg)
			if len(fg.Nodes) > maxNodes {
				t.Fatalf("profile %d: %d nodes for maxNodes %d", i, len(fg.Nodes), maxNodes)
			}
		}
	}
}

func TestFlamegraphOfNothing(t *testing.T) {
	for _, p := range []*Profile{nil, NewProfile(0)} {
		fg := Flamegraph(p, 0)
		if fg.Total != 0 || len(fg.Nodes) != 1 || fg.Nodes[0].Label != "total" || fg.Unit != "samples" {
			t.Errorf("%+v", fg)
		}
	}
}

func TestTopFunctionsHandBuilt(t *testing.T) {
	got := TopFunctions(handProfile(), 0)
	want := []agentapi.TopFunction{
		{Function: "db_query", File: "/www/db.php", Self: 4, Total: 4, SelfPercent: 50, TotalPercent: 50},
		{Function: "render", File: "/www/view.php", Self: 2, Total: 2, SelfPercent: 25, TotalPercent: 25},
		{Function: "{main}", File: "/www/index.php", Self: 1, Total: 8, SelfPercent: 12.5, TotalPercent: 100},
		{Function: "B::helper", File: "/www/B.php", Self: 1, Total: 1, SelfPercent: 12.5, TotalPercent: 12.5},
		{Function: "A::run", File: "/www/A.php", Self: 0, Total: 6, SelfPercent: 0, TotalPercent: 75},
	}
	if got.Total != 8 || got.PeriodNs != testPeriod || !reflect.DeepEqual(got.Functions, want) {
		t.Errorf("top:\n got %+v\nwant %+v", got, want)
	}
	if got := TopFunctions(handProfile(), 2); len(got.Functions) != 2 || got.Functions[1].Function != "render" {
		t.Errorf("limit 2: %+v", got.Functions)
	}
}

func TestTopFunctionsCountsRecursionOnce(t *testing.T) {
	p := NewProfile(0)
	fact := Frame{Function: "fact", File: "/m.php", Line: 1}
	p.Add([]Frame{frMain, fact, fact, fact}, testLabels, 2)
	p.Add([]Frame{frMain, fact}, testLabels, 1)
	got := TopFunctions(p, 0).Functions
	if len(got) != 2 || got[0].Function != "fact" || got[0].Self != 3 || got[0].Total != 3 || got[0].TotalPercent != 100 ||
		got[1].Function != "{main}" || got[1].Total != 3 || got[1].Self != 0 {
		t.Errorf("%+v", got)
	}
}
