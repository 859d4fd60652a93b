package ioattr

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestNormalizeSQL(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		// The fixture's N+1: one shape for every post id.
		{"SELECT id, author, body FROM comments WHERE post_id = 7", "SELECT id, author, body FROM comments WHERE post_id = ?"},
		{"SELECT id, author, body FROM comments WHERE post_id = 12345", "SELECT id, author, body FROM comments WHERE post_id = ?"},
		// Numbers.
		{"SELECT 1, 1.5, .5, 1e10, 1.5E-3, 0x1F, 0b101, 00", "SELECT ?, ?, ?, ?, ?, ?, ?, ?"},
		{"SELECT * FROM t LIMIT 10 OFFSET 20", "SELECT * FROM t LIMIT ? OFFSET ?"},
		// Signs: unary ones are part of the literal, binary ones are kept.
		{"WHERE a = -1 AND b = +2 AND c = a-1 AND d = a - -1 AND e IN (-1, -2)", "WHERE a = ? AND b = ? AND c = a-? AND d = a - ? AND e IN (?)"},
		{"SELECT -1", "SELECT ?"},
		{"SELECT x FROM t LIMIT -1", "SELECT x FROM t LIMIT ?"},
		{"SELECT (1)-1", "SELECT (?)-?"},
		{"SELECT - 1", "SELECT - ?"}, // not glued: stays an operator
		// Identifiers with digits are not numbers.
		{"SELECT t1.c2, 1st, `1`, col_3 FROM t1", "SELECT t1.c2, 1st, `1`, col_3 FROM t1"},
		{"SELECT t.5", "SELECT t.?"},
		// Strings, with MySQL's escapes.
		{`SELECT 'a', 'it''s', 'it\'s', 'back\\', "dq", "it\"s", ''`, "SELECT ?, ?, ?, ?, ?, ?, ?"},
		{`SELECT N'x', X'0A', B'01', _utf8mb4'x', _binary 'y'`, "SELECT ?, ?, ?, ?, _binary ?"},
		{"SELECT 'unterminated", "SELECT ?"},
		{`WHERE token = 'secret-token-123'`, "WHERE token = ?"},
		// Booleans, NULL and placeholders are kept.
		{"WHERE a IS NULL AND b = TRUE AND c = false AND d = ? AND e = :name", "WHERE a IS NULL AND b = TRUE AND c = false AND d = ? AND e = :name"},
		{"SELECT a::int, b FROM t", "SELECT a::int, b FROM t"},
		// IN lists.
		{"WHERE id IN (1, 2, 3)", "WHERE id IN (?)"},
		{"WHERE id IN (1)", "WHERE id IN (?)"},
		{"WHERE id in(1,2)", "WHERE id in (?)"},
		{"WHERE id IN (?, ?, ?) AND s NOT IN ('a','b')", "WHERE id IN (?) AND s NOT IN (?)"},
		{"WHERE id IN (:a, :b)", "WHERE id IN (?)"},
		{"WHERE id IN (SELECT id FROM t WHERE x = 1)", "WHERE id IN (SELECT id FROM t WHERE x = ?)"},
		{"WHERE id IN (1, a)", "WHERE id IN (?, a)"},
		{"WHERE id IN ()", "WHERE id IN ()"},
		{"WHERE (a, b) IN ((1, 2), (3, 4))", "WHERE (a, b) IN ((?, ?), (?, ?))"},
		// Multi-row VALUES.
		{"INSERT INTO t (a, b) VALUES (1, 'x'), (2, 'y'),(3,'z')", "INSERT INTO t (a, b) VALUES (?, ?)"},
		{"INSERT INTO t VALUES (1, NOW()), (2, 'x')", "INSERT INTO t VALUES (?, NOW()), (?, ?)"},
		{"INSERT INTO t VALUES (1), (2) ON DUPLICATE KEY UPDATE a = VALUES(a)", "INSERT INTO t VALUES (?) ON DUPLICATE KEY UPDATE a = VALUES(a)"},
		{"INSERT INTO t VALUES(1)", "INSERT INTO t VALUES(?)"},
		// Comments and whitespace.
		{"  SELECT\n\t a  -- one\n FROM /* two */ t # three\n", "SELECT a FROM t"},
		{"/*+ MAX_EXECUTION_TIME(1000) */ SELECT /*!40001 SQL_NO_CACHE */ 1", "SELECT ?"},
		{"SELECT/**/1", "SELECT ?"},
		{"SELECT 1 /* unterminated", "SELECT ?"},
		{"a//**/*b", "a/ *b"},
		// Case is kept.
		{"select * from Posts where ID = 1", "select * from Posts where ID = ?"},
		// Odd input is passed through.
		{"", ""},
		{"   ", ""},
		{"\x00\xff?", "\x00\xff?"},
		{"SELECT 'é', é FROM ü", "SELECT ?, é FROM ü"},
	} {
		if got := NormalizeSQL(tc.in); got != tc.want {
			t.Errorf("NormalizeSQL(%q)\n got %q\nwant %q", tc.in, got, tc.want)
		}
	}
}

