package frames

import (
	"cmp"
	"slices"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"
)

// FunctionSearchRow is a search row and the CPU time a function took in
// that request.
type FunctionSearchRow struct {
	SearchRow
	FunctionCPU time.Duration
}

// SortFunctionSearchRows orders rows from several agents by the function's
// CPU time, highest first (ties: newest first), and keeps limit of them.
func SortFunctionSearchRows(rows []FunctionSearchRow, limit int) []FunctionSearchRow {
	slices.SortStableFunc(rows, func(a, b FunctionSearchRow) int {
		return cmp.Or(cmp.Compare(b.FunctionCPU, a.FunctionCPU), cmp.Compare(b.StartUnixNano, a.StartUnixNano),
			cmp.Compare(a.TraceID.String(), b.TraceID.String()))
	})
	if limit > 0 && len(rows) > limit {
		rows = rows[:limit]
	}
	return rows
}

// FunctionSearch is the Search table of the requests where function was
// hot, in the rows' order, with one more column after the duration:
// functionCpu, the CPU time in ms sampled with the function on the stack.
func FunctionSearch(rows []FunctionSearchRow, function string, ds DatasourceRef) *data.Frame {
	plain := make([]SearchRow, len(rows))
	cpu := make([]float64, len(rows))
	for i, r := range rows {
		plain[i] = r.SearchRow
		cpu[i] = float64(r.FunctionCPU) / float64(time.Millisecond)
	}
	f := Search(plain, ds)
	field := data.NewField("functionCpu", nil, cpu).SetConfig(&data.FieldConfig{
		DisplayName: "CPU in " + function,
		Unit:        "ms",
		Description: "CPU time sampled with " + function + " on the stack (samples times the sampling period)",
	})
	at := len(f.Fields)
	for i, fld := range f.Fields {
		if fld.Name == "traceDuration" {
			at = i + 1
		}
	}
	f.Fields = slices.Insert(f.Fields, at, field)
	return f
}
