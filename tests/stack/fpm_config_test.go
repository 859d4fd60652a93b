package stack

import (
	"slices"
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
