package frames

import (
	"testing"
	"time"

	"github.com/tusk-php/tusk/pkg/trace"
)

func TestFunctionSearchSortsByTheFunctionsCPU(t *testing.T) {
	row := func(id byte, start int64, cpu time.Duration) FunctionSearchRow {
		return FunctionSearchRow{SearchRow: SearchRow{Agent: "web-1", Summary: trace.Summary{TraceID: trace.TraceID{id}, StartUnixNano: start, DurationNano: 9e6}}, FunctionCPU: cpu}
	}
	rows := SortFunctionSearchRows([]FunctionSearchRow{
		row(1, 10, 20*time.Millisecond), row(2, 30, 50*time.Millisecond), row(3, 20, 20*time.Millisecond), row(4, 5, time.Millisecond),
	}, 3)
	var order []byte
	for _, r := range rows {
		order = append(order, r.TraceID[0])
	}
	if string(order) != "\x02\x03\x01" { // 50 ms, then the 20 ms ones newest first; the limit drops the last
		t.Fatalf("order %v", order)
	}

	f := FunctionSearch(rows, "burn", DatasourceRef{UID: "u"})
	dur, at := f.FieldByName("traceDuration")
	cpu, cpuAt := f.FieldByName("functionCpu")
	if dur == nil || cpu == nil || cpuAt != at+1 {
		t.Fatalf("functionCpu at %d, traceDuration at %d", cpuAt, at)
	}
	if cpu.Config.Unit != "ms" || cpu.Config.DisplayName != "CPU in burn" || cpu.At(0) != 50.0 || cpu.At(2) != 20.0 {
		t.Errorf("functionCpu %+v: %v %v %v", cpu.Config, cpu.At(0), cpu.At(1), cpu.At(2))
	}
	if n, _ := f.RowLen(); n != 3 || len(f.Fields) != len(Search(nil, DatasourceRef{}).Fields)+1 {
		t.Errorf("%d rows, %d fields", n, len(f.Fields))
	}
}
