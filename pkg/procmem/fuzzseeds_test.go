package procmem

import (
	"flag"
	"strings"
	"testing"

	"github.com/tusk-php/tusk/pkg/internal/fuzzseed"
)

var updateSeeds = flag.Bool("update-seeds", false, "rewrite testdata/fuzz seed corpora")

// loadBiasSeeds are maps files with what a process can put in them: paths
// with spaces, " (deleted)", its executable mapped again, long lines.
func loadBiasSeeds() map[string][]any {
	return map[string][]any{
		"php-fpm":        {sampleMaps, "/usr/sbin/php-fpm8.2", uint64(0)},
		"non-pie":        {"400000-401000 r-xp 00000000 08:01 42 /usr/bin/php\n", "/usr/bin/php", uint64(0x400000)},
		"below-link":     {sampleMaps, "/usr/sbin/php-fpm8.2", uint64(0x7fffffffffff)},
		"deleted":        {"400000-401000 r-xp 00000000 08:01 42 /usr/bin/php (deleted)\n", "/usr/bin/php", uint64(0x400000)},
		"spaces-in-path": {"1000-2000 r-xp 00000000 08:01 42 /srv/my php\n3000-4000 r-xp 00000000 08:01 43 /srv/my\n", "/srv/my", uint64(0)},
		"mapped-twice":   {"1000-2000 r--p 00000000 08:01 42 /x\n" + sampleMaps, "/x", uint64(0)},
		"long-line":      {strings.Repeat("f", 70000) + "-1 r 0 0 0 /x\n", "/x", uint64(0)},
	}
}

// TestWriteFuzzSeeds writes the committed seed corpora. It only runs with
// -update-seeds.
func TestWriteFuzzSeeds(t *testing.T) {
	if !*updateSeeds {
		t.Skip("run with -update-seeds to rewrite testdata/fuzz")
	}
	fuzzseed.Write(t, "FuzzLoadBias", loadBiasSeeds())
}
