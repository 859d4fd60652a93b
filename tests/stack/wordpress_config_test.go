package stack

import (
	"strings"
	"testing"
)

func TestWordPressConfigName(t *testing.T) {
	a, b := WordPressConfigName("/tmp/a"), WordPressConfigName("/tmp/b")
	if a == b {
		t.Errorf("different dirs share config name %q", a)
	}
	if !wordpressConfigNamePattern.MatchString(a) {
		t.Errorf("%q would be ignored by Debian's wp-config.php", a)
	}
	if a != WordPressConfigName("/tmp/a/") {
		t.Error("the name must not depend on a trailing slash")
	}
}

func TestWordPressConfigFiles(t *testing.T) {
	if got := WordPressConfigFiles(""); len(got) != 2 || !strings.HasSuffix(got[0], "config-127.0.0.1.php") ||
		!strings.HasSuffix(got[1], "config-localhost.php") {
		t.Errorf("host-named files = %v", got)
	}
	if got := WordPressConfigFiles("tusk-1"); len(got) != 1 || got[0] != "/etc/wordpress/config-tusk-1.php" {
		t.Errorf("named file = %v", got)
	}
}

func TestRenderWordPressConfig(t *testing.T) {
	got := renderWordPressConfig(wordpressConfig{
		DBName: "wordpress", DBUser: "wp", DBPassword: `it's \ secret`, DBHost: "127.0.0.1:3307",
		URL: "http://127.0.0.1:8080",
	})
	checkGolden(t, "wordpress-config.php", got)
}

func TestSQLQuoting(t *testing.T) {
	if got := sqlString(`a'b\c`); got != `'a''b\\c'` {
		t.Errorf("sqlString = %s", got)
	}
	sql := databaseSetupSQL("wordpress", "wp", "p'w")
	for _, want := range []string{"CREATE DATABASE IF NOT EXISTS `wordpress`", "'wp'@'127.0.0.1' IDENTIFIED BY 'p''w'", "'wp'@'localhost'"} {
		if !strings.Contains(sql, want) {
			t.Errorf("setup SQL lacks %q:\n%s", want, sql)
		}
	}
}

func TestPostsSQL(t *testing.T) {
	got := postsSQL("wordpress", "http://127.0.0.1:8080", []Post{{"a-b", "It's A", "<p>x</p>"}})
	checkGolden(t, "posts.sql", got)
	if got := postsSQL("wordpress", "http://x", nil); strings.Contains(got, "INSERT") {
		t.Errorf("no posts, yet: %s", got)
	}
}
