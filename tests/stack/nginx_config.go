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

type nginxConfig struct {
	Listen          string
	Root            string
	Site            Site
	FastCGI         string // php-fpm address, host:port or Unix socket path
	FrontController string // SitePHP only, e.g. "/index.php"
	Params          []FastCGIParam
	User            string // worker user; "" leaves nginx's default (only matters as root)
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
		if c.FrontController != "" {
			fmt.Fprintf(&b, "    location / { try_files $uri $uri/ %s?$args; }\n", c.FrontController)
		} else {
			b.WriteString("    location / { try_files $uri $uri/ =404; }\n")
		}
	default:
		return "", fmt.Errorf("nginx config: unknown site %q", c.Site)
	}

	fastcgiPass := c.FastCGI
	if listenNetwork(c.FastCGI) == "unix" {
		fastcgiPass = "unix:" + c.FastCGI
	}
	b.WriteString(`    location ~ \.php$ {
      try_files $uri =404;
      include /etc/nginx/fastcgi_params;
      fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;
      # Debian's fastcgi_params passes HTTP_HOST as $host, without the port: apps would redirect to :80.
      fastcgi_param HTTP_HOST $host:$server_port;
`)
	for _, p := range c.Params {
		if p.Name == "" || strings.ContainsAny(p.Name, " ;{}\n\"") || strings.ContainsAny(p.Value, ";{}\n\"") {
			return "", fmt.Errorf("nginx config: fastcgi_param %q %q: name or value not usable in nginx.conf", p.Name, p.Value)
		}
		value := p.Value
		if value == "" || strings.ContainsAny(value, " \t") {
			value = `"` + value + `"`
		}
		fmt.Fprintf(&b, "      fastcgi_param %s %s;\n", p.Name, value)
	}
	fmt.Fprintf(&b, "      fastcgi_pass %s;\n    }\n  }\n}\n", fastcgiPass)
	return b.String(), nil
}
