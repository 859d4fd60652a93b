package stack

import (
	"fmt"
	"io"
	"os"
	"strings"
)

const tailLines = 30

// tailFile returns the last n lines of a file (read from its last 64 KiB), or a note why it cannot.
func tailFile(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Sprintf("(%v)", err)
	}
	defer f.Close()
	const window = 64 << 10
	if info, err := f.Stat(); err == nil && info.Size() > window {
		if _, err := f.Seek(-window, io.SeekEnd); err != nil {
			return fmt.Sprintf("(seek: %v)", err)
		}
	}
	raw, err := io.ReadAll(f)
	if err != nil {
		return fmt.Sprintf("(read: %v)", err)
	}
	lines := strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// logTails formats the tails of several logs for an error message; empty files are named but not quoted.
func logTails(paths []string) string {
	var b strings.Builder
	for _, p := range paths {
		tail := tailFile(p, tailLines)
		if strings.TrimSpace(tail) == "" {
			fmt.Fprintf(&b, "\n--- %s: empty", p)
			continue
		}
		fmt.Fprintf(&b, "\n--- tail of %s ---\n%s", p, tail)
	}
	return b.String()
}
