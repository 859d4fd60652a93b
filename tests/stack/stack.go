package stack

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
	"time"
)

// StackOptions tunes StartWordPress and StartFixture; the zero value works.
type StackOptions struct {
	// HTTPPort for nginx on 127.0.0.1; 0 picks a free port.
	HTTPPort int
	// FPMEnv goes into php-fpm's master environment ("USE_ZEND_DTRACE=1").
	FPMEnv []string
	// FPMIniArgs are php.ini overrides "key=value" (opcache.enable=0).
	FPMIniArgs []string
	// Workers in the pool (pm = static); default 2.
	Workers        int
	MaxRequests    int
	PHPAdminValues map[string]string
	// FastCGIParams are extra fastcgi_param lines for every PHP request.
	FastCGIParams []FastCGIParam
	// AppDir is the fixture's document root; default FixtureAppDir().
	AppDir string
	// WordPress customises the blog (Title, Posts, credentials); DB, URL and ConfigName are filled in.
	WordPress WordPressOptions
	// Detach leaves the services running when this process exits (tusk-stack up).
	Detach bool
}

// Stack is a running set of services sharing one base dir. DB is nil for the fixture stack.
type Stack struct {
	Kind  string
	Dir   string
	Pool  string // the php-fpm pool serving the site
	DB    *MariaDB
	FPM   *FPM
	Nginx *Nginx

	state    *State
	procs    []*process // start order
	stopOnce sync.Once
	stopErr  error
}

// URL is nginx's base URL, http://127.0.0.1:<port>.
func (s *Stack) URL() string { return s.Nginx.URL() }

// State is what was written to DIR/state.json.
func (s *Stack) State() State { return *s.state }

// StartWordPress brings up MariaDB, php-fpm (pool "wordpress"), nginx and an installed WordPress in dir.
// The database is kept in dir, so a second start reuses it and skips the install.
func StartWordPress(ctx context.Context, dir string, opts StackOptions) (*Stack, error) {
	return start(ctx, "wordpress", dir, opts)
}

// StartFixture brings up php-fpm (pool "fixture") and nginx serving tests/fixtures/app.
func StartFixture(ctx context.Context, dir string, opts StackOptions) (*Stack, error) {
	return start(ctx, "fixture", dir, opts)
}

func start(ctx context.Context, kind, dir string, opts StackOptions) (*Stack, error) {
	l, err := prepareLayout(dir)
	if err != nil {
		return nil, err
	}
	unlock, err := lockDir(ctx, l.Dir)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if err := refuseRunning(l.Dir); err != nil {
		return nil, err
	}
	s := &Stack{Kind: kind, Dir: l.Dir, Pool: kind,
		state: &State{Kind: kind, Dir: l.Dir, StartedAt: time.Now().UTC()}}
	if err := s.startServices(ctx, opts); err != nil {
		if stopErr := stopAll(s.procs, s.state); stopErr != nil {
			err = errors.Join(err, fmt.Errorf("cleaning up after the failed start: %w", stopErr))
		}
		return nil, fmt.Errorf("start %s stack in %s: %w", kind, l.Dir, err)
	}
	s.state.Ready = true
	if err := s.state.write(); err != nil {
		_ = stopAll(s.procs, s.state)
		return nil, err
	}
	return s, nil
}

