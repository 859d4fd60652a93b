package stack

import "testing"

func testNginxConfig(site Site) nginxConfig {
	return nginxConfig{
		Listen: "127.0.0.1:8080", Root: "/srv/app", Site: site, FastCGI: "127.0.0.1:9000",
		User: "www-data", Token: "t0k3n", PIDFile: "/tmp/s/run/nginx.pid", ErrorLog: "/tmp/s/log/nginx-error.log",
		AccessLog: "/tmp/s/log/nginx-access.log", TempDir: "/tmp/s/nginx/tmp",
	}
}

func TestRenderNginxConfigPHP(t *testing.T) {
	c := testNginxConfig(SitePHP)
	c.Params = []FastCGIParam{{"HTTP_X_TEST", "$http_x_test"}, {"TUSK_LABEL", "two words"}}
	got, err := renderNginxConfig(c)
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "nginx-php.conf", got)
}

func TestRenderNginxConfigFrontControllerAndSocket(t *testing.T) {
	c := testNginxConfig(SitePHP)
	c.FrontController = "/index.php"
	c.FastCGI = "/tmp/s/run/fpm.sock"
	got, err := renderNginxConfig(c)
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "nginx-front-controller.conf", got)
}

func TestRenderNginxConfigWordPress(t *testing.T) {
	c := testNginxConfig(SiteWordPress)
	c.Root = wordpressRoot
	c.Params = []FastCGIParam{{"WORDPRESS_CONFIG", "tusk-0123456789ab"}}
	got, err := renderNginxConfig(c)
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "nginx-wordpress.conf", got)
}

func TestRenderNginxConfigRejectsUnsafeParams(t *testing.T) {
	for _, p := range []FastCGIParam{{"", "x"}, {"A B", "x"}, {"A", "x; evil"}, {"A", "}"}} {
		c := testNginxConfig(SitePHP)
		c.Params = []FastCGIParam{p}
		if _, err := renderNginxConfig(c); err == nil {
			t.Errorf("param %+v: want an error", p)
		}
	}
}
