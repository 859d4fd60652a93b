package phpbin

import (
	"errors"
	"fmt"
	"strings"
)

// ErrVersionUnknown is what Info.VersionErr wraps when no version string was
// found. Inspect still succeeds: the caller decides whether it can go on.
var ErrVersionUnknown = errors.New("PHP version not found")

const (
	// main/SAPI.h: SAPI_PHP_VERSION_HEADER "X-Powered-By: PHP/" PHP_VERSION,
	// a literal in every PHP from 5 to 8.4. The linker merges PHP_VERSION's
	// own literal into its tail, so this is the one place the full version
	// string reliably survives.
	poweredByPrefix = "X-Powered-By: PHP/"
	// Zend/zend.h: "Zend Engine v" ZEND_VERSION. Since PHP 8.0 ZEND_VERSION is
	// "4.<PHP minor>.<PHP patch>"; PHP 7 kept "3.<minor>.0" for a whole
	// branch, so only the 4.x form gives a full PHP version.
	zendEnginePrefix = "Zend Engine v4."
)

// findVersion returns PHP_VERSION ("8.2.36", "8.4.0RC1") from the binary's
// read-only data.
func findVersion(rodata []byte) (string, error) {
	if v, ok := stringAfter(rodata, poweredByPrefix); ok && isVersion(v) {
		return v, nil
	}
	if rest, ok := stringAfter(rodata, zendEnginePrefix); ok {
		v, _, _ := strings.Cut(rest, ",")
		if v = "8." + v; isVersion(v) {
			return v, nil
		}
	}
	return "", fmt.Errorf("%w: no %q or %q string in read-only data", ErrVersionUnknown, poweredByPrefix, zendEnginePrefix)
}

// isVersion accepts "major.minor.patch" with an optional printable suffix
// ("-dev", "RC1", "-1+ubuntu22.04.1").
func isVersion(v string) bool {
	rest := v
	for i := 0; i < 3; i++ {
		n := 0
		for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
			n++
		}
		if n == 0 {
			return false
		}
		rest = rest[n:]
		if i < 2 {
			if !strings.HasPrefix(rest, ".") {
				return false
			}
			rest = rest[1:]
		}
	}
	for _, c := range []byte(rest) {
		if c <= ' ' || c > '~' {
			return false
		}
	}
	return len(v) <= 64
}

// majorMinor is "8.2" for "8.2.36", "" for anything isVersion rejects.
func majorMinor(version string) string {
	if !isVersion(version) {
		return ""
	}
	major, rest, _ := strings.Cut(version, ".")
	minor, _, _ := strings.Cut(rest, ".")
	return major + "." + minor
}