// refuseRunning fails if dir's state.json names live processes; a stale one is overwritten.
func refuseRunning(dir string) error {
	old, err := LoadState(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if old.AnyAlive() {
		return fmt.Errorf("%w: %s stack at %s (stop it first: tusk-stack down --dir %s)", ErrAlreadyRunning, old.Kind, old.URL, dir)
	}
	return nil
}

func (s *Stack) startServices(ctx context.Context, opts StackOptions) error {
	httpListen := ""
	if opts.HTTPPort != 0 {
		httpListen = net.JoinHostPort("127.0.0.1", strconv.Itoa(opts.HTTPPort))
	}
	wp := opts.WordPress
	if s.Kind == "wordpress" {
		var err error
		if s.DB, err = StartMariaDB(ctx, MariaDBOptions{Dir: s.Dir, Detach: opts.Detach}); err != nil {
			return err
		}
		wp = wp.withDefaults()
		wp.DB, wp.ConfigName = s.DB, WordPressConfigName(s.Dir)
		s.state.WordPressConfigFiles = WordPressConfigFiles(wp.ConfigName)
		s.state.MariaDB = &MariaDBState{PID: s.DB.PID, Addr: s.DB.Addr(), Socket: s.DB.Socket,
			DSN: s.DB.DSN(wp.DBUser, wp.DBPassword, wp.DBName)}
		if err := s.record(s.DB.proc); err != nil {
			return err
		}
	}

	var err error
	s.FPM, err = StartFPM(ctx, FPMOptions{
		Dir: s.Dir, Env: opts.FPMEnv, IniArgs: opts.FPMIniArgs, Detach: opts.Detach,
		Pools: []Pool{{Name: s.Pool, Workers: opts.Workers, MaxRequests: opts.MaxRequests, PHPAdminValues: opts.PHPAdminValues}},
	})
	if err != nil {
		return err
	}
	s.state.FPM = &FPMState{MasterPID: s.FPM.MasterPID, Pool: s.Pool, Listen: s.FPM.Listen(s.Pool),
		WorkerPIDs: s.FPM.WorkerPIDs(s.Pool), Env: opts.FPMEnv, IniArgs: opts.FPMIniArgs}
	if err := s.record(s.FPM.proc); err != nil {
		return err
	}

	nginxOpts := NginxOptions{Dir: s.Dir, Listen: httpListen, FastCGI: s.FPM.Listen(s.Pool),
		FastCGIParams: opts.FastCGIParams, Detach: opts.Detach}
	if s.Kind == "wordpress" {
		nginxOpts.Site = SiteWordPress
		nginxOpts.FastCGIParams = append([]FastCGIParam{{"WORDPRESS_CONFIG", wp.ConfigName}}, opts.FastCGIParams...)
	} else {
		nginxOpts.Site = SitePHP
		// Paths that are no file go to index.php, as in most PHP apps: the
		// agent must report the URL asked for, not the script that ran.
		nginxOpts.FrontController = "/index.php"
		if nginxOpts.Root = opts.AppDir; nginxOpts.Root == "" {
			if nginxOpts.Root, err = FixtureAppDir(); err != nil {
				return err
			}
		}
	}
	if s.Nginx, err = StartNginx(ctx, nginxOpts); err != nil {
		return err
	}
	s.state.URL = s.Nginx.URL()
	if err := s.record(s.Nginx.proc); err != nil {
		return err
	}

	if s.Kind == "wordpress" {
		wp.URL = s.Nginx.URL()
		if err := InstallWordPress(ctx, wp); err != nil {
			return fmt.Errorf("%w%s", err, logTails(append(s.FPM.proc.Logs, s.Nginx.ErrorLog)))
		}
	}
	return nil
}

// record adds a started service to state.json at once, so `tusk-stack down` can clean up even if this
// process dies before the stack is complete.
func (s *Stack) record(p *process) error {
	s.procs = append(s.procs, p)
	s.state.Processes = append(s.state.Processes, p.Record())
	return s.state.write()
}

// Stop stops nginx, php-fpm and MariaDB (reverse start order), each gracefully and then by SIGKILL,
// waits until they and their workers are gone, and removes state.json and the WordPress config file.
// Safe to call more than once.
func (s *Stack) Stop() error {
	s.stopOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		// The lock only keeps a concurrent `up` in this dir from reading a half-removed state; stopping
		// our own processes must not depend on it (the dir may even be gone already).
		if unlock, err := lockDir(ctx, s.Dir); err == nil {
			defer unlock()
		}
		s.stopErr = stopAll(s.procs, s.state)
	})
	return s.stopErr
}
