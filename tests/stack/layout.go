package stack

import (
	"fmt"
	"os"
	"path/filepath"
)

// layout is the base dir shared by all services of a stack:
//
//	DIR/state.json        pids, ports, URLs (see state.go)
//	DIR/php-fpm.conf
//	DIR/log/              every log: php-fpm.log, nginx-error.log, mariadb.err, …
//	DIR/run/              pid files and the MariaDB socket
//	DIR/nginx/            nginx prefix: nginx.conf and temp dirs
//	DIR/mariadb/data/     MariaDB datadir, kept between runs
type layout struct{ Dir string }

// prepareLayout creates the base dir and its log and run dirs. The base dir is made world-traversable:
// nginx and php-fpm workers run as www-data and need to reach nginx's temp dirs.
func prepareLayout(dir string) (layout, error) {
	if dir == "" {
		return layout{}, fmt.Errorf("stack: no base dir given")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return layout{}, fmt.Errorf("stack: base dir %q: %w", dir, err)
	}
	l := layout{Dir: abs}
	for _, d := range []string{abs, l.run(""), l.log("")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return layout{}, fmt.Errorf("stack: create %s: %w", d, err)
		}
	}
	if err := os.Chmod(abs, 0o755); err != nil {
		return layout{}, fmt.Errorf("stack: chmod %s: %w", abs, err)
	}
	return l, nil
}

func (l layout) log(name string) string { return filepath.Join(l.Dir, "log", name) }
func (l layout) run(name string) string { return filepath.Join(l.Dir, "run", name) }

// checkTraversable reports a parent of path that www-data (an "other" user) cannot enter, such as a
// 0700 directory from os.MkdirTemp or t.TempDir, which would give 403/404s that are hard to explain.
func checkTraversable(path string) error {
	for p := filepath.Dir(path); ; p = filepath.Dir(p) {
		info, err := os.Stat(p)
		if err != nil {
			return err
		}
		if info.Mode().Perm()&0o001 == 0 {
			return fmt.Errorf("%s is mode %v: www-data cannot reach %s (chmod o+x %s)", p, info.Mode().Perm(), path, p)
		}
		if p == filepath.Dir(p) {
			return nil
		}
	}
}
