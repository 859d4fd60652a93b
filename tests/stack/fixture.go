package stack

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
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
