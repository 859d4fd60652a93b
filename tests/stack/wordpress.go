package stack

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// WordPressOptions configures InstallWordPress on a running MariaDB and an nginx (SiteWordPress) whose
// php-fpm can reach that MariaDB.
type WordPressOptions struct {
	DB *MariaDB
	// URL is nginx's base URL with the port (Nginx.URL()); it becomes WP_HOME and WP_SITEURL.
	URL string
	// ConfigName selects /etc/wordpress/config-<ConfigName>.php; nginx must pass it as the
	// WORDPRESS_CONFIG fastcgi_param (StartWordPress does, with WordPressConfigName(dir)). Empty writes
	// config-127.0.0.1.php and config-localhost.php instead, which Debian's wp-config.php finds from
	// the Host header; those are shared by every WordPress on the machine.
	ConfigName string
	// Title is the blog title; default "Tusk Test Blog".
	Title                                string
	DBName, DBUser, DBPassword           string // default wordpress, wp, wppass
	AdminUser, AdminPassword, AdminEmail string // default admin, Adm1n-pass-123, admin@example.com
	// Posts are created if missing; nil means DefaultPosts.
	Posts []Post
	// Timeout bounds the whole install; default 2 min.
	Timeout time.Duration
}

func (o WordPressOptions) withDefaults() WordPressOptions {
	set := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	set(&o.Title, "Tusk Test Blog")
	set(&o.DBName, "wordpress")
	set(&o.DBUser, "wp")
	set(&o.DBPassword, "wppass")
	set(&o.AdminUser, "admin")
	set(&o.AdminPassword, "Adm1n-pass-123")
	set(&o.AdminEmail, "admin@example.com")
	if o.Posts == nil {
		o.Posts = DefaultPosts
	}
	o.URL = strings.TrimSuffix(o.URL, "/")
	return o
}

// InstallWordPress creates the database and user, writes the host config, runs WordPress's installer
// (POST wp-admin/install.php?step=2) unless already installed, adds the posts, and checks that GET / shows
// the title and /?s=hello answers 200. Running it again on the same database only refreshes the config.
func InstallWordPress(ctx context.Context, opts WordPressOptions) error {
	o := opts.withDefaults()
	if o.DB == nil || o.URL == "" {
		return fmt.Errorf("wordpress: DB and URL are required")
	}
	if !sqlNamePattern.MatchString(o.DBName) || !sqlNamePattern.MatchString(o.DBUser) {
		return fmt.Errorf("wordpress: database %q and user %q must match %s", o.DBName, o.DBUser, sqlNamePattern)
	}
	if o.ConfigName != "" && !wordpressConfigNamePattern.MatchString(o.ConfigName) {
		return fmt.Errorf("wordpress: config name %q must match %s (Debian's wp-config.php ignores others)",
			o.ConfigName, wordpressConfigNamePattern)
	}
	ctx, cancel := context.WithTimeout(ctx, durationOr(o.Timeout, 2*time.Minute))
	defer cancel()

	if err := o.DB.Exec(ctx, databaseSetupSQL(o.DBName, o.DBUser, o.DBPassword)); err != nil {
		return fmt.Errorf("wordpress: database setup: %w", err)
	}
	conf := renderWordPressConfig(wordpressConfig{
		DBName: o.DBName, DBUser: o.DBUser, DBPassword: o.DBPassword, DBHost: o.DB.Addr(), URL: o.URL,
	})
	for _, path := range WordPressConfigFiles(o.ConfigName) {
		if err := writeFileAtomic(path, []byte(conf), 0o644); err != nil {
			return fmt.Errorf("wordpress: %w", err)
		}
	}
	installed, err := wordpressInstalled(ctx, o.DB, o.DBName)
	if err != nil {
		return err
	}
	if !installed {
		if err := runInstaller(ctx, o); err != nil {
			return err
		}
	}
	if err := o.DB.Exec(ctx, postsSQL(o.DBName, o.URL, o.Posts)); err != nil {
		return fmt.Errorf("wordpress: create posts: %w", err)
	}
	return verifyWordPress(ctx, o)
}

// wordpressInstalled reports whether the installer already ran (it creates wp_users and the admin).
func wordpressInstalled(ctx context.Context, db *MariaDB, dbName string) (bool, error) {
	rows, err := db.Query(ctx, fmt.Sprintf(
		"SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = %s AND table_name = 'wp_users'", sqlString(dbName)))
	if err != nil {
		return false, fmt.Errorf("wordpress: check install: %w", err)
	}
	if len(rows) == 0 || rows[0][0] == "0" {
		return false, nil
	}
	rows, err = db.Query(ctx, fmt.Sprintf("SELECT COUNT(*) FROM `%s`.wp_users", dbName))
	if err != nil {
		return false, fmt.Errorf("wordpress: check install: %w", err)
	}
	return len(rows) > 0 && rows[0][0] != "0", nil
}

func runInstaller(ctx context.Context, o WordPressOptions) error {
	form := url.Values{
		"weblog_title":    {o.Title},
		"user_name":       {o.AdminUser},
		"admin_password":  {o.AdminPassword},
		"admin_password2": {o.AdminPassword},
		"pw_weak":         {"1"},
		"admin_email":     {o.AdminEmail},
		"blog_public":     {"0"},
		"language":        {""},
	}
	target := o.URL + "/wp-admin/install.php?step=2"
	body, status, err := httpPostForm(ctx, target, form)
	if err != nil {
		return fmt.Errorf("wordpress: POST %s: %w", target, err)
	}
	if status != http.StatusOK || !strings.Contains(body, "Success!") {
		return fmt.Errorf("wordpress: POST %s: HTTP %d without \"Success!\": %s", target, status, excerpt(body))
	}
	return nil
}

// verifyWordPress checks the front page (200, title) and a search with results.
func verifyWordPress(ctx context.Context, o WordPressOptions) error {
	body, status, err := httpGet(ctx, o.URL+"/")
	if err != nil {
		return fmt.Errorf("wordpress: GET /: %w", err)
	}
	if want := "<title>" + html.EscapeString(o.Title); status != http.StatusOK || !strings.Contains(body, want) {
		return fmt.Errorf("wordpress: GET / gave HTTP %d, want 200 with %q: %s", status, want, excerpt(body))
	}
	body, status, err = httpGet(ctx, o.URL+"/?s=hello")
	if err != nil {
		return fmt.Errorf("wordpress: GET /?s=hello: %w", err)
	}
	if status != http.StatusOK {
		return fmt.Errorf("wordpress: GET /?s=hello gave HTTP %d, want 200: %s", status, excerpt(body))
	}
	if len(o.Posts) > 0 && strings.Contains(strings.ToLower(o.Posts[0].Title), "hello") &&
		!strings.Contains(body, html.EscapeString(o.Posts[0].Title)) {
		return fmt.Errorf("wordpress: GET /?s=hello does not list %q: %s", o.Posts[0].Title, excerpt(body))
	}
	return nil
}

// excerpt shortens an HTML body for an error message, keeping its start (where WordPress puts errors).
func excerpt(body string) string {
	body = strings.Join(strings.Fields(body), " ")
	if len(body) > 600 {
		return body[:600] + "…"
	}
	return body
}

// writeFileAtomic replaces path so a reader never sees half a file.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), perm); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
