package stack

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Pool is one php-fpm pool, always pm = static so the worker set is known and stable.
type Pool struct {
	Name string
	// Listen is host:port (or a Unix socket path); empty picks a free 127.0.0.1 port.
	Listen string
	// Workers is pm.max_children; default 2.
	Workers int
	// MaxRequests is pm.max_requests (a worker is replaced after serving that many); 0 means never.
	MaxRequests int
	// PHPAdminValues become php_admin_value[key] = value (settings scripts cannot override).
	PHPAdminValues map[string]string
	// User the workers run as; default www-data (group: the user's).
	User string
	// AccessLog, if set, is php-fpm's access.log for the pool (one line per request, written by the
	// worker that served it) and AccessFormat its access.format (php-fpm's letters: %p worker PID,
	// %{micro}d duration, %{total}C %CPU, %s status, %r URI…; empty keeps php-fpm's default).
	AccessLog    string
	AccessFormat string
}

const (
	defaultWorkers = 2
	defaultUser    = "www-data"
)

func (p Pool) withDefaults() Pool {
	if p.Workers <= 0 {
		p.Workers = defaultWorkers
	}
	if p.User == "" {
		p.User = defaultUser
	}
	return p
}

// fpmConfig holds what renderFPMConfig needs; pools are already defaulted and have addresses.
type fpmConfig struct {
	PIDFile  string
	ErrorLog string
	Pools    []Pool
}

// renderFPMConfig writes the php-fpm.conf text: foreground master, logs in our dir, static pools.
func renderFPMConfig(c fpmConfig) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, `; Written by tests/stack; regenerated on every start.
[global]
pid = %s
error_log = %s
daemonize = no
; SIGQUIT waits this long for busy workers, then the master terminates them itself.
process_control_timeout = 5s
systemd_interval = 0
`, c.PIDFile, c.ErrorLog)
	seen := map[string]bool{}
	for _, p := range c.Pools {
		if p.Name == "" || strings.ContainsAny(p.Name, "[]\n \t") {
			return "", fmt.Errorf("php-fpm pool name %q: must be non-empty, without brackets or spaces", p.Name)
		}
		if seen[p.Name] {
			return "", fmt.Errorf("php-fpm pool %q defined twice", p.Name)
		}
		seen[p.Name] = true
		fmt.Fprintf(&b, `
[%s]
user = %s
listen = %s
pm = static
pm.max_children = %d
pm.max_requests = %d
; Workers inherit the master's environment (USE_ZEND_DTRACE and the like).
clear_env = no
; PHP warnings and fatal errors of workers land in error_log above.
catch_workers_output = yes
decorate_workers_output = no
`, p.Name, p.User, p.Listen, p.Workers, p.MaxRequests)
		if listenNetwork(p.Listen) == "unix" {
			b.WriteString("listen.mode = 0666\n")
		}
		if p.AccessLog != "" {
			if strings.ContainsAny(p.AccessLog+p.AccessFormat, "\n\r\"") {
				return "", fmt.Errorf("php-fpm pool %q: access log path and format must not contain quotes or newlines", p.Name)
			}
			fmt.Fprintf(&b, "access.log = %s\n", p.AccessLog)
			if p.AccessFormat != "" {
				fmt.Fprintf(&b, "access.format = \"%s\"\n", p.AccessFormat)
			}
		}
		for _, k := range slices.Sorted(maps.Keys(p.PHPAdminValues)) {
			fmt.Fprintf(&b, "php_admin_value[%s] = %s\n", k, p.PHPAdminValues[k])
		}
	}
	return b.String(), nil
}

// iniFlags turns "key=value" (or "-d key=value", "-dkey=value") into php-fpm arguments.
func iniFlags(args []string) ([]string, error) {
	var flags []string
	for _, a := range args {
		a = strings.TrimSpace(strings.TrimPrefix(a, "-d"))
		if !strings.Contains(a, "=") {
			return nil, fmt.Errorf("ini setting %q: want key=value", a)
		}
		flags = append(flags, "-d", a)
	}
	return flags, nil
}
