//go:build integration

package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tusk-php/tusk/pkg/agentapi"
	"github.com/tusk-php/tusk/pkg/trace"
	"github.com/tusk-php/tusk/tests/stack"
)

// chrootPHP returns the cached chroot tests/chroots/build.sh made for suite.
// A missing chroot fails the test with the command that builds it: CI builds
// both before the integration tests, so a skip would hide a broken setup.
func chrootPHP(t *testing.T, suite, php string) string {
	t.Helper()
	cache := os.Getenv("TUSK_CHROOT_CACHE")
	if cache == "" {
		cache = "/var/cache/tusk/chroots"
	}
	root := filepath.Join(cache, suite)
	if _, err := os.Stat(filepath.Join(root, "usr/sbin/php-fpm"+php)); err != nil {
		t.Fatalf("no PHP %s chroot at %s (%v): build it with\n\t%s %s",
			php, root, err, filepath.Join(repoRoot(), "tests/chroots/build.sh"), suite)
	}
	return root
}

// PHP 7.4 and 8.4 run as php-fpm in Debian chroots (bullseye, trixie) behind
// the host's nginx. The agent finds them, reads their version, attaches the
// request probes with that version's struct offsets and records request
// spans with the method, the REQUEST_URI nginx sent (path and query) and
// the status, as for the host's 8.2.
func TestRequestSpansOnOtherPHPVersions(t *testing.T) {
	for _, v := range []struct{ php, suite string }{{"7.4", "bullseye"}, {"8.4", "trixie"}} {
		t.Run(v.php, func(t *testing.T) {
			root := chrootPHP(t, v.suite, v.php)
			// opcache with the JIT, as production runs; StartFPM drops the JIT
			// settings for 7.4, whose opcache has none.
			s := startFixture(t, stack.StackOptions{ChrootPHP: root, FPMIniArgs: jitOn, WithMariaDB: true})
			if s.FPM.PHPVersion != v.php {
				t.Fatalf("stack runs PHP %q, want %s", s.FPM.PHPVersion, v.php)
			}
			exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", s.FPM.MasterPID))
			if err != nil {
				t.Fatal(err)
			}
			if want := filepath.Join(root, "usr/sbin/php-fpm"+v.php); exe != want {
				t.Fatalf("php-fpm master runs %s, want %s", exe, want)
			}
			_, body := get(t, s, "/opcache.php")
			if wantJIT := v.php != "7.4"; body != fmt.Sprintf("{\"opcache\":true,\"jit\":%t}\n", wantJIT) {
				t.Fatalf("opcache.php in PHP %s: %q, want opcache on, jit %t", v.php, body, wantJIT)
			}

			a := launchAgent(t, tempDir(t, "tusk-agent-"), "--pid", fmt.Sprint(s.FPM.MasterPID), "--profile-hz", "499")
			bin := waitAttached(t, a, s)
			// Debian's 7.4 is built with DTrace (USDT probes); trixie's 8.4 is
			// not, so the agent catches its requests another way.
			t.Logf("PHP %s: mode %s, dtrace %t: %s", bin.Version, bin.Mode, bin.DTrace, bin.ModeReason)
			if !strings.HasPrefix(bin.Version, v.php+".") || bin.Path != exe || bin.SAPI != "fpm" {
				t.Fatalf("status binary: %+v", *bin)
			}
			if strings.Contains(bin.ModeReason, "no struct offsets") {
				t.Fatalf("agent has no offsets for PHP %s: %s", v.php, bin.ModeReason)
			}

			requests := []struct{ request, path, query string }{
				{"/index.php", "/index.php", ""},
				{"/index.php?x=1&name=a%20b", "/index.php", "x=1&name=a%20b"},
				// Not a file: nginx's front controller runs index.php; the span
				// names what was asked for (REQUEST_URI from FastCGI params).
				{"/shop/cart?id=7", "/shop/cart", "id=7"},
			}
			for _, r := range requests {
				if code, body := get(t, s, r.request); code != 200 || !strings.HasPrefix(body, "ok total=120") {
					t.Fatalf("GET %s on PHP %s: %d %q", r.request, v.php, code, body)
				}
			}
			list := a.waitTraces(t, trace.Query{Pool: s.Pool}, len(requests))
			for _, r := range requests {
				var tr *trace.Trace
				for _, sum := range list {
					got := a.fetch(t, sum.TraceID)
					if got.Path == r.path && got.Root().Attributes[trace.AttrURLQuery] == nilIfEmpty(r.query) {
						tr = got
					}
				}
				if tr == nil {
					t.Errorf("no trace for %s among %d", r.request, len(list))
					continue
				}
				root := tr.Root()
				if tr.Method != "GET" || tr.StatusCode != 200 || tr.Error || tr.Incomplete || tr.Pool != s.Pool {
					t.Errorf("%s: summary %+v", r.request, tr.Summary)
				}
				if root.Name != "GET "+r.path || root.Attributes[trace.AttrPHPPool] != s.Pool {
					t.Errorf("%s: root span %q pool %v", r.request, root.Name, root.Attributes[trace.AttrPHPPool])
				}
				if got, _ := root.Attributes[trace.AttrPHPScript].(string); !strings.HasSuffix(got, "/tests/fixtures/app/index.php") {
					t.Errorf("%s: php.script = %q", r.request, got)
				}
				if got := root.Attributes[trace.AttrPHPVersion]; got != bin.Version {
					t.Errorf("%s: php.version = %v, want %s", r.request, got, bin.Version)
				}
				// HTTP_HOST, read from the FastCGI params like REQUEST_URI.
				if got := root.Attributes[trace.AttrServerAddress]; got != strings.TrimPrefix(s.URL(), "http://") {
					t.Errorf("%s: server.address = %v, want the Host header", r.request, got)
				}
			}
			checkSQLAndFlameGraph(t, a, s)
		})
	}
}

