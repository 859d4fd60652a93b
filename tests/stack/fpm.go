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
	// Binary defaults to php-fpm8.2.
	Binary string
	// PHPIni is passed with -c; default Debian's /etc/php/8.2/fpm/php.ini (conf.d is scanned either way).
	PHPIni string
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
	ConfigFile string
	ErrorLog   string
	pools      []Pool
	proc       *process
}

const (
	defaultFPMBinary = "php-fpm8.2"
	defaultPHPIni    = "/etc/php/8.2/fpm/php.ini"
)

// StartFPM writes Dir/php-fpm.conf, runs `php-fpm -F -y conf -c ini` in its own session and returns
// once every pool has all its workers (children titled "php-fpm: pool <name>") and accepts connections.
func StartFPM(ctx context.Context, opts FPMOptions) (*FPM, error) {
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
		pools[i] = p
	}
	f := &FPM{ConfigFile: filepath.Join(l.Dir, "php-fpm.conf"), ErrorLog: l.log("php-fpm.log"), pools: pools}
	conf, err := renderFPMConfig(fpmConfig{PIDFile: l.run("php-fpm.pid"), ErrorLog: f.ErrorLog, Pools: pools})
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(f.ConfigFile, []byte(conf), 0o644); err != nil {
		return nil, fmt.Errorf("php-fpm: write config: %w", err)
	}
	ini, err := iniFlags(opts.IniArgs)
	if err != nil {
		return nil, fmt.Errorf("php-fpm: %w", err)
	}
	argv := append([]string{opts.Binary, "-F", "-y", f.ConfigFile, "-c", opts.PHPIni}, ini...)
	if os.Geteuid() == 0 {
		argv = append(argv, "--allow-to-run-as-root") // only matters for a pool with User root
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
