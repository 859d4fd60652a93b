package stack

import (
	"slices"
	"strings"
	"testing"
)

func testFixtureConfig() FixtureConfig {
	return FixtureConfig{
		MySQL: &FixtureMySQL{Host: "127.0.0.1", Port: 3307, User: FixtureDBUser, Password: FixtureDBPassword, DB: FixtureDBName},
		Redis: &HostPort{"127.0.0.1", 6380}, Memcached: &HostPort{"127.0.0.1", 11212},
		HTTP: FixtureHTTP{BaseURL: "http://127.0.0.1:8080", RefusedURL: refusedURL},
	}
}

func TestFixtureConfigParams(t *testing.T) {
	var got []string
	for _, p := range testFixtureConfig().Params() {
		got = append(got, p.Name+"="+p.Value)
	}
	want := []string{
		"TUSK_HTTP_BASE_URL=http://127.0.0.1:8080", "TUSK_HTTP_REFUSED_URL=http://127.0.0.1:1/upstream/ok",
		"TUSK_MYSQL_HOST=127.0.0.1", "TUSK_MYSQL_PORT=3307", "TUSK_MYSQL_USER=tusk", "TUSK_MYSQL_PASSWORD=tuskpass",
		"TUSK_MYSQL_DB=tusk_fixture", "TUSK_REDIS_HOST=127.0.0.1", "TUSK_REDIS_PORT=6380",
		"TUSK_MEMCACHED_HOST=127.0.0.1", "TUSK_MEMCACHED_PORT=11212",
	}
	if !slices.Equal(got, want) {
		t.Errorf("params:\n got %q\nwant %q", got, want)
	}

	bare := FixtureConfig{HTTP: FixtureHTTP{BaseURL: "http://127.0.0.1:1234", RefusedURL: refusedURL}}.Params()
	if len(bare) != 2 || bare[0].Name != "TUSK_HTTP_BASE_URL" || bare[1].Name != "TUSK_HTTP_REFUSED_URL" {
		t.Errorf("without services: %v", bare)
	}
}

// TestRenderNginxConfigFixture is the fixture stack's nginx.conf with every service: the upstream routes
// go to the upstream pool, every PHP location gets the services' params.
func TestRenderNginxConfigFixture(t *testing.T) {
	c := testNginxConfig(SitePHP)
	c.FrontController = "/index.php"
	c.Params = append(testFixtureConfig().Params(), FastCGIParam{"HTTP_X_TEST", "$http_x_test"})
	c.Upstream = &UpstreamRoutes{FastCGI: "127.0.0.1:9001", SlowScript: fixtureSlowScript}
	got, err := renderNginxConfig(c)
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "nginx-fixture.conf", got)
}

func TestRenderNginxConfigUpstreamDefaultsToSitePool(t *testing.T) {
	c := testNginxConfig(SitePHP)
	c.Upstream = &UpstreamRoutes{SlowScript: "/slow.php"}
	got, err := renderNginxConfig(c)
	if err != nil {
		t.Fatal(err)
	}
	slow := got[strings.Index(got, "location = /upstream/slow"):]
	slow = slow[:strings.Index(slow, "}")]
	if !strings.Contains(slow, "fastcgi_pass 127.0.0.1:9000;") || !strings.Contains(slow, "$document_root/slow.php;") {
		t.Errorf("/upstream/slow location:\n%s", slow)
	}
	if strings.Count(got, "fastcgi_pass ") != 2 {
		t.Errorf("want fastcgi_pass in /upstream/slow and the .php location:\n%s", got)
	}
}

func TestRenderNginxConfigRejectsBadSlowScript(t *testing.T) {
	for _, script := range []string{"", "slow.php", "/a b.php", "/x.php;evil", "/$uri"} {
		c := testNginxConfig(SitePHP)
		c.Upstream = &UpstreamRoutes{SlowScript: script}
		if _, err := renderNginxConfig(c); err == nil {
			t.Errorf("slow script %q: want an error", script)
		}
	}
}

func TestFixtureDatabaseSQL(t *testing.T) {
	got := fixtureDatabaseSQL(FixtureDBName, FixtureDBUser, FixtureDBPassword)
	checkGolden(t, "fixture-schema.sql", got)
	if n := strings.Count(got, "'Post "); n != FixturePosts {
		t.Errorf("%d posts, want %d", n, FixturePosts)
	}
	if n := strings.Count(got, "'Comment "); n != FixturePosts*FixtureCommentsPerPost {
		t.Errorf("%d comments, want %d", n, FixturePosts*FixtureCommentsPerPost)
	}
}

func TestRenderRedisConfig(t *testing.T) {
	got := renderRedisConfig(redisConfig{Port: 6380, Dir: "/tmp/s/redis", PIDFile: "/tmp/s/run/redis.pid", LogFile: "/tmp/s/log/redis.log"})
	checkGolden(t, "redis.conf", got)
}

func TestMemcachedArgs(t *testing.T) {
	if got, want := strings.Join(memcachedArgs(11212, "nobody"), " "), "-l 127.0.0.1 -p 11212 -U 0 -m 64 -c 256 -u nobody"; got != want {
		t.Errorf("as root: %q, want %q", got, want)
	}
	if got := memcachedArgs(11212, ""); slices.Contains(got, "-u") {
		t.Errorf("without a user: %q", got)
	}
}

func TestWithIO(t *testing.T) {
	o := StackOptions{Workers: 3}.WithIO()
	if !o.WithMariaDB || !o.WithRedis || !o.WithMemcached || !o.WithUpstream || o.Workers != 3 {
		t.Errorf("WithIO() = %+v", o)
	}
}
