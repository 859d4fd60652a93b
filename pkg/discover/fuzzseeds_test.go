package discover

import (
	"flag"
	"testing"

	"github.com/tusk-php/tusk/pkg/internal/fuzzseed"
)

var updateSeeds = flag.Bool("update-seeds", false, "rewrite testdata/fuzz seed corpora")

// procFilesSeeds are stat, cmdline and exe as a PHP process (or one
// pretending) can make them.
func procFilesSeeds() map[string][]any {
	stat := func(comm string) []byte {
		return []byte("4242 (" + comm + ") S 17 4242 4242 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 987654 1000 20 " +
			"18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n")
	}
	return map[string][]any{
		"worker":        {stat("php-fpm8.2"), []byte("php-fpm: pool www\x00\x00\x00"), "/usr/sbin/php-fpm8.2"},
		"master":        {stat("php-fpm8.2"), []byte("php-fpm: master process (/etc/php/8.2/fpm/php-fpm.conf)"), "/usr/sbin/php-fpm8.2 (deleted)"},
		"parens-comm":   {stat(") S 1 (x"), []byte("php\x00-r\x00sleep(5);"), "/usr/bin/php8.2"},
		"non-utf8-pool": {stat("php"), []byte("php-fpm: pool \xff\xfe\x00pool x"), "php"},
		"no-stat":       {[]byte("1 ((((() ) S"), []byte{}, ""},
		"space-pool":    {stat("x"), []byte("php-fpm: pool   \t\x00"), "/x/php-fpm82"},
	}
}

// TestWriteFuzzSeeds writes the committed seed corpora. It only runs with
// -update-seeds.
func TestWriteFuzzSeeds(t *testing.T) {
	if !*updateSeeds {
		t.Skip("run with -update-seeds to rewrite testdata/fuzz")
	}
	fuzzseed.Write(t, "FuzzProcFiles", procFilesSeeds())
}
