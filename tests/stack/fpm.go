package stack

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// FPMOptions configures one php-fpm master. Dir holds its config (php-fpm.conf), logs and pid file.
type FPMOptions struct {
	Dir string
	// Binary defaults to php-fpm8.2, or with Root to the chroot's one php-fpmX.Y.
	Binary string
	// PHPIni is passed with -c; default Debian's /etc/php/8.2/fpm/php.ini (conf.d is scanned either way),
	// or with Root /etc/php/X.Y/fpm/php.ini of the chroot's version.
	PHPIni string
	// Root runs the master as `chroot Root Binary …`: a Debian chroot with another PHP version
	// (tests/chroots/build.sh). Binary and PHPIni are then paths inside Root. Config, error log and pid
	// file go to a per-start dir Root/tmp/tusk-fpm-*, because php-fpm opens them after the chroot; Dir
	// keeps php-fpm.out and a php-fpm.log symlink to the error log. Pools must listen on TCP (the network
	// is shared, so the host's nginx reaches them); workers run as the chroot's www-data.
	Root string
	// Env is added to the MASTER's environment ("USE_ZEND_DTRACE=1"): PHP reads such switches at engine
	// startup, before any pool exists. Pools set clear_env = no so workers see it too.
	Env []string
	// IniArgs are php.ini overrides "key=value", passed as -d (opcache.enable=0, opcache.jit=off…).
	IniArgs []string
	Pools   []Pool
	// StartTimeout bounds the wait for workers and listeners; default 20 s.
	StartTimeout time.Duration
	// StopTimeout bounds the graceful SIGQUIT before SIGKILL; default 10 s.
	StopTimeout time.Duration
	// Detach: see spawnSpec.Detach (keep running after this process exits).
	Detach bool
}

// FPM is a running php-fpm master with its pools.
type FPM struct {
	MasterPID  int
	ConfigFile string // host path (inside Root for a chroot)
	ErrorLog   string // host path (inside Root for a chroot)
	// Root is FPMOptions.Root and PHPVersion ("7.4") the chroot's PHP; both empty without a chroot.
	Root       string
	PHPVersion string
	pools      []Pool
	proc       *process
}

const (
	defaultFPMBinary = "php-fpm8.2"
	defaultPHPIni    = "/etc/php/8.2/fpm/php.ini"
)

