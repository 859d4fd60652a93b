package assemble

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"runtime"
	"testing"
)

// A value boxed by int64Boxes is, to its readers, the int64 Go would have
// boxed, after any number of garbage collections and past chunk ends.
func TestInt64BoxesAreInt64s(t *testing.T) {
	var b int64Boxes
	values := []int64{0, 1, 255, 256, -1, math.MinInt64, math.MaxInt64, 1_000_000}
	for i := range 3 * int64BoxesChunk {
		values = append(values, int64(i)*7919)
	}
	boxed := make([]any, len(values))
	for i, v := range values {
		boxed[i] = b.box(v)
	}
	b = int64Boxes{} // only the interfaces keep the chunks now
	runtime.GC()
	runtime.GC()
	for i, v := range values {
		got, ok := boxed[i].(int64)
		if !ok || got != v || boxed[i] != any(v) || !reflect.DeepEqual(boxed[i], any(v)) {
			t.Fatalf("boxed %d reads %#v", v, boxed[i])
		}
		if js, _ := json.Marshal(boxed[i]); string(js) != fmt.Sprint(v) {
			t.Fatalf("boxed %d marshals as %s", v, js)
		}
	}
	if n := testing.AllocsPerRun(1000, func() { b.box(123456) }); n > float64(1)/int64BoxesChunk+0.01 {
		t.Errorf("%.3f allocations per box", n)
	}
}
