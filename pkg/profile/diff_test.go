package profile

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/tusk-php/tusk/pkg/agentapi"
)

func TestDiffFlamegraphsByHand(t *testing.T) {
	before := handProfile()
	after := NewProfile(0)
	after.PeriodNs = testPeriod
	frCache := Frame{Function: "get", Class: "Cache", File: "/www/Cache.php"}
	after.Add([]Frame{frMain, frRun, frQuery}, testLabels, 1) // db_query: 4 → 1
	after.Add([]Frame{frMain, frRun, frCache}, testLabels, 5) // new
	after.Add([]Frame{frMain, frRun, frRender}, testLabels, 2)
	// B::helper and {main}'s own sample are gone.

	d, err := DiffFlamegraphs(0, Flamegraph(before, 0), Flamegraph(after, 0))
	if err != nil {
		t.Fatal(err)
	}
	got := make([]string, len(d.Nodes))
	for i, n := range d.Nodes {
		got[i] = fmt.Sprintf("%s%s %d/%d → %d/%d", strings.Repeat(" ", n.Level), n.Label, n.Baseline, n.BaselineSelf, n.Compared, n.ComparedSelf)
	}
	want := []string{
		"total 8/0 → 8/0",
		" {main} 8/1 → 8/0",
		"  A::run 6/0 → 8/0",
		"   Cache::get 0/0 → 5/5", // only after
		"   db_query 4/4 → 1/1",
		"   render 2/2 → 2/2",
		"  B::helper 1/1 → 0/0", // only before
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("diff:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if d.BaselineTotal != 8 || d.ComparedTotal != 8 || d.PeriodNs != testPeriod {
		t.Errorf("totals %d, %d, period %d", d.BaselineTotal, d.ComparedTotal, d.PeriodNs)
	}

	// Cut to 4 nodes: Cache::get (5 samples) stays, B::helper (1) and
	// render (4) fold into their parents, each side into its own self.
	d, _ = DiffFlamegraphs(4, Flamegraph(before, 0), Flamegraph(after, 0))
	if len(d.Nodes) != 4 || d.Nodes[3].Label != "Cache::get" {
		t.Fatalf("cut to 4: %+v", d.Nodes)
	}
	if run := d.Nodes[2]; run.BaselineSelf != 6 || run.ComparedSelf != 3 {
		t.Errorf("A::run keeps db_query and render as self: %+v", run)
	}
	if main := d.Nodes[1]; main.BaselineSelf != 2 || main.ComparedSelf != 0 {
		t.Errorf("{main} keeps B::helper as self: %+v", main)
	}
}

func TestDiffFlamegraphsPeriodsAndEmptySides(t *testing.T) {
	fg := Flamegraph(handProfile(), 0)
	slower := fg
	slower.PeriodNs = 2 * fg.PeriodNs // each sample is worth two of fg's
	d, err := DiffFlamegraphs(0, fg, slower)
	if err != nil {
		t.Fatal(err)
	}
	if d.PeriodNs != fg.PeriodNs || d.BaselineTotal != 8 || d.ComparedTotal != 16 || d.Nodes[0].Compared != 16 {
		t.Errorf("period %d, totals %d and %d, root %+v", d.PeriodNs, d.BaselineTotal, d.ComparedTotal, d.Nodes[0])
	}

	// An empty baseline (nothing before the deploy) still says its period;
	// the compared side's counts.
	empty := Flamegraph(nil, 0)
	empty.PeriodNs = 1
	d, err = DiffFlamegraphs(0, empty, slower)
	if err != nil {
		t.Fatal(err)
	}
	if d.PeriodNs != slower.PeriodNs || d.BaselineTotal != 0 || d.ComparedTotal != 8 || len(d.Nodes) != len(fg.Nodes) {
		t.Errorf("empty baseline: period %d, totals %d and %d, %d nodes", d.PeriodNs, d.BaselineTotal, d.ComparedTotal, len(d.Nodes))
	}
	d, _ = DiffFlamegraphs(0, agentapi.Flamegraph{}, agentapi.Flamegraph{})
	if len(d.Nodes) != 1 || d.Nodes[0] != (DiffNode{Label: "total"}) {
		t.Errorf("both empty: %+v", d.Nodes)
	}

	bad := agentapi.Flamegraph{Total: 1, Nodes: []agentapi.FlameNode{{Level: 0, Value: 1}, {Level: 2, Label: "x", Value: 1}}}
	if _, err := DiffFlamegraphs(0, fg, bad); err == nil || !strings.Contains(err.Error(), "compared flame graph") {
		t.Errorf("broken compared graph: %v", err)
	}
}

// TestDiffFlamegraphsProperties, on random pairs of profiles and sizes:
// both sides together are the merged flame graph, node for node, cut the
// same way; each side alone, uncut, is its own flame graph; and each side's
// selves add up to its total, its values to self plus children.
func TestDiffFlamegraphsProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	for round := range 60 {
		a := randomProfile(r, r.IntN(300), 1000)
		b := randomProfile(r, r.IntN(300), 1000)
		fa, fb := Flamegraph(a, 0), Flamegraph(b, 0)
		maxNodes := 1 + r.IntN(400)
		if round%3 == 0 {
			maxNodes = 0 // the default: nothing cut
		}
		d, err := DiffFlamegraphs(maxNodes, fa, fb)
		if err != nil {
			t.Fatal(err)
		}
		merged, err := MergeFlamegraphs(maxNodes, fa, fb)
		if err != nil {
			t.Fatal(err)
		}
		if len(d.Nodes) != len(merged.Nodes) {
			t.Fatalf("round %d: %d nodes, the merged graph has %d", round, len(d.Nodes), len(merged.Nodes))
		}
		for i, n := range d.Nodes {
			m := merged.Nodes[i]
			if n.Level != m.Level || n.Label != m.Label || n.File != m.File ||
				n.Baseline+n.Compared != m.Value || n.BaselineSelf+n.ComparedSelf != m.Self {
				t.Fatalf("round %d node %d: %+v, merged %+v", round, i, n, m)
			}
		}
		if d.BaselineTotal != a.Total() || d.ComparedTotal != b.Total() ||
			d.Nodes[0].Baseline != a.Total() || d.Nodes[0].Compared != b.Total() {
			t.Fatalf("round %d: totals %d, %d, root %+v; want %d and %d", round, d.BaselineTotal, d.ComparedTotal, d.Nodes[0], a.Total(), b.Total())
		}
		checkDiffSums(t, d)
		if maxNodes == 0 {
			checkSide(t, d, fa, func(n DiffNode) (int64, int64) { return n.Baseline, n.BaselineSelf })
			checkSide(t, d, fb, func(n DiffNode) (int64, int64) { return n.Compared, n.ComparedSelf })
		}
	}
}