// StartFPM writes Dir/php-fpm.conf, runs `php-fpm -F -y conf -c ini` in its own session and returns
// once every pool has all its workers (children titled "php-fpm: pool <name>") and accepts connections.
// With Root, see FPMOptions.Root.
func StartFPM(ctx context.Context, opts FPMOptions) (*FPM, error) {
	var version string
	if opts.Root != "" {
		var err error
		if opts, version, err = chrootDefaults(opts); err != nil {
			return nil, err
		}
	}
	if opts.Binary == "" {
		opts.Binary = defaultFPMBinary
	}
	if opts.PHPIni == "" {
		opts.PHPIni = defaultPHPIni
	}
	if len(opts.Pools) == 0 {
		return nil, fmt.Errorf("php-fpm: no pools")
	}
	l, err := prepareLayout(opts.Dir)
	if err != nil {
		return nil, err
	}
	pools := make([]Pool, len(opts.Pools))
	for i, p := range opts.Pools {
		p = p.withDefaults()
		if p.Listen, err = loopbackAddr(p.Listen); err != nil {
			return nil, err
		}
		if opts.Root != "" && p.AccessLog != "" {
			return nil, fmt.Errorf("php-fpm in chroot %s: pool %s: access logs are not supported", opts.Root, p.Name)
		}
		if opts.Root != "" && listenNetwork(p.Listen) == "unix" {
			return nil, fmt.Errorf("php-fpm in chroot %s: pool %s: listen on 127.0.0.1 TCP, not the Unix socket %s", opts.Root, p.Name, p.Listen)
		}
		pools[i] = p
	}
	// Where php-fpm's own files go: Dir, or for a chroot a fresh dir inside it. inside() turns a host
	// path into the path php-fpm sees.
	confDir, inside := l.Dir, func(p string) string { return p }
	f := &FPM{Root: opts.Root, PHPVersion: version, pools: pools}
	if opts.Root != "" {
		if confDir, err = chrootRunDir(opts.Root); err != nil {
			return nil, err
		}
		root := opts.Root
		inside = func(p string) string { return strings.TrimPrefix(p, root) }
		f.ErrorLog = filepath.Join(confDir, "php-fpm.log")
		// DIR/log/php-fpm.log points at it, for people looking at DIR.
		_ = os.Remove(l.log("php-fpm.log"))
		_ = os.Symlink(f.ErrorLog, l.log("php-fpm.log"))
	} else {
		f.ErrorLog = l.log("php-fpm.log")
	}
	f.ConfigFile = filepath.Join(confDir, "php-fpm.conf")
	pidFile := l.run("php-fpm.pid")
	if opts.Root != "" {
		pidFile = filepath.Join(confDir, "php-fpm.pid")
	}
	conf, err := renderFPMConfig(fpmConfig{PIDFile: inside(pidFile), ErrorLog: inside(f.ErrorLog), Pools: pools})
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(f.ConfigFile, []byte(conf), 0o644); err != nil {
		return nil, fmt.Errorf("php-fpm: write config: %w", err)
	}
	iniArgs := opts.IniArgs
	if version != "" && !hasJIT(version) {
		iniArgs = withoutJIT(iniArgs)
	}
	ini, err := iniFlags(iniArgs)
	if err != nil {
		return nil, fmt.Errorf("php-fpm: %w", err)
	}
	argv := append([]string{opts.Binary, "-F", "-y", inside(f.ConfigFile), "-c", opts.PHPIni}, ini...)
	if os.Geteuid() == 0 {
		argv = append(argv, "--allow-to-run-as-root") // only matters for a pool with User root
	}
	if opts.Root != "" {
		// chroot(8) execs php-fpm: the PID we get is the master's.
		argv = append([]string{"chroot", opts.Root}, argv...)
	}
	f.proc, err = spawn(spawnSpec{
		Name:        "php-fpm",
		Argv:        argv,
		Env:         append(os.Environ(), opts.Env...),
		Output:      l.log("php-fpm.out"),
		Logs:        []string{f.ErrorLog},
		StopSignal:  syscall.SIGQUIT,
		StopTimeout: durationOr(opts.StopTimeout, 10*time.Second),
		Detach:      opts.Detach,
	})
	if err != nil {
		return nil, err
	}
	f.MasterPID = f.proc.PID
	if err := f.waitPools(ctx, durationOr(opts.StartTimeout, 20*time.Second), nil); err != nil {
		_ = f.Stop()
		return nil, fmt.Errorf("php-fpm: %w", err)
	}
	return f, nil
}

// chrootDefaults checks a chroot and fills in Binary and PHPIni from the PHP version found in
// Root/usr/sbin/php-fpmX.Y (Debian names the binary after its version).
func chrootDefaults(opts FPMOptions) (FPMOptions, string, error) {
	root, err := filepath.Abs(opts.Root)
	if err != nil {
		return opts, "", err
	}
	opts.Root = filepath.Clean(root)
	if opts.Root == "/" {
		return opts, "", fmt.Errorf("php-fpm: chroot / is no chroot")
	}
	version, err := ChrootPHPVersion(opts.Root)
	if err != nil {
		return opts, "", err
	}
	if opts.Binary == "" {
		opts.Binary = "/usr/sbin/php-fpm" + version
	}
	if opts.PHPIni == "" {
		opts.PHPIni = "/etc/php/" + version + "/fpm/php.ini"
	}
	if _, err := os.Stat(filepath.Join(opts.Root, opts.Binary)); err != nil {
		return opts, "", fmt.Errorf("php-fpm in chroot %s: %w", opts.Root, err)
	}
	return opts, version, nil
}

// ChrootPHPVersion returns the PHP "major.minor" of the one php-fpmX.Y in root/usr/sbin.
func ChrootPHPVersion(root string) (string, error) {
	matches, _ := filepath.Glob(filepath.Join(root, "usr", "sbin", "php-fpm*"))
	var versions []string
	for _, m := range matches {
		v := strings.TrimPrefix(filepath.Base(m), "php-fpm")
		if major, minor, ok := strings.Cut(v, "."); ok && isNumber(major) && isNumber(minor) {
			versions = append(versions, v)
		}
	}
	switch len(versions) {
	case 0:
		return "", fmt.Errorf("php-fpm: no %s/usr/sbin/php-fpmX.Y: is %s a chroot built by tests/chroots/build.sh?", root, root)
	case 1:
		return versions[0], nil
	}
	return "", fmt.Errorf("php-fpm: several PHP versions in %s (%s): set FPMOptions.Binary", root, strings.Join(versions, ", "))
}

