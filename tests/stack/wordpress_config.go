package stack

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
)

// Debian's /usr/share/wordpress/wp-config.php loads /etc/wordpress/config-<name>.php, where <name> is
// $_SERVER['WORDPRESS_CONFIG'] when set (we pass it as a fastcgi_param), else the Host header without
// its port.
const wordpressConfigDir = "/etc/wordpress"

// WordPressConfigName derives the per-stack config name ("tusk-1a2b3c4d5e6f") from the base dir, so
// stacks in different dirs on different ports never read each other's config.
func WordPressConfigName(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	sum := sha256.Sum256([]byte(abs))
	return "tusk-" + hex.EncodeToString(sum[:6])
}

// WordPressConfigFiles lists the files InstallWordPress writes for a config name: the named file, or
// for "" the host-named files that an nginx without WORDPRESS_CONFIG makes WordPress look for.
func WordPressConfigFiles(configName string) []string {
	if configName == "" {
		return []string{
			filepath.Join(wordpressConfigDir, "config-127.0.0.1.php"),
			filepath.Join(wordpressConfigDir, "config-localhost.php"),
		}
	}
	return []string{filepath.Join(wordpressConfigDir, "config-"+configName+".php")}
}

// wordpressConfigNamePattern is what Debian's wp-config.php accepts in WORDPRESS_CONFIG.
var wordpressConfigNamePattern = regexp.MustCompile(`^[a-zA-Z0-9-]+$`)

// sqlNamePattern limits database and user names to what needs no quoting anywhere.
var sqlNamePattern = regexp.MustCompile(`^[A-Za-z0-9_]+$`)

type wordpressConfig struct {
	DBName, DBUser, DBPassword, DBHost string
	URL                                string // WP_HOME and WP_SITEURL, with the port
}

// renderWordPressConfig writes the host config PHP.
func renderWordPressConfig(c wordpressConfig) string {
	var b strings.Builder
	b.WriteString("<?php\n// Written by tests/stack (tusk); rewritten on every start of the stack.\n")
	for _, kv := range [][2]string{
		{"DB_NAME", c.DBName}, {"DB_USER", c.DBUser}, {"DB_PASSWORD", c.DBPassword}, {"DB_HOST", c.DBHost},
		// Without these the install stores http://127.0.0.1 (port lost) and every page redirects there.
		{"WP_HOME", c.URL}, {"WP_SITEURL", c.URL},
	} {
		fmt.Fprintf(&b, "define('%s', %s);\n", kv[0], phpString(kv[1]))
	}
	b.WriteString(`define('DISABLE_WP_CRON', true);          // no loopback wp-cron requests during measurements
define('AUTOMATIC_UPDATER_DISABLED', true);
define('WP_HTTP_BLOCK_EXTERNAL', true);   // no internet here: fail fast instead of timing out
`)
	return b.String()
}

// phpString quotes s as a single-quoted PHP literal.
func phpString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// sqlString quotes s as a MariaDB string literal.
func sqlString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `''`).Replace(s) + "'"
}

// databaseSetupSQL creates the database and its user for TCP (127.0.0.1) and socket (localhost) logins.
func databaseSetupSQL(db, user, password string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE DATABASE IF NOT EXISTS `%s`;\n", db)
	for _, host := range []string{"127.0.0.1", "localhost"} {
		fmt.Fprintf(&b, "CREATE USER IF NOT EXISTS '%s'@'%s' IDENTIFIED BY %s;\n", user, host, sqlString(password))
		fmt.Fprintf(&b, "ALTER USER '%s'@'%s' IDENTIFIED BY %s;\n", user, host, sqlString(password))
		fmt.Fprintf(&b, "GRANT ALL ON `%s`.* TO '%s'@'%s';\n", db, user, host)
	}
	return b.String()
}

// Post is a published post created after the install, so archive and search pages have results.
type Post struct {
	Slug    string // post_name; a post with this slug is never inserted twice
	Title   string
	Content string // block markup or HTML
}

// DefaultPosts are the posts StartWordPress creates; three match /?s=hello (plus WordPress's own
// "Hello world!").
var DefaultPosts = []Post{
	{"hello-from-tusk", "Hello from Tusk", "<!-- wp:paragraph -->\n<p>Hello! Tusk traces PHP requests from outside the process, with eBPF.</p>\n<!-- /wp:paragraph -->"},
	{"hello-nginx-and-php-fpm", "Hello again: nginx and php-fpm", "<!-- wp:paragraph -->\n<p>nginx passes each request to a php-fpm worker over FastCGI; hello to both.</p>\n<!-- /wp:paragraph -->"},
	{"say-hello-to-mariadb", "Say hello to MariaDB", "<!-- wp:paragraph -->\n<p>Every page runs a handful of queries through mysqlnd.</p>\n<!-- /wp:paragraph -->"},
	{"finding-slow-requests", "Finding slow requests", "<!-- wp:paragraph -->\n<p>Which function made this request slow? A trace shows the call tree with timings.</p>\n<!-- /wp:paragraph -->"},
	{"reading-flame-graphs", "Reading flame graphs", "<!-- wp:paragraph -->\n<p>Wide frames are where the time goes; the stack grows upwards.</p>\n<!-- /wp:paragraph -->"},
}

// postsSQL inserts the posts that do not exist yet (by slug), files them under Uncategorized (term 1,
// created by the install) and sets their guid the way WordPress does.
func postsSQL(db, url string, posts []Post) string {
	var b strings.Builder
	fmt.Fprintf(&b, "USE `%s`;\n", db)
	slugs := make([]string, len(posts))
	for i, p := range posts {
		slugs[i] = sqlString(p.Slug)
		fmt.Fprintf(&b, `INSERT INTO wp_posts (post_author, post_date, post_date_gmt, post_content, post_title,
  post_excerpt, post_status, comment_status, ping_status, post_name, to_ping, pinged, post_modified,
  post_modified_gmt, post_content_filtered, post_parent, guid, menu_order, post_type, comment_count)
SELECT 1, NOW() - INTERVAL %d MINUTE, UTC_TIMESTAMP() - INTERVAL %d MINUTE, %s, %s, '', 'publish', 'open', 'open', %s,
  '', '', NOW(), UTC_TIMESTAMP(), '', 0, '', 0, 'post', 0
FROM DUAL WHERE NOT EXISTS (SELECT 1 FROM wp_posts WHERE post_type = 'post' AND post_name = %s);
`, len(posts)-i, len(posts)-i, sqlString(p.Content), sqlString(p.Title), slugs[i], slugs[i])
	}
	if len(posts) == 0 {
		return b.String()
	}
	in := strings.Join(slugs, ", ")
	fmt.Fprintf(&b, `UPDATE wp_posts SET guid = CONCAT(%s, '/?p=', ID) WHERE guid = '' AND post_type = 'post';
INSERT IGNORE INTO wp_term_relationships (object_id, term_taxonomy_id, term_order)
  SELECT ID, 1, 0 FROM wp_posts WHERE post_type = 'post' AND post_name IN (%s);
UPDATE wp_term_taxonomy SET count = (SELECT COUNT(*) FROM wp_term_relationships WHERE term_taxonomy_id = 1)
  WHERE term_taxonomy_id = 1;
`, sqlString(url), in)
	return b.String()
}
