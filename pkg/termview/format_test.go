package termview

import (
	"testing"

	"github.com/tusk-php/tusk/pkg/trace"
)

func TestMillis(t *testing.T) {
	for nanos, want := range map[int64]string{0: "0.0ms", 40_000: "0.0ms", 50_001: "0.1ms", 842_300_000: "842.3ms", 12_345_678_900: "12345.7ms"} {
		if got := millis(nanos); got != want {
			t.Errorf("millis(%d) = %q, want %q", nanos, got, want)
		}
	}
}

func TestTruncateRight(t *testing.T) {
	for _, tc := range []struct {
		in   string
		max  int
		want string
	}{
		{"/short", 10, "/short"},
		{"/exactly10", 10, "/exactly10"},
		{"/wp-admin/edit.php", 10, "/wp-admin…"},
		{"/čćžšđ/über", 6, "/čćžš…"},
	} {
		if got := truncateRight(tc.in, tc.max); got != tc.want {
			t.Errorf("truncateRight(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
		}
	}
}

func TestShortenLeft(t *testing.T) {
	for _, tc := range []struct {
		in   string
		max  int
		want string
	}{
		{"/var/www/index.php", 30, "/var/www/index.php"},
		{"/var/www/html/wp-includes/class-wp-hook.php", 31, "…/wp-includes/class-wp-hook.php"},
		{"/var/www/html/wp-includes/class-wp-hook.php", 30, "…/class-wp-hook.php"},
		// No directory boundary near the cut: cut mid-name.
		{"/a/very-long-file-name-without-any-directories.php", 20, "…any-directories.php"},
	} {
		got := shortenLeft(tc.in, tc.max)
		if got != tc.want {
			t.Errorf("shortenLeft(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
		}
		if n := len([]rune(got)); n > tc.max {
			t.Errorf("shortenLeft(%q, %d) is %d runes long", tc.in, tc.max, n)
		}
	}
}

func TestCleanKeepsControlCharactersOffTheTerminal(t *testing.T) {
	if got := clean("a\x1b[2Jb\nc\td\xffe\u009bf"); got != "a\uFFFD[2Jb c d\uFFFDe\uFFFDf" {
		t.Errorf("clean = %q", got)
	}
}

func TestAttrText(t *testing.T) {
	a := trace.Attributes{"i": int64(42), "f": float64(1234), "g": 0.5, "b": true, "s": "x\ny"}
	for key, want := range map[string]string{"i": "42", "f": "1234", "g": "0.5", "b": "true", "s": "x y", "missing": ""} {
		if got := attrText(a, key); got != want {
			t.Errorf("attrText(%q) = %q, want %q", key, got, want)
		}
	}
}
