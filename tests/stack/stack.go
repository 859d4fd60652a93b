package stack

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
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
	// FPMBinary replaces php-fpm8.2 (a copy built differently, e.g. without DTrace notes).
	FPMBinary string
	// Workers in the pool (pm = static); default 2.
	Workers        int
	MaxRequests    int
	PHPAdminValues map[string]string
	// FPMAccessFormat, if set, gives the site's pool an access log, DIR/log/php-fpm-<pool>.access.log
	// (FPM.AccessLog), in this php-fpm access.format ("%p %{micro}d %s": worker PID, duration in µs,
	// status). Not with ChrootPHP.
	FPMAccessFormat string
	// FastCGIParams are extra fastcgi_param lines for every PHP request.
	FastCGIParams []FastCGIParam
	// AppDir is the fixture's document root; default FixtureAppDir().
	AppDir string
	// ChrootPHP runs php-fpm in this chroot (tests/chroots/build.sh: PHP 7.4 or 8.4) instead of the
	// host's 8.2; see FPMOptions.Root. The fixture app is copied to the same absolute path inside the
	// chroot on every start, so nginx's SCRIPT_FILENAME names it there too. Fixture stack only.
	ChrootPHP string
	// WordPress customises the blog (Title, Posts, credentials); DB, URL and ConfigName are filled in.
	WordPress WordPressOptions
	// Detach leaves the services running when this process exits (tusk-stack up).
	Detach bool

	// StartFixture only: services for the fixture's io/ pages (tests/fixtures/app/README.md). nginx
	// passes their addresses to PHP as FastCGI params (FixtureConfig.Params); an io/ page whose service
	// was not asked for answers 503. WithIO() asks for all of them.
	//
	// WithMariaDB starts MariaDB (Stack.DB) with the database tusk_fixture (user tusk, password
	// tuskpass): tables posts (20 rows), comments (3 per post), api_tokens; recreated on every start.
	WithMariaDB bool
	// WithRedis starts redis-server (Stack.Redis), without persistence.
	WithRedis bool
	// WithMemcached starts memcached (Stack.Memcached).
	WithMemcached bool
	// WithUpstream adds a second php-fpm pool, UpstreamPool ("upstream", 2 workers), to answer
	// /upstream/slow for io/http.php. Without it the fixture's own pool answers it, which needs a worker
	// free while io/http.php waits (Workers >= 2) and mixes those requests into the pool under test.
	// /upstream/ok and /upstream/missing are answered by nginx either way.
	WithUpstream bool
}

// WithIO returns o with every service of the io/ pages: MariaDB, Redis, memcached and the upstream pool.
//
//	s, err := stack.StartFixture(ctx, dir, stack.StackOptions{FPMEnv: env}.WithIO())
func (o StackOptions) WithIO() StackOptions {
	o.WithMariaDB, o.WithRedis, o.WithMemcached, o.WithUpstream = true, true, true, true
	return o
}

