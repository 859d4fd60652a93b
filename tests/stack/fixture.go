package stack

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// fixtureRel is the PHP fixture app's place in the repository.
const fixtureRel = "tests/fixtures/app"

// FixtureAppDir finds tests/fixtures/app: next to this package's source when built from the repository
// (tests, go run), else in the working directory or one of its parents. The app is served from there,
// not copied, so traces name the real files and lines that tests/fixtures/app/README.md documents.
func FixtureAppDir() (string, error) {
	var tried []string
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		candidate := filepath.Join(filepath.Dir(file), "..", "fixtures", "app")
		if isFixtureApp(candidate) {
			return filepath.Clean(candidate), nil
		}
		tried = append(tried, candidate)
	}
	if wd, err := os.Getwd(); err == nil {
		for d := wd; ; d = filepath.Dir(d) {
			candidate := filepath.Join(d, fixtureRel)
			if isFixtureApp(candidate) {
				return candidate, nil
			}
			tried = append(tried, candidate)
			if d == filepath.Dir(d) {
				break
			}
		}
	}
	return "", fmt.Errorf("fixture app not found (tried %v); pass its directory", tried)
}

func isFixtureApp(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, "index.php"))
	return err == nil
}

// copyAppIntoChroot copies the app dir (cp -a: modes, times, links) to the same absolute path inside
// root, replacing what an earlier start left there, so that php-fpm in the chroot finds the scripts
// at the SCRIPT_FILENAME nginx sends, and traces name the same paths as on the host.
func copyAppIntoChroot(root, app string) error {
	root, err := filepath.Abs(root)
	if err != nil {
		return err
	}
	if app, err = filepath.Abs(app); err != nil {
		return err
	}
	if filepath.Clean(root) == "/" || app == "/" {
		return fmt.Errorf("copy app %s into chroot %s: refusing", app, root)
	}
	dst := filepath.Join(root, app)
	if err := os.RemoveAll(dst); err != nil {
		return fmt.Errorf("copy app into chroot: %w", err)
	}
	// Parents are created 0755: workers run as www-data and must reach the scripts.
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return fmt.Errorf("copy app into chroot: %w", err)
	}
	if out, err := exec.Command("cp", "-a", app, dst).CombinedOutput(); err != nil {
		return fmt.Errorf("copy app into chroot: cp -a %s %s: %v: %s", app, dst, err, strings.TrimSpace(string(out)))
	}
	return nil
}
