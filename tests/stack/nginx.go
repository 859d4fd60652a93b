package stack

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// NginxOptions configures one nginx in its own prefix Dir/nginx.
type NginxOptions struct {
	Dir string
	// Binary defaults to nginx.
	Binary string
	// Listen is 127.0.0.1:<port>; empty picks a free port.
	Listen string
	Site   Site
	// Root is the document root; SiteWordPress defaults it to /usr/share/wordpress.
	Root string
	// FastCGI is the php-fpm address (FPM.Listen(pool)).
	FastCGI string
	// FrontController ("/index.php") receives paths that are not files, for SitePHP.
	FrontController string
	// FastCGIParams are added to every PHP request (WORDPRESS_CONFIG, HTTP_X_…).
	FastCGIParams []FastCGIParam
	// Upstream adds the /upstream/ HTTP-client targets (SitePHP only); nil leaves them out.
	Upstream *UpstreamRoutes
	// User runs the workers when started as root; default www-data.
	User         string
	StartTimeout time.Duration // default 10 s
	StopTimeout  time.Duration // graceful SIGQUIT before SIGKILL; default 10 s
	Detach       bool
}

// Nginx is a running nginx master.
type Nginx struct {
	PID        int
	Listen     string
	ConfigFile string
	ErrorLog   string
	AccessLog  string
	proc       *process
}

// StartNginx writes Dir/nginx/nginx.conf, runs `nginx -p Dir/nginx -c nginx.conf -e errorlog` in the
// foreground (daemon off) and returns once it answers HTTP on its address.
func StartNginx(ctx context.Context, opts NginxOptions) (*Nginx, error) {
	if opts.Binary == "" {
		opts.Binary = "nginx"
	}
	if opts.Site == SiteWordPress && opts.Root == "" {
		opts.Root = wordpressRoot
	}
	if opts.User == "" {
		opts.User = defaultUser
	}
	l, err := prepareLayout(opts.Dir)
	if err != nil {
		return nil, err
	}
	listen, err := loopbackAddr(opts.Listen)
	if err != nil {
		return nil, err
	}
	prefix := filepath.Join(l.Dir, "nginx")
	tmp := filepath.Join(prefix, "tmp")
	n := &Nginx{
		Listen:     listen,
		ConfigFile: filepath.Join(prefix, "nginx.conf"),
		ErrorLog:   l.log("nginx-error.log"),
		AccessLog:  l.log("nginx-access.log"),
	}
	workerUser := ""
	if os.Geteuid() == 0 {
		workerUser = opts.User
		if err := prepareWorkerDir(tmp, opts.User); err != nil {
			return nil, fmt.Errorf("nginx: %w", err)
		}
		// Workers buffer large request and response bodies in tmp: unreachable, those requests fail.
		if err := checkTraversable(filepath.Join(tmp, "body")); err != nil {
			return nil, fmt.Errorf("nginx: temp dir: %w", err)
		}
		if err := checkTraversable(filepath.Join(opts.Root, "index.php")); err != nil {
			return nil, fmt.Errorf("nginx: document root: %w", err)
		}
	} else if err := os.MkdirAll(tmp, 0o755); err != nil {
		return nil, fmt.Errorf("nginx: %w", err)
	}
	token := randomToken()
	conf, err := renderNginxConfig(nginxConfig{
		Listen: listen, Root: opts.Root, Site: opts.Site, FastCGI: opts.FastCGI,
		FrontController: opts.FrontController, Params: opts.FastCGIParams, Upstream: opts.Upstream,
		User: workerUser, Token: token,
		PIDFile: l.run("nginx.pid"), ErrorLog: n.ErrorLog, AccessLog: n.AccessLog, TempDir: tmp,
	})
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(n.ConfigFile, []byte(conf), 0o644); err != nil {
		return nil, fmt.Errorf("nginx: write config: %w", err)
	}
	n.proc, err = spawn(spawnSpec{
		Name: "nginx",
		// -e: nginx opens its compiled-in /var/log/nginx/error.log before reading the config otherwise.
		Argv:        []string{opts.Binary, "-p", prefix + "/", "-c", n.ConfigFile, "-e", n.ErrorLog},
		Output:      l.log("nginx.out"),
		Logs:        []string{n.ErrorLog},
		StopSignal:  syscall.SIGQUIT,
		StopTimeout: durationOr(opts.StopTimeout, 10*time.Second),
		Detach:      opts.Detach,
	})
	if err != nil {
		return nil, err
	}
	n.PID = n.proc.PID
	err = waitReady(ctx, readiness{
		What:    fmt.Sprintf("nginx answering GET %s%s", n.URL(), readyPath),
		Timeout: durationOr(opts.StartTimeout, 10*time.Second),
		Proc:    n.proc,
		Check: func(ctx context.Context) (bool, string) {
			body, status, err := httpGet(ctx, n.URL()+readyPath)
			if err != nil {
				return false, err.Error()
			}
			if status != http.StatusOK || strings.TrimSpace(body) != token {
				return false, fmt.Sprintf("HTTP %d %.80q: another server on %s?", status, body, listen)
			}
			return true, "ready"
		},
	})
	if err != nil {
		_ = n.Stop()
		return nil, fmt.Errorf("nginx: %w", err)
	}
	return n, nil
}

// URL is the base URL without a trailing slash: http://127.0.0.1:<port>.
func (n *Nginx) URL() string { return "http://" + n.Listen }

// LogTail returns the last lines of nginx's error log and stdout/stderr.
func (n *Nginx) LogTail() string { return strings.TrimPrefix(logTails(n.proc.Logs), "\n") }

// Stop sends SIGQUIT (graceful), waits, SIGKILLs after the stop timeout; idempotent.
func (n *Nginx) Stop() error { return n.proc.Stop() }

// prepareWorkerDir creates nginx's temp dir owned by the worker user, which writes request bodies there.
func prepareWorkerDir(dir, username string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	u, err := user.Lookup(username)
	if err != nil {
		return err
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return filepath.WalkDir(dir, func(path string, _ os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(path, uid, gid)
	})
}

func randomToken() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
