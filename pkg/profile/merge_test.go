package profile

import (
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/tusk-php/tusk/pkg/agentapi"
)

// TestMergeFlamegraphsEqualsMergedProfiles: merging the flame graphs of two
// agents gives the flame graph of all their samples together.
func TestMergeFlamegraphsEqualsMergedProfiles(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	for round := range 50 {
		a := randomProfile(r, 200+r.IntN(300), 1000)
		b := randomProfile(r, 1+r.IntN(300), 1000)
		both := NewProfile(2000)
		both.Merge(a)
		both.Merge(b)
		want := Flamegraph(both, 0)
		got, err := MergeFlamegraphs(0, Flamegraph(a, 0), Flamegraph(b, 0))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("round %d: merged graphs differ from the graph of the merged profiles:\n got %+v\nwant %+v", round, got, want)
		}
	}
}

func TestMergeFlamegraphsSkipsEmptyAndScalesPeriods(t *testing.T) {
	fg := Flamegraph(handProfile(), 0)
	slower := fg
	slower.PeriodNs = fg.PeriodNs * 2 // half the rate: each sample is worth two
	got, err := MergeFlamegraphs(0, agentapi.Flamegraph{}, fg, slower)
	if err != nil {
		t.Fatal(err)
	}
	if got.Total != 3*fg.Total || got.Nodes[0].Value != 3*fg.Total || got.PeriodNs != fg.PeriodNs {
		t.Errorf("total %d root %d period %d, want %d, %d, %d", got.Total, got.Nodes[0].Value, got.PeriodNs, 3*fg.Total, 3*fg.Total, fg.PeriodNs)
	}
}

func TestMergeFlamegraphsRefusesBrokenLevels(t *testing.T) {
	bad := agentapi.Flamegraph{Total: 1, Nodes: []agentapi.FlameNode{{Level: 0, Value: 1}, {Level: 2, Label: "x", Value: 1}}}
	if _, err := MergeFlamegraphs(0, bad); err == nil {
		t.Error("a node two levels below its predecessor was accepted")
	}
}
