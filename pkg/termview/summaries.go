package termview

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/tusk-php/tusk/pkg/trace"
)

// maxPathWidth keeps the table within a wide terminal; the trace id at the
// end of the line is what people copy, so it must not wrap away.
const maxPathWidth = 50

var summaryColumns = []column{
	{title: "START"},
	{title: "DURATION", right: true},
	{title: "METHOD"},
	{title: "PATH"},
	{title: "STATUS", right: true},
	{title: "POOL"},
	{title: "SPANS", right: true},
	{title: "FLAGS"},
	{title: "TRACE ID"},
}

// Summaries prints search results as an aligned table, one trace a line, in
// the order given.
func Summaries(w io.Writer, traces []trace.Summary) {
	if len(traces) == 0 {
		fmt.Fprintln(w, "no traces")
		return
	}
	rows := make([][]string, 0, len(traces))
	for i := range traces {
		s := &traces[i]
		rows = append(rows, []string{
			clock(s.StartUnixNano),
			millis(s.DurationNano),
			orDash(clean(s.Method)),
			orDash(truncateRight(clean(s.Path), maxPathWidth)),
			orDash(statusText(s.StatusCode)),
			orDash(clean(s.Pool)),
			strconv.Itoa(s.SpanCount),
			strings.Join(flags(s), " "),
			s.TraceID.String(),
		})
	}
	writeTable(w, summaryColumns, rows)
}

// flags are the words that make a line stand out when scanning a list.
func flags(s *trace.Summary) []string {
	var f []string
	if s.Error {
		f = append(f, "ERR")
	}
	if s.Incomplete {
		f = append(f, "INCOMPLETE")
	}
	if s.NPlusOne > 0 {
		f = append(f, "N+1")
	}
	return f
}

func statusText(code int) string {
	if code == 0 {
		return ""
	}
	return strconv.Itoa(code)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