func TestNormalizeSQLFor(t *testing.T) {
	for _, tc := range []struct{ system, in, want string }{
		{"postgresql", `SELECT "id" FROM "users" WHERE name = 'a\' OR x = $1`, `SELECT "id" FROM "users" WHERE name = ? OR x = $1`},
		{"postgresql", `SELECT E'it\'s', $$body$$, $tag$ a $ b $tag$, $x`, `SELECT ?, ?, ?, $x`},
		{"postgresql", "SELECT a # b FROM t", "SELECT a # b FROM t"},
		{"postgresql", "WHERE id IN ($1, $2)", "WHERE id IN (?)"},
		{"sqlite", `SELECT "col" FROM t WHERE a = 'x' AND b = "y"`, `SELECT "col" FROM t WHERE a = ? AND b = "y"`},
		{"mysql", `SELECT "a" FROM t`, "SELECT ? FROM t"},
		{"", `SELECT 'a\'b'`, "SELECT ?"},
		{"MariaDB", `SELECT 1 # c`, "SELECT ?"},
	} {
		if got := NormalizeSQLFor(tc.system, tc.in); got != tc.want {
			t.Errorf("NormalizeSQLFor(%q, %q)\n got %q\nwant %q", tc.system, tc.in, got, tc.want)
		}
	}
}

func TestNormalizeSQLGroupsSpacingOfLists(t *testing.T) {
	a := NormalizeSQL("SELECT * FROM t WHERE id IN (1,2,3)")
	b := NormalizeSQL("SELECT * FROM t WHERE id IN ( 4 , 5 )")
	if a != b {
		t.Errorf("%q != %q", a, b)
	}
}

func TestNormalizeSQLLinear(t *testing.T) {
	// Pathological shapes stay fast: deep parentheses, long IN lists, many VALUES rows, many comments.
	for _, s := range []string{
		strings.Repeat("(", 50000) + strings.Repeat(")", 50000),
		"WHERE id IN (" + strings.Repeat("1,", 100000) + "1)",
		"INSERT INTO t VALUES " + strings.Repeat("(1,'a'),", 50000) + "(1,'a')",
		strings.Repeat("/* x */", 50000),
		strings.Repeat("'", 100001),
		strings.Repeat("IN (", 30000),
		strings.Repeat("VALUES (", 30000),
	} {
		out := NormalizeSQL(s)
		if NormalizeSQL(out) != out {
			t.Errorf("not idempotent on a %d-byte input", len(s))
		}
	}
}

