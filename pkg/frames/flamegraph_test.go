package frames

import (
	"testing"

	"github.com/tusk-php/tusk/pkg/profile"
)

// TestDiffFlamegraphFrameConvention: value and self hold the baseline
// alone, valueRight and selfRight the compared range, all in CPU ns; the
// panel adds the two to size a bar.
func TestDiffFlamegraphFrameConvention(t *testing.T) {
	d := profile.DiffFlamegraph{PeriodNs: 10, BaselineTotal: 3, ComparedTotal: 5, Nodes: []profile.DiffNode{
		{Label: "total", Baseline: 3, Compared: 5},
		{Level: 1, Label: "burn", File: "/app/burn.php", Baseline: 3, BaselineSelf: 3, Compared: 5, ComparedSelf: 5},
	}}
	f := DiffFlamegraph(d)
	for name, want := range map[string][]any{
		"level": {int64(0), int64(1)}, "label": {"total", "burn"}, "file": {"", "/app/burn.php"},
		"value": {int64(30), int64(30)}, "self": {int64(0), int64(30)},
		"valueRight": {int64(50), int64(50)}, "selfRight": {int64(0), int64(50)},
	} {
		fld, _ := f.FieldByName(name)
		if fld == nil {
			t.Errorf("no field %s", name)
			continue
		}
		for i, w := range want {
			if fld.At(i) != w {
				t.Errorf("%s[%d] = %v, want %v", name, i, fld.At(i), w)
			}
		}
		if (name == "value" || name == "selfRight") && fld.Config.Unit != "ns" {
			t.Errorf("%s unit %q", name, fld.Config.Unit)
		}
	}
	if f.Meta == nil || f.Meta.PreferredVisualization != "flamegraph" {
		t.Errorf("meta %+v", f.Meta)
	}
}
