package stack

import (
	"fmt"
	"strings"
)

// Site says how nginx routes requests to PHP.
type Site string

const (
	// SitePHP serves a plain PHP app: existing .php files go to php-fpm, other files are static, missing
	// paths are 404 unless a front controller is set.
	SitePHP Site = "php"
	// SiteWordPress serves Debian's WordPress: docroot /usr/share/wordpress, pretty permalinks through
	// /index.php?$args, /wp-content/ from /var/lib/wordpress.
	SiteWordPress Site = "wordpress"
)

// FastCGIParam is one extra `fastcgi_param NAME VALUE;` line; VALUE may use nginx variables
// ("$http_traceparent"). Extra params come after Debian's, so they win for a duplicated name.
type FastCGIParam struct{ Name, Value string }

const (
	wordpressRoot    = "/usr/share/wordpress"
	wordpressContent = "/var/lib/wordpress" // WP_CONTENT_DIR's parent in Debian's package
	// readyPath is answered by nginx itself with the stack's token, so the readiness check knows it talks
	// to our nginx and not to whatever else could hold the port.
	readyPath = "/__tusk_stack_ready"
)

// UpstreamRoutes adds HTTP-client targets under /upstream/ to a SitePHP server, for the fixture's
// io/http.php: /upstream/ok (200 "upstream ok") and /upstream/missing (404 "upstream missing") are
// answered by nginx itself, /upstream/slow by SlowScript through FastCGI, any other /upstream/ path is 404.
type UpstreamRoutes struct {
	// FastCGI is the php-fpm address for /upstream/slow; default the site's.
	FastCGI string
	// SlowScript is the PHP file, relative to the document root, that answers /upstream/slow
	// ("/io/upstream_slow.php"); nginx cannot wait by itself.
	SlowScript string
}

type nginxConfig struct {
	Listen          string
	Root            string
	Site            Site
	FastCGI         string // php-fpm address, host:port or Unix socket path
	FrontController string // SitePHP only, e.g. "/index.php"
	Params          []FastCGIParam
	Upstream        *UpstreamRoutes // SitePHP only
	User            string          // worker user; "" leaves nginx's default (only matters as root)
	Token           string
	PIDFile         string
	ErrorLog        string
	AccessLog       string
	TempDir         string
}

// renderNginxConfig writes a self-contained nginx.conf (nothing from /etc/nginx but mime.types and
// fastcgi_params).
func renderNginxConfig(c nginxConfig) (string, error) {
	if c.Listen == "" || c.Root == "" || c.FastCGI == "" {
		return "", fmt.Errorf("nginx config: listen, root and fastcgi address are required")
	}
	var b strings.Builder
	b.WriteString("# Written by tests/stack; regenerated on every start.\n")
	if c.User != "" {
		fmt.Fprintf(&b, "user %s;\n", c.User)
	}
	fmt.Fprintf(&b, `worker_processes 1;
daemon off;
pid %s;
error_log %s warn;
events { worker_connections 256; }
http {
  include /etc/nginx/mime.types;
  default_type application/octet-stream;
  access_log %s;
  client_body_temp_path %s/body;
  fastcgi_temp_path %s/fastcgi;
  proxy_temp_path %s/proxy;
  uwsgi_temp_path %s/uwsgi;
  scgi_temp_path %s/scgi;
  server {
    listen %s;
    server_name 127.0.0.1 localhost;
    root %s;
    index index.php index.html;
    location = %s { default_type text/plain; return 200 "%s\n"; }
`, c.PIDFile, c.ErrorLog, c.AccessLog, c.TempDir, c.TempDir, c.TempDir, c.TempDir, c.TempDir,
		c.Listen, c.Root, readyPath, c.Token)

	switch c.Site {
	case SiteWordPress:
		fmt.Fprintf(&b, "    location /wp-content/ { root %s; }\n", wordpressContent)
		b.WriteString("    location / { try_files $uri $uri/ /index.php?$args; }\n")
	case SitePHP, "":
		if err := writeUpstreamRoutes(&b, c); err != nil {
			return "", err
		}
		if c.FrontController != "" {
			fmt.Fprintf(&b, "    location / { try_files $uri $uri/ %s?$args; }\n", c.FrontController)
		} else {
			b.WriteString("    location / { try_files $uri $uri/ =404; }\n")
		}
	default:
		return "", fmt.Errorf("nginx config: unknown site %q", c.Site)
	}

	b.WriteString(`    location ~ \.php$ {
      try_files $uri =404;
      include /etc/nginx/fastcgi_params;
      fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;
      # Debian's fastcgi_params passes HTTP_HOST as $host, without the port: apps would redirect to :80.
      fastcgi_param HTTP_HOST $host:$server_port;
`)
	if err := writeFastCGIParams(&b, c.Params); err != nil {
		return "", err
	}
	fmt.Fprintf(&b, "      fastcgi_pass %s;\n    }\n  }\n}\n", fastcgiPass(c.FastCGI))
	return b.String(), nil
}

func fastcgiPass(addr string) string {
	if listenNetwork(addr) == "unix" {
		return "unix:" + addr
	}
	return addr
}

func writeFastCGIParams(b *strings.Builder, params []FastCGIParam) error {
	for _, p := range params {
		if p.Name == "" || strings.ContainsAny(p.Name, " ;{}\n\"") || strings.ContainsAny(p.Value, ";{}\n\"") {
			return fmt.Errorf("nginx config: fastcgi_param %q %q: name or value not usable in nginx.conf", p.Name, p.Value)
		}
		value := p.Value
		if value == "" || strings.ContainsAny(value, " \t") {
			value = `"` + value + `"`
		}
		fmt.Fprintf(b, "      fastcgi_param %s %s;\n", p.Name, value)
	}
	return nil
}

// writeUpstreamRoutes writes the /upstream/ locations. They come before `location /` and are exact or
// ^~ matches, so neither the front controller nor the .php location ever sees these paths.
func writeUpstreamRoutes(b *strings.Builder, c nginxConfig) error {
	u := c.Upstream
	if u == nil {
		return nil
	}
	if !strings.HasPrefix(u.SlowScript, "/") || strings.ContainsAny(u.SlowScript, " \t;{}\n\"$") {
		return fmt.Errorf("nginx config: upstream slow script %q: want an absolute path below the root, without spaces, quotes or ;{}$", u.SlowScript)
	}
	addr := u.FastCGI
	if addr == "" {
		addr = c.FastCGI
	}
	fmt.Fprintf(b, `    # HTTP-client targets (io/http.php): answered by nginx, /upstream/slow by PHP.
    location = /upstream/ok { default_type text/plain; return 200 "upstream ok\n"; }
    location = /upstream/missing { default_type text/plain; return 404 "upstream missing\n"; }
    location = /upstream/slow {
      include /etc/nginx/fastcgi_params;
      fastcgi_param SCRIPT_FILENAME $document_root%s;
      fastcgi_param SCRIPT_NAME %s;
      fastcgi_param HTTP_HOST $host:$server_port;
`, u.SlowScript, u.SlowScript)
	if err := writeFastCGIParams(b, c.Params); err != nil {
		return err
	}
	fmt.Fprintf(b, "      fastcgi_pass %s;\n    }\n", fastcgiPass(addr))
	b.WriteString("    location ^~ /upstream/ { default_type text/plain; return 404 \"no such upstream\\n\"; }\n")
	return nil
}