func TestTruncateSQL(t *testing.T) {
	for _, tc := range []struct {
		in   string
		max  int
		want string
		cut  bool
	}{
		{"SELECT 1", 100, "SELECT 1", false},
		{"SELECT 1", 8, "SELECT 1", false},
		{"SELECT 1", 0, "SELECT 1", false},
		{"SELECT 1", -1, "SELECT 1", false},
		{"SELECT 12", 8, "SELEC…", true},
		{"héé", 4, "h…", true},
		{"aébcd", 5, "a…", true}, // 2 bytes would end inside é: back up to its start
		{"abcdef", 2, "ab", true},
		{"abcdef", 3, "…", true},
		{"日本語のテキスト", 10, "日本…", true},
	} {
		got, cut := TruncateSQL(tc.in, tc.max)
		if got != tc.want || cut != tc.cut {
			t.Errorf("TruncateSQL(%q, %d) = %q, %v; want %q, %v", tc.in, tc.max, got, cut, tc.want, tc.cut)
		}
		if tc.max > 0 && len(got) > tc.max {
			t.Errorf("TruncateSQL(%q, %d) = %q: longer than %d bytes", tc.in, tc.max, got, tc.max)
		}
		if !utf8.ValidString(got) {
			t.Errorf("TruncateSQL(%q, %d) = %q: invalid UTF-8", tc.in, tc.max, got)
		}
	}
}

