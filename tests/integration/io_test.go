//go:build integration

package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tusk-php/tusk/pkg/trace"
	"github.com/tusk-php/tusk/tests/stack"
)

// ioSpan finds the client span whose query text (or URL) contains sub.
func ioSpan(t *testing.T, tr *trace.Trace, key, sub string) *trace.Span {
	t.Helper()
	for i := range tr.Spans {
		s := &tr.Spans[i]
		if v, _ := s.Attributes[key].(string); s.Kind == trace.KindClient && strings.Contains(v, sub) {
			return s
		}
	}
	var have []string
	for _, s := range tr.Spans {
		if s.Kind == trace.KindClient {
			have = append(have, s.Name+" "+attrString(s, key))
		}
	}
	t.Fatalf("no client span with %s containing %q; have:\n%s", key, sub, strings.Join(have, "\n"))
	return nil
}

func attrString(s trace.Span, key string) string {
	v, _ := s.Attributes[key].(string)
	return v
}

// checkSite asserts a span's PHP call site: function, fixture file, line.
func checkSite(t *testing.T, s *trace.Span, function, file string, line int) {
	t.Helper()
	if s.Attributes[trace.AttrCodeFunction] != function || !strings.HasSuffix(attrString(*s, trace.AttrCodeFilePath), "/tests/fixtures/app/"+file) ||
		s.Attributes[trace.AttrCodeLineNumber] != int64(line) {
		t.Errorf("%s: call site %v %v:%v, want %s %s:%d", s.Name, s.Attributes[trace.AttrCodeFunction],
			s.Attributes[trace.AttrCodeFilePath], s.Attributes[trace.AttrCodeLineNumber], function, file, line)
	}
}