// TestSQLAndFlameGraphWithDTraceFunctionProbesEnabled runs the always-on
// checks on 8.2 started with USE_ZEND_DTRACE=1 (which turns the JIT off and
// makes PHP call its function probes' semaphore checks): the same spans and
// profiles come out. TestIOSpansWithCallSites and the flame graph test cover
// 8.2 without it.
func TestSQLAndFlameGraphWithDTraceFunctionProbesEnabled(t *testing.T) {
	s := startFixture(t, stack.StackOptions{FPMEnv: []string{"USE_ZEND_DTRACE=1"}, FPMIniArgs: jitOn, WithMariaDB: true})
	a := startAgent(t, s, "--profile-hz", "499")
	checkSQLAndFlameGraph(t, a, s)
}

// checkSQLAndFlameGraph asserts, for whatever PHP the stack runs, a SQL span
// with its PHP call site and a sampled flame graph whose hottest function is
// the one the fixture burns CPU in.
func checkSQLAndFlameGraph(t *testing.T, a *agentProc, s *stack.Stack) {
	t.Helper()
	if code, body := get(t, s, "/io/sql.php"); code != 200 {
		t.Fatalf("io/sql.php: %d %s", code, body)
	}
	tr := a.onlyTrace(t, "/io/sql.php")
	count := ioSpan(t, tr, trace.AttrDBQueryText, "SELECT COUNT(*) FROM posts")
	checkSite(t, count, "count_posts", "io/sql.php", 14)
	if count.Attributes[trace.AttrDBSystem] != "mysql" || count.Attributes[trace.AttrDBNamespace] != "tusk_fixture" {
		t.Errorf("SQL span attributes %v", count.Attributes)
	}

	if code, _ := get(t, s, "/burn.php?ms=300"); code != 200 {
		t.Fatal("burn.php failed")
	}
	burn := a.onlyTrace(t, "/burn.php")
	var fg *agentapi.Flamegraph
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		var err error
		if fg, err = a.client.TraceProfile(context.Background(), burn.TraceID, 0); err == nil && fg.Total > 0 {
			break
		}
	}
	if fg == nil || fg.Total < 10 {
		t.Fatalf("flame graph of burn.php: %+v", fg)
	}
	var hottest agentapi.FlameNode
	for _, n := range fg.Nodes {
		if n.Level > 0 && n.Self > hottest.Self {
			hottest = n
		}
	}
	if hottest.Label != "burn" || !strings.HasSuffix(hottest.File, "/tests/fixtures/app/burn.php") {
		t.Errorf("hottest function %+v of %d samples, want burn (burn.php)", hottest, fg.Total)
	}
}

// waitAttached waits until the agent traces the stack's pool with all its
// workers, in whatever mode it chose for the binary (waitTracing wants USDT),
// and returns the binary's status entry.
func waitAttached(t *testing.T, a *agentProc, s *stack.Stack) *agentapi.Binary {
	t.Helper()
	want := len(s.FPM.WorkerPIDs(s.Pool))
	var last *agentapi.Status
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-a.done:
			t.Fatalf("agent exited while starting: %v\n%s", err, a.log.String())
		default:
		}
		if st, err := a.client.Status(context.Background()); err == nil {
			last = st
			for i, b := range st.Binaries {
				for _, p := range b.Pools {
					if p.Name == s.Pool && b.Mode != "" && b.Mode != "none" && len(p.WorkerPIDs) >= want {
						return &st.Binaries[i]
					}
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("agent did not attach to pool %q within 20s; last status binaries: %+v", s.Pool, last)
	return nil
}
