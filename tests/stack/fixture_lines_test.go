package stack

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFixtureIOLines pins the call-site lines that tests/fixtures/app/README.md documents for the io/
// pages and that the agent's tests assert: editing a page without updating both fails here first.
func TestFixtureIOLines(t *testing.T) {
	app, err := FixtureAppDir()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		file string
		line int
		want string
	}{
		{"io/sql.php", 7, "function connect_mysqli("},
		{"io/sql.php", 9, "mysqli_connect("},
		{"io/sql.php", 14, "mysqli_query($db, 'SELECT COUNT(*) FROM posts')"},
		{"io/sql.php", 20, "$db->query('SELECT id, title FROM posts"},
		{"io/sql.php", 26, "mysqli_prepare($db, 'SELECT title FROM posts WHERE id = ?')"},
		{"io/sql.php", 27, "mysqli_stmt_bind_param("},
		{"io/sql.php", 28, "mysqli_stmt_execute("},
		{"io/sql.php", 35, "SELECT * FROM no_such_table"},
		{"io/sql.php", 37, "catch (mysqli_sql_exception"},
		{"io/sql.php", 42, "function load_comments("},
		{"io/sql.php", 44, "FROM comments WHERE post_id = $postId"},
		{"io/sql.php", 50, "SELECT id FROM posts ORDER BY id LIMIT 8"},
		{"io/sql.php", 53, "load_comments($db,"},
		{"io/sql.php", 60, "SELECT owner FROM api_tokens WHERE token = ?"},
		{"io/sql.php", 61, "mysqli_stmt_bind_param($stmt, 's', $token)"},
		{"io/sql.php", 62, "mysqli_stmt_execute("},
		{"io/sql.php", 68, "new PDO(\"mysql:host="},
		{"io/sql.php", 73, "$pdo->query("},
		{"io/sql.php", 79, "$pdo->prepare("},
		{"io/sql.php", 80, "$stmt->execute([$id])"},
		{"io/sql.php", 86, "$pdo->exec(\"UPDATE posts"},
		{"io/sql.php", 90, "'" + FixtureSecretToken + "'"},
		{"io/sql.php", 91, "connect_mysqli($config)"},
		{"io/sql.php", 97, "posts_with_comments($db)"},
		{"io/sql.php", 98, "token_owner($db, $secret)"},
		{"io/sql.php", 102, "pdo_bump_views($pdo, 1)"},
		{"io/lib/db.php", 13, "public function __construct("},
		{"io/lib/db.php", 15, "mysqli_connect("},
		{"io/lib/db.php", 18, "public function query("},
		{"io/lib/db.php", 21, "mysqli_query($this->link, $sql)"},
		{"io/lib/db.php", 26, "$this->query($sql)"},
		{"io/lib/db.php", 32, "$this->query($sql)"},
		{"io/wrapped.php", 11, "$db->query('SELECT COUNT(*) FROM posts')"},
		{"io/wrapped.php", 17, "$db->getCol("},
		{"io/wrapped.php", 22, "$db->getVar(\"SELECT COUNT(*) FROM comments WHERE post_id = $postId\")"},
		{"io/wrapped.php", 25, "new Fixture\\DB("},
		{"io/wrapped.php", 28, "comment_count($db, $postId)"},
		{"io/http.php", 11, "curl_setopt($ch, CURLOPT_URL, $url)"},
		{"io/http.php", 13, "curl_exec($ch)"},
		{"io/http.php", 20, "curl_setopt_array("},
		{"io/http.php", 27, "curl_exec($ch)"},
		{"io/http.php", 38, "curl_multi_add_handle("},
		{"io/http.php", 42, "curl_multi_exec("},
		{"io/http.php", 60, "curl_exec($ch)"},
		{"io/http.php", 66, "file_get_contents($url)"},
		{"io/http.php", 74, "curl_exec($ch)"},
		{"io/http.php", 81, "/upstream/ok"},
		{"io/http.php", 82, "/upstream/missing"},
		{"io/http.php", 83, "/upstream/slow"},
		{"io/http.php", 87, "token=abc&page=2"},
		{"io/redis.php", 10, "->connect("},
		{"io/redis.php", 16, "->set('fixture:greeting'"},
		{"io/redis.php", 17, "->get('fixture:greeting')"},
		{"io/redis.php", 22, "->hSet("},
		{"io/redis.php", 24, "->hGetAll("},
		{"io/redis.php", 29, "->del('fixture:visits')"},
		{"io/redis.php", 30, "->incr("},
		{"io/redis.php", 36, "->get('fixture:no-such-key')"},
		{"io/redis.php", 41, "->del('fixture:greeting', "},
		{"io/memcached.php", 10, "->addServer("},
		{"io/memcached.php", 16, "->set('fixture:a'"},
		{"io/memcached.php", 22, "->get('fixture:a')"},
		{"io/memcached.php", 27, "->getMulti("},
		{"io/memcached.php", 32, "->delete('fixture:a')"},
		{"io/upstream_slow.php", 6, "usleep(50000)"},
	} {
		raw, err := os.ReadFile(filepath.Join(app, tc.file))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(raw), "\n")
		if tc.line > len(lines) || !strings.Contains(lines[tc.line-1], tc.want) {
			got := "(past the end)"
			if tc.line <= len(lines) {
				got = strings.TrimSpace(lines[tc.line-1])
			}
			t.Errorf("%s:%d is %q, want it to contain %q (update tests/fixtures/app/README.md and its users)", tc.file, tc.line, got, tc.want)
		}
	}
}
