package termview

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/tusk-php/tusk/pkg/trace"
)

// localZone is where start times are shown; a variable so tests can pin it.
var localZone = time.Local

func clock(unixNano int64) string {
	return time.Unix(0, unixNano).In(localZone).Format("15:04:05.000")
}

// millis prints a duration in milliseconds with one decimal, the unit PHP
// people compare requests in.
func millis(nanos int64) string {
	return strconv.FormatFloat(float64(nanos)/1e6, 'f', 1, 64) + "ms"
}

// clean makes text from a trace safe to print: URL paths, function names and
// exception messages come from the traced application, and a control
// character in them must not reach the operator's terminal (escape
// sequences) or break the layout (newlines).
func clean(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			return ' '
		case unicode.IsControl(r):
			return '\uFFFD'
		}
		return r
	}, s)
}

// truncateRight keeps the start of s, which is where a path or a name says
// most, and ends it with … when cut.
func truncateRight(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)
	return string(r[:max-1]) + "…"
}

// shortenLeft keeps the end of a file path, which names the file, cutting at
// a directory boundary when one is near: "…/includes/class-wc-cart.php".
func shortenLeft(path string, max int) string {
	r := []rune(path)
	if len(r) <= max {
		return path
	}
	tail := string(r[len(r)-(max-1):])
	if i := strings.IndexByte(tail, '/'); i > 0 && i < len(tail)-1 {
		tail = tail[i:]
	}
	return "…" + tail
}

// attrText formats an attribute for display; whole numbers decoded from
// JSON as float64 print without a fraction.
func attrText(a trace.Attributes, key string) string {
	switch v := a[key].(type) {
	case nil:
		return ""
	case string:
		return clean(v)
	case float64:
		if v == float64(int64(v)) {
			return strconv.FormatInt(int64(v), 10)
		}
		return strconv.FormatFloat(v, 'g', -1, 64)
	default:
		return clean(fmt.Sprint(v))
	}
}

// column describes one column of a table.
type column struct {
	title string
	right bool // numbers are right-aligned
}

// writeTable pads every cell to its column's width in runes and trims the
// line ends.
func writeTable(w io.Writer, cols []column, rows [][]string) {
	widths := make([]int, len(cols))
	for i, c := range cols {
		widths[i] = utf8.RuneCountInString(c.title)
	}
	for _, row := range rows {
		for i, cell := range row {
			widths[i] = max(widths[i], utf8.RuneCountInString(cell))
		}
	}
	var b strings.Builder
	line := func(cells []string) {
		b.Reset()
		for i, cell := range cells {
			pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(cell))
			if i > 0 {
				b.WriteString("  ")
			}
			if cols[i].right {
				b.WriteString(pad + cell)
			} else {
				b.WriteString(cell + pad)
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
	titles := make([]string, len(cols))
	for i, c := range cols {
		titles[i] = c.title
	}
	line(titles)
	for _, row := range rows {
		line(row)
	}
}