// writeConfig writes an agent config file.
func writeConfig(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "tusk.yaml")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestIOSpansWithCallSites runs the fixture's io/ pages against real
// MariaDB, Redis, memcached and nginx, with opcache and its JIT on, and
// checks every I/O span the agent made from the uprobes on PHP's handlers.
func TestIOSpansWithCallSites(t *testing.T) {
	s := startFixture(t, stack.StackOptions{WithMariaDB: true, WithRedis: true, WithMemcached: true, WithUpstream: true, Workers: 2})
	cfg := writeConfig(t, "io:\n  wrappers: [\"Fixture\\\\DB::\"]\n")
	a := startAgent(t, s, "--config", cfg)

	st, err := a.client.Status(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range st.Binaries {
		if len(b.Pools) > 0 && (len(b.IOHooks) < 20 || !b.StackWalk) {
			t.Fatalf("binary %s: %d I/O hooks (%s), stack walk %v", b.Path, len(b.IOHooks), b.IOReason, b.StackWalk)
		}
	}

	for _, page := range []string{"/io/sql.php", "/io/wrapped.php", "/io/http.php", "/io/redis.php", "/io/memcached.php"} {
		if code, body := get(t, s, page); code != 200 {
			t.Fatalf("%s: HTTP %d %s", page, code, body)
		}
	}

	t.Run("sql", func(t *testing.T) {
		tr := a.onlyTrace(t, "/io/sql.php")
		count := ioSpan(t, tr, trace.AttrDBQueryText, "SELECT COUNT(*) FROM posts")
		checkSite(t, count, "count_posts", "io/sql.php", 14)
		if count.Name != "SELECT posts" || count.Attributes[trace.AttrDBSystem] != "mysql" ||
			count.Attributes[trace.AttrDBNamespace] != "tusk_fixture" || count.ParentSpanID != tr.Root().SpanID {
			t.Errorf("count span %q %v", count.Name, count.Attributes)
		}
		if d := count.Duration(); d <= 0 || d > tr.Duration() {
			t.Errorf("count span duration %s (request %s)", d, tr.Duration())
		}
		checkSite(t, ioSpan(t, tr, trace.AttrDBQueryText, "ORDER BY id DESC LIMIT 5"), "latest_post_ids", "io/sql.php", 20)
		prepared := ioSpan(t, tr, trace.AttrDBQueryText, "SELECT title FROM posts WHERE id = ?")
		checkSite(t, prepared, "post_title", "io/sql.php", 28)
		broken := ioSpan(t, tr, trace.AttrDBQueryText, "no_such_table")
		if broken.Status.Code != trace.StatusError {
			t.Errorf("failing query status %v", broken.Status)
		}
		// N+1: eight interpolated statements, one shape, one call site.
		nPlusOne := ioSpan(t, tr, trace.AttrDBQueryText, "FROM comments WHERE post_id = 5")
		checkSite(t, nPlusOne, "load_comments", "io/sql.php", 44)
		if nPlusOne.Attributes[trace.AttrRepeatCount] != int64(8) || nPlusOne.Attributes[trace.AttrNPlusOne] != true {
			t.Errorf("N+1 span attributes %v", nPlusOne.Attributes)
		}
		root := tr.Root()
		if root.Attributes[trace.AttrNPlusOneCount] != int64(8) || tr.NPlusOne < 1 ||
			!strings.Contains(attrString(*root, trace.AttrNPlusOneSite), "load_comments") {
			t.Errorf("request span N+1: %v (summary %d)", root.Attributes, tr.NPlusOne)
		}
		// PDO: DSN gives the system and database; emulated prepares.
		pdo := ioSpan(t, tr, trace.AttrDBQueryText, "WHERE id <= 3 ORDER BY id")
		checkSite(t, pdo, "pdo_titles", "io/sql.php", 73)
		if pdo.Attributes[trace.AttrDBSystem] != "mysql" || pdo.Attributes[trace.AttrDBNamespace] != "tusk_fixture" {
			t.Errorf("PDO span %v", pdo.Attributes)
		}
		checkSite(t, ioSpan(t, tr, trace.AttrDBQueryText, "UPDATE posts SET views"), "pdo_bump_views", "io/sql.php", 86)
		exec := ioSpan(t, tr, trace.AttrCodeFunction, "pdo_post_title")
		if attrString(*exec, trace.AttrDBQueryText) != "SELECT title FROM posts WHERE id = ?" {
			t.Errorf("PDOStatement::execute text %v", exec.Attributes[trace.AttrDBQueryText])
		}
		// The bound secret is a parameter: never in the trace.
		for _, sp := range tr.Spans {
			for k, v := range sp.Attributes {
				if str, ok := v.(string); ok && strings.Contains(str, "secret-token-123") {
					t.Errorf("span %s attribute %s leaks the bound parameter", sp.Name, k)
				}
			}
		}
	})

	t.Run("wrapped", func(t *testing.T) {
		tr := a.onlyTrace(t, "/io/wrapped.php")
		checkSite(t, ioSpan(t, tr, trace.AttrDBQueryText, "SELECT title FROM posts WHERE id <= 3"), "first_titles", "io/wrapped.php", 17)
		c := ioSpan(t, tr, trace.AttrDBQueryText, "FROM comments WHERE post_id = 2")
		checkSite(t, c, "comment_count", "io/wrapped.php", 22)
		if !strings.Contains(attrString(*c, trace.AttrCodeStacktrace), "Fixture\\DB::query") {
			t.Errorf("stack trace lacks the wrapper frame:\n%s", attrString(*c, trace.AttrCodeStacktrace))
		}
	})

	t.Run("http", func(t *testing.T) {
		tr := a.onlyTrace(t, "/io/http.php")
		ok := ioSpan(t, tr, trace.AttrURLFull, "/upstream/ok")
		checkSite(t, ok, "fetch_with_curl", "io/http.php", 13)
		if ok.Name != "GET" || ok.Attributes[trace.AttrServerAddress] != "127.0.0.1" {
			t.Errorf("curl span %q %v", ok.Name, ok.Attributes)
		}
		missing := ioSpan(t, tr, trace.AttrURLFull, "/upstream/missing")
		if missing.Attributes[trace.AttrHTTPStatusCode] != int64(404) || missing.Status.Code != trace.StatusError {
			t.Errorf("404 span %v %v", missing.Status, missing.Attributes)
		}
		slow := ioSpan(t, tr, trace.AttrURLFull, "/upstream/slow")
		checkSite(t, slow, "fetch_like_guzzle", "io/http.php", 27)
		if slow.Duration().Milliseconds() < 45 {
			t.Errorf("slow upstream span lasted %s, want ≥ 50ms", slow.Duration())
		}
		for _, sp := range tr.Spans {
			if u := attrString(sp, trace.AttrURLFull); strings.Contains(u, "pass@") || strings.Contains(u, "token=abc") {
				t.Errorf("url.full leaks credentials: %s", u)
			}
		}
	})

	t.Run("cache", func(t *testing.T) {
		tr := a.onlyTrace(t, "/io/redis.php")
		get := ioSpan(t, tr, trace.AttrDBQueryText, "GET ")
		if get.Attributes[trace.AttrDBSystem] != "redis" || get.Name != "GET" {
			t.Errorf("redis span %q %v", get.Name, get.Attributes)
		}
		mc := a.onlyTrace(t, "/io/memcached.php")
		set := ioSpan(t, mc, trace.AttrDBQueryText, "set ")
		if set.Attributes[trace.AttrDBSystem] != "memcached" {
			t.Errorf("memcached span %v", set.Attributes)
		}
	})
}
