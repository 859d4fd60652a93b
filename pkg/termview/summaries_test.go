package termview

import (
	"bytes"
	"strings"
	"testing"
)

func TestSummariesGolden(t *testing.T) {
	var b bytes.Buffer
	Summaries(&b, summaries())
	checkGolden(t, "summaries", b.Bytes())
}

func TestSummariesEmpty(t *testing.T) {
	var b bytes.Buffer
	Summaries(&b, nil)
	if b.String() != "no traces\n" {
		t.Errorf("got %q", b.String())
	}
}

func TestSummariesColumnsAlign(t *testing.T) {
	var b bytes.Buffer
	Summaries(&b, summaries())
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	// The trace id is the last column: it starts at the same rune offset on
	// every line, whatever the paths and flags before it.
	col := strings.Index(lines[0], "TRACE ID")
	for _, l := range lines[1:] {
		r := []rune(l)
		if len(r) < col+32 || !isHex(string(r[col:col+32])) {
			t.Errorf("trace id not at rune column %d in %q", col, l)
		}
	}
}

func isHex(s string) bool {
	return strings.Trim(s, "0123456789abcdef") == ""
}