func isNumber(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// hasJIT tells whether a PHP "major.minor" has opcache's JIT (8.0 and later).
func hasJIT(version string) bool {
	major, _, _ := strings.Cut(version, ".")
	return len(major) > 1 || major >= "8"
}

// withoutJIT drops opcache.jit* settings, for PHP 7: its opcache has no JIT, so the settings would
// only be meaningless -d flags.
func withoutJIT(args []string) []string {
	var out []string
	for _, a := range args {
		key := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(a), "-d"))
		if strings.HasPrefix(key, "opcache.jit") {
			continue
		}
		out = append(out, a)
	}
	return out
}

// chrootRunDir creates a fresh world-readable dir root/tmp/tusk-fpm-* for one php-fpm start, and
// removes those of earlier starts whose master is gone (php-fpm deletes its pid file on exit) and that
// are older than an hour (kept that long for their logs).
func chrootRunDir(root string) (string, error) {
	tmp := filepath.Join(root, "tmp")
	old, _ := filepath.Glob(filepath.Join(tmp, "tusk-fpm-*"))
	for _, d := range old {
		info, err := os.Stat(d)
		if err != nil || time.Since(info.ModTime()) < time.Hour {
			continue
		}
		if _, err := os.Stat(filepath.Join(d, "php-fpm.pid")); os.IsNotExist(err) {
			_ = os.RemoveAll(d)
		}
	}
	dir, err := os.MkdirTemp(tmp, "tusk-fpm-")
	if err != nil {
		return "", fmt.Errorf("php-fpm: chroot run dir: %w", err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return "", err
	}
	return dir, nil
}

// waitPools waits until every pool has its full set of workers, not counting the PIDs in stale, and
// accepts connections.
func (f *FPM) waitPools(ctx context.Context, timeout time.Duration, stale map[int]bool) error {
	for _, p := range f.pools {
		err := waitReady(ctx, readiness{
			What:    fmt.Sprintf("pool %s: %d workers and %s accepting", p.Name, p.Workers, p.Listen),
			Timeout: timeout,
			Proc:    f.proc,
			Check: func(ctx context.Context) (bool, string) {
				n := 0
				for _, pid := range f.WorkerPIDs(p.Name) {
					if !stale[pid] {
						n++
					}
				}
				if n < p.Workers {
					return false, fmt.Sprintf("%d/%d workers", n, p.Workers)
				}
				return accepts(ctx, p.Listen)
			},
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// WorkerPIDs lists the live workers of a pool, read from /proc now (workers are replaced after
// MaxRequests or a crash, so keep no copy).
func (f *FPM) WorkerPIDs(pool string) []int {
	return childrenWithCmdline(f.MasterPID, "php-fpm: pool "+pool)
}

// Listen returns the address a pool listens on, "" for an unknown pool.
func (f *FPM) Listen(pool string) string {
	for _, p := range f.pools {
		if p.Name == pool {
			return p.Listen
		}
	}
	return ""
}

// AccessLog returns a pool's access log file (Pool.AccessLog), "" for none or an unknown pool.
func (f *FPM) AccessLog(pool string) string {
	for _, p := range f.pools {
		if p.Name == pool {
			return p.AccessLog
		}
	}
	return ""
}

// Pools returns the pools as started (defaults filled in, addresses chosen).
func (f *FPM) Pools() []Pool { return append([]Pool(nil), f.pools...) }

// LogTail returns the last lines of php-fpm's error log (master notices, worker output, PHP errors)
// and of its stdout/stderr.
func (f *FPM) LogTail() string { return strings.TrimPrefix(logTails(f.proc.Logs), "\n") }

// Reload makes the master re-read its config and replace its workers gracefully (SIGUSR2; the master
// keeps its PID), and returns once every pool has a full set of new workers.
func (f *FPM) Reload(ctx context.Context) error {
	old := map[int]bool{}
	for _, p := range f.pools {
		for _, pid := range f.WorkerPIDs(p.Name) {
			old[pid] = true
		}
	}
	if err := f.proc.signal(syscall.SIGUSR2); err != nil {
		return fmt.Errorf("php-fpm: reload: %w", err)
	}
	if err := f.waitPools(ctx, 20*time.Second, old); err != nil {
		return fmt.Errorf("php-fpm: after reload: %w", err)
	}
	return nil
}

// Stop sends SIGQUIT (finish running requests, then exit), waits, and SIGKILLs the group after the
// stop timeout. It returns once master and workers are gone; calling it again returns the same result.
func (f *FPM) Stop() error { return f.proc.Stop() }

func durationOr(d, fallback time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return fallback
}