func TestSQLOperation(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"SELECT * FROM wp_posts", "SELECT"},
		{"  select 1", "select"},
		{"INSERT INTO t VALUES (1)", "INSERT"},
		{"UPDATE t SET a = 1", "UPDATE"},
		{"DELETE FROM t", "DELETE"},
		{"REPLACE INTO t VALUES (1)", "REPLACE"},
		{"CALL proc(1)", "CALL"},
		{"/* c */ -- d\n # e\n SELECT 1", "SELECT"},
		{"((SELECT 1)) UNION (SELECT 2)", "SELECT"},
		{"WITH RECURSIVE x AS (SELECT 1 UNION SELECT 2) DELETE FROM t WHERE id IN (SELECT * FROM x)", "DELETE"},
		{"WITH x AS (SELECT * FROM a) SELECT * FROM x", "SELECT"},
		{"START TRANSACTION", "START"},
		{"SET NAMES utf8mb4", "SET"},
		{"SHOW TABLES", "SHOW"},
		{"CREATE TABLE t (a INT)", "CREATE"},
		{"", ""},
		{"42", ""},
		{"'SELECT'", ""},
		{"posts", ""},
	} {
		if got := SQLOperation(tc.in); got != tc.want {
			t.Errorf("SQLOperation(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestSQLTable(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"SELECT * FROM wp_posts WHERE ID = 1", "wp_posts"},
		{"SELECT * FROM `wp_posts` WHERE ID = 1", "wp_posts"},
		{"SELECT * FROM wordpress.wp_posts p JOIN wp_users u ON 1", "wordpress.wp_posts"},
		{"SELECT * FROM `db`.`t``x`", "db.t`x"},
		{`SELECT * FROM "public"."users"`, "public.users"},
		{"SELECT COUNT(*) FROM posts", "posts"},
		{"SELECT EXTRACT(YEAR FROM created_at) FROM posts", "posts"},
		{"SELECT TRIM(LEADING 'x' FROM title) FROM posts", "posts"},
		{"SELECT * FROM (SELECT * FROM inner_t) AS x", "inner_t"},
		{"(SELECT a FROM t1) UNION (SELECT b FROM t2)", "t1"},
		{"INSERT INTO t (a) VALUES (1)", "t"},
		{"INSERT IGNORE INTO t VALUES (1)", "t"},
		{"INSERT t VALUES (1)", "t"},
		{"INSERT LOW_PRIORITY IGNORE t SET a = 1", "t"},
		{"REPLACE INTO t VALUES (1)", "t"},
		{"INSERT INTO t SELECT * FROM u", "t"},
		{"INSERT INTO t VALUES (1) ON DUPLICATE KEY UPDATE a = 2", "t"},
		{"UPDATE LOW_PRIORITY IGNORE wp_options SET a = 1", "wp_options"},
		{"DELETE FROM wp_postmeta WHERE post_id = 1", "wp_postmeta"},
		{"DELETE t1 FROM t1 JOIN t2 ON t1.id = t2.id", "t1"},
		{"TRUNCATE TABLE logs", "logs"},
		{"TRUNCATE logs", "logs"},
		{"CREATE TABLE IF NOT EXISTS posts (id INT)", "posts"},
		{"DROP TEMPORARY TABLE IF EXISTS tmp", "tmp"},
		{"ALTER TABLE posts ADD c INT", "posts"},
		{"SELECT 1", ""},
		{"SELECT NOW() FROM DUAL", ""},
		{"SELECT 1 FOR UPDATE", ""},
		{"SELECT * FROM t FOR UPDATE", "t"},
		{"SELECT REPLACE(a, 'x', 'y') FROM t", "t"},
		{"CALL proc()", ""},
		{"SELECT * FROM @var", ""},
		{"SELECT * FROM", ""},
		{"", ""},
	} {
		if got := SQLTable(tc.in); got != tc.want {
			t.Errorf("SQLTable(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestSQLSpanName(t *testing.T) {
	for in, want := range map[string]string{
		"SELECT * FROM wp_posts WHERE ID = 1": "SELECT wp_posts",
		"SELECT 1":                            "SELECT",
		"?":                                   "SQL",
	} {
		if got := SQLSpanName(in); got != want {
			t.Errorf("SQLSpanName(%q) = %q, want %q", in, got, want)
		}
	}
}

func BenchmarkNormalizeSQL(b *testing.B) {
	stmt := "SELECT p.ID, p.post_title FROM wp_posts p INNER JOIN wp_term_relationships r ON (p.ID = r.object_id) " +
		"WHERE 1=1 AND r.term_taxonomy_id IN (2, 5, 7) AND p.post_type = 'post' AND (p.post_status = 'publish') " +
		"GROUP BY p.ID ORDER BY p.post_date DESC LIMIT 0, 10"
	b.SetBytes(int64(len(stmt)))
	for b.Loop() {
		NormalizeSQL(stmt)
	}
}

// wordpressStatements are statements a WordPress front page sends, for
// benchmarks of what the assembler does per SQL span.
var wordpressStatements = []string{
	"SELECT option_value FROM wp_options WHERE option_name = 'WPLANG' LIMIT 1",
	"SELECT wp_posts.ID FROM wp_posts WHERE 1=1 AND ((wp_posts.post_type = 'post' AND (wp_posts.post_status = 'publish'))) ORDER BY wp_posts.post_date DESC LIMIT 0, 10",
	"SELECT t.*, tt.*, tr.object_id FROM wp_terms AS t INNER JOIN wp_term_taxonomy AS tt ON t.term_id = tt.term_id INNER JOIN wp_term_relationships AS tr ON tr.term_taxonomy_id = tt.term_taxonomy_id WHERE tt.taxonomy IN ('category', 'post_tag', 'post_format') AND tr.object_id IN (1, 5, 7, 9) ORDER BY t.name ASC",
	"SELECT post_id, meta_key, meta_value FROM wp_postmeta WHERE post_id IN (1,5,7,9) ORDER BY meta_id ASC",
	"SET NAMES 'utf8mb4' COLLATE 'utf8mb4_unicode_520_ci'",
}

func BenchmarkDescribeSQLWordPress(b *testing.B) {
	for b.Loop() {
		for _, stmt := range wordpressStatements {
			DescribeSQL(stmt)
		}
	}
}

func TestDescribeSQLAgreesWithItsParts(t *testing.T) {
	stmts := append([]string{"", "select 1", "WITH x AS (SELECT 1) UPDATE t SET a=1", "insert ignore into `wp`.`t` values (1),(2)", "CALL p()"}, wordpressStatements...)
	for _, stmt := range stmts {
		got := DescribeSQL(stmt)
		want := SQLFacts{SQLOperation(stmt), SQLTable(stmt), NormalizeSQL(stmt)}
		if got != want {
			t.Errorf("DescribeSQL(%q) = %+v, want %+v", stmt, got, want)
		}
	}
}

func TestKeywordSetsFitIsKeyword(t *testing.T) {
	for _, set := range []map[string]bool{sqlOperations, dmlVerbs, tableKeywords, tableSkip, notTables, unaryContext} {
		for k := range set {
			if len(k) > longestKeyword || k != strings.ToUpper(k) {
				t.Errorf("keyword %q: longer than %d or not upper case, isKeyword would miss it", k, longestKeyword)
			}
			if !isKeyword(set, strings.ToLower(k)) {
				t.Errorf("isKeyword(%q) = false", strings.ToLower(k))
			}
		}
	}
}