// checkDiffSums: per side, selves add up to the total, and every node's
// value is its self plus its children's values.
func checkDiffSums(t *testing.T, d DiffFlamegraph) {
	t.Helper()
	var selfBase, selfComp int64
	for i, n := range d.Nodes {
		selfBase += n.BaselineSelf
		selfComp += n.ComparedSelf
		childBase, childComp := n.BaselineSelf, n.ComparedSelf
		for _, c := range d.Nodes[i+1:] {
			if c.Level <= n.Level {
				break
			}
			if c.Level == n.Level+1 {
				childBase += c.Baseline
				childComp += c.Compared
			}
		}
		if childBase != n.Baseline || childComp != n.Compared {
			t.Fatalf("node %d %+v: self plus children make %d and %d", i, n, childBase, childComp)
		}
	}
	if selfBase != d.BaselineTotal || selfComp != d.ComparedTotal {
		t.Fatalf("selves add up to %d and %d, totals %d and %d", selfBase, selfComp, d.BaselineTotal, d.ComparedTotal)
	}
}

// checkSide: side's values of every node are those of the node on the same
// path in g, zero where g has no such path, and every node of g is there.
func checkSide(t *testing.T, d DiffFlamegraph, g agentapi.Flamegraph, side func(DiffNode) (value, self int64)) {
	t.Helper()
	paths := func(level func(i int) int, name func(i int) string, n int) []string {
		out := make([]string, n)
		var stack []string
		for i := range n {
			stack = append(stack[:level(i)], name(i))
			out[i] = strings.Join(stack, ";")
		}
		return out
	}
	inG := map[string]agentapi.FlameNode{}
	for i, p := range paths(func(i int) int { return g.Nodes[i].Level }, func(i int) string { return g.Nodes[i].Label + "@" + g.Nodes[i].File }, len(g.Nodes)) {
		inG[p] = g.Nodes[i]
	}
	seen := 0
	for i, p := range paths(func(i int) int { return d.Nodes[i].Level }, func(i int) string { return d.Nodes[i].Label + "@" + d.Nodes[i].File }, len(d.Nodes)) {
		value, self := side(d.Nodes[i])
		want, ok := inG[p]
		if ok {
			seen++
		}
		if value != want.Value || self != want.Self {
			t.Fatalf("%s: %d/%d, want %d/%d", p, value, self, want.Value, want.Self)
		}
	}
	if seen != len(inG) {
		t.Fatalf("%d of the side's %d nodes are in the diff", seen, len(inG))
	}
}