// Stack is a running set of services sharing one base dir. DB, Redis and Memcached are nil unless
// started: WordPress always has DB, the fixture what its StackOptions.With… fields asked for.
type Stack struct {
	Kind      string
	Dir       string
	Pool      string // the php-fpm pool serving the site
	DB        *MariaDB
	Redis     *Redis
	Memcached *Memcached
	FPM       *FPM
	Nginx     *Nginx
	// Config is what the fixture's PHP is told about the services (as FastCGI params); nil for WordPress.
	Config *FixtureConfig

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

// StartFixture brings up php-fpm (pool "fixture") and nginx serving tests/fixtures/app, plus the
// services that opts.WithMariaDB, WithRedis, WithMemcached and WithUpstream ask for (or opts.WithIO()).
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

	if s.Kind == "fixture" {
		// nginx's own address is part of what the io/ pages are told, so pick it now.
		var err error
		if httpListen, err = loopbackAddr(httpListen); err != nil {
			return err
		}
		if err := s.startFixtureServices(ctx, opts, httpListen); err != nil {
			return err
		}
	}

	appDir := opts.AppDir
	if s.Kind != "wordpress" && appDir == "" {
		var err error
		if appDir, err = FixtureAppDir(); err != nil {
			return err
		}
	}
	if opts.ChrootPHP != "" {
		if s.Kind == "wordpress" {
			return fmt.Errorf("ChrootPHP: only the fixture stack runs PHP in a chroot")
		}
		if err := copyAppIntoChroot(opts.ChrootPHP, appDir); err != nil {
			return err
		}
	}

	pools := []Pool{{Name: s.Pool, Workers: opts.Workers, MaxRequests: opts.MaxRequests, PHPAdminValues: opts.PHPAdminValues}}
	if opts.FPMAccessFormat != "" {
		pools[0].AccessLog = filepath.Join(s.Dir, "log", "php-fpm-"+s.Pool+".access.log")
		pools[0].AccessFormat = opts.FPMAccessFormat
	}
	if s.Kind == "fixture" && opts.WithUpstream {
		pools = append(pools, Pool{Name: UpstreamPool, Workers: 2})
	}
	var err error
	s.FPM, err = StartFPM(ctx, FPMOptions{
		Dir: s.Dir, Env: opts.FPMEnv, IniArgs: opts.FPMIniArgs, Detach: opts.Detach, Root: opts.ChrootPHP,
		Binary: opts.FPMBinary, Pools: pools,
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
		nginxOpts.Root = appDir
		nginxOpts.FastCGIParams = append(s.Config.Params(), opts.FastCGIParams...)
		nginxOpts.Upstream = &UpstreamRoutes{SlowScript: fixtureSlowScript}
		if opts.WithUpstream {
			nginxOpts.Upstream.FastCGI = s.FPM.Listen(UpstreamPool)
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

// startFixtureServices starts the services the fixture's io/ pages use and fills in s.Config.
func (s *Stack) startFixtureServices(ctx context.Context, opts StackOptions, httpListen string) error {
	cfg := &FixtureConfig{HTTP: FixtureHTTP{BaseURL: "http://" + httpListen, RefusedURL: refusedURL}}
	s.Config = cfg
	if opts.WithMariaDB {
		var err error
		if s.DB, err = StartMariaDB(ctx, MariaDBOptions{Dir: s.Dir, Detach: opts.Detach}); err != nil {
			return err
		}
		s.state.MariaDB = &MariaDBState{PID: s.DB.PID, Addr: s.DB.Addr(), Socket: s.DB.Socket,
			DSN: s.DB.DSN(FixtureDBUser, FixtureDBPassword, FixtureDBName)}
		if err := s.record(s.DB.proc); err != nil {
			return err
		}
		if err := s.DB.Exec(ctx, fixtureDatabaseSQL(FixtureDBName, FixtureDBUser, FixtureDBPassword)); err != nil {
			return fmt.Errorf("fixture database: %w", err)
		}
		cfg.MySQL = &FixtureMySQL{Host: "127.0.0.1", Port: s.DB.Port, User: FixtureDBUser,
			Password: FixtureDBPassword, DB: FixtureDBName}
	}
	if opts.WithRedis {
		var err error
		if s.Redis, err = StartRedis(ctx, RedisOptions{Dir: s.Dir, Detach: opts.Detach}); err != nil {
			return err
		}
		s.state.Redis = &ServiceState{PID: s.Redis.PID, Addr: s.Redis.Addr()}
		if err := s.record(s.Redis.proc); err != nil {
			return err
		}
		cfg.Redis = &HostPort{Host: "127.0.0.1", Port: s.Redis.Port}
	}
	if opts.WithMemcached {
		var err error
		if s.Memcached, err = StartMemcached(ctx, MemcachedOptions{Dir: s.Dir, Detach: opts.Detach}); err != nil {
			return err
		}
		s.state.Memcached = &ServiceState{PID: s.Memcached.PID, Addr: s.Memcached.Addr()}
		if err := s.record(s.Memcached.proc); err != nil {
			return err
		}
		cfg.Memcached = &HostPort{Host: "127.0.0.1", Port: s.Memcached.Port}
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

// Stop stops nginx, php-fpm, memcached, Redis and MariaDB (reverse start order), each gracefully and then by SIGKILL,
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
