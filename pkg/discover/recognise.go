package discover

import (
	"path"
	"strings"
)

// fpmTitlePrefix is what php-fpm writes over its argv on Linux
// (SETPROCTITLE_PREFIX in sapi/fpm/fpm/fpm_env.c), whatever its binary is
// called: "php-fpm: master process (/etc/php/8.2/fpm/php-fpm.conf)" for the
// master, "php-fpm: pool www" for a worker.
const fpmTitlePrefix = "php-fpm: "

// exeBase is the file name of an exe link, without the " (deleted)" the kernel
// appends once the binary was replaced on disk (a package upgrade while
// php-fpm runs): the process still runs the old, still traceable, file.
func exeBase(exe string) string {
	return path.Base(strings.TrimSuffix(exe, " (deleted)"))
}

// suggestsPHP tells whether a comm or exe name is worth reading the cmdline
// for. It is deliberately loose; classify decides.
func suggestsPHP(name string) bool { return strings.Contains(name, "php") }

// isFPMExe matches php-fpm, php-fpm8.2 (Debian), php-fpm82 (Alpine). It is
// stricter than "php-fpm*" on purpose: php-fpm_exporter and other helpers are
// not PHP, and a real php-fpm under an odd name is still caught by its title.
func isFPMExe(base string) bool {
	v, ok := strings.CutPrefix(base, "php-fpm")
	return ok && isVersionSuffix(v)
}

// isCLIExe matches php, php8, php8.2, php82. php-cgi is not matched: the CGI
// SAPI is neither fpm nor CLI, and nobody asked to trace it yet.
func isCLIExe(base string) bool {
	v, ok := strings.CutPrefix(base, "php")
	return ok && isVersionSuffix(v)
}

// isVersionSuffix matches "" or \d+(\.\d+)?.
func isVersionSuffix(s string) bool {
	if s == "" {
		return true
	}
	major, minor, dotted := strings.Cut(s, ".")
	return isDigits(major) && (!dotted || isDigits(minor))
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// classify decides what a process is from its exe file name and its title
// (the cmdline). The title wins for fpm; a php-fpm binary with no title yet
// (the moments before the master renames itself) counts as a master. The zero
// Role means "not a process we report".
func classify(base, title string, cli bool) (role Role, pool string) {
	if rest, ok := strings.CutPrefix(title, fpmTitlePrefix); ok {
		if name, ok := strings.CutPrefix(rest, "pool "); ok {
			return RoleFPMWorker, strings.TrimSpace(name)
		}
		if strings.HasPrefix(rest, "master process") {
			return RoleFPMMaster, ""
		}
	}
	if isFPMExe(base) {
		return RoleFPMMaster, ""
	}
	if cli && isCLIExe(base) {
		return RoleCLI, ""
	}
	return 0, ""
}
