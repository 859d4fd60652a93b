package stack

import (
	"slices"
	"strings"
	"testing"
)

func TestRenderFPMConfig(t *testing.T) {
	got, err := renderFPMConfig(fpmConfig{
		PIDFile:  "/tmp/s/run/php-fpm.pid",
		ErrorLog: "/tmp/s/log/php-fpm.log",
		Pools: []Pool{
			Pool{Name: "fixture", Listen: "127.0.0.1:9001"}.withDefaults(),
			Pool{Name: "other", Listen: "/tmp/s/run/other.sock", Workers: 4, MaxRequests: 100, User: "nobody",
				PHPAdminValues: map[string]string{"memory_limit": "64M", "error_log": "/tmp/s/log/php.log"}}.withDefaults(),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "php-fpm.conf", got)
}

func TestRenderFPMConfigRejectsBadPools(t *testing.T) {
	for _, pools := range [][]Pool{
		{{Name: ""}},
		{{Name: "a b"}},
		{{Name: "x"}, {Name: "x"}},
	} {
		if _, err := renderFPMConfig(fpmConfig{Pools: pools}); err == nil {
			t.Errorf("pools %+v: want an error", pools)
		}
	}
}

func TestIniFlags(t *testing.T) {
	got, err := iniFlags([]string{"opcache.enable=0", "-d opcache.jit=off", "-dmemory_limit=1G"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"-d", "opcache.enable=0", "-d", "opcache.jit=off", "-d", "memory_limit=1G"}
	if !slices.Equal(got, want) {
		t.Errorf("iniFlags = %q, want %q", got, want)
	}
	if _, err := iniFlags([]string{"opcache.enable"}); err == nil {
		t.Error("want an error without =")
	}
}

func TestRenderFPMConfigAccessLog(t *testing.T) {
	pool := Pool{Name: "wordpress", Listen: "127.0.0.1:9001", AccessLog: "/tmp/s/log/php-fpm-wordpress.access.log",
		AccessFormat: "%p %s %{micro}d %{total}C %r"}.withDefaults()
	got, err := renderFPMConfig(fpmConfig{PIDFile: "/p", ErrorLog: "/e", Pools: []Pool{pool}})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"\naccess.log = /tmp/s/log/php-fpm-wordpress.access.log\n",
		"\naccess.format = \"%p %s %{micro}d %{total}C %r\"\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("config lacks %q:\n%s", want, got)
		}
	}
	pool.AccessFormat = `"%p"`
	if _, err := renderFPMConfig(fpmConfig{Pools: []Pool{pool}}); err == nil {
		t.Error("want an error for a format with quotes")
	}
}
