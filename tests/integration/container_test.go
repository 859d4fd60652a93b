//go:build integration

package integration

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tusk-php/tusk/pkg/trace"
	"github.com/tusk-php/tusk/tests/stack"
)

// PHP in a container sees its binary at a path that does not exist on the
// host. php-fpm here runs in its own mount namespace from a bind mount that
// only that namespace has; the agent, on the host, must still find, attach
// and trace it (through /proc/<pid>/exe).
func TestTracesPHPInAnotherMountNamespace(t *testing.T) {
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Fatalf("unshare (util-linux) is needed: %v", err)
	}
	dir := tempDir(t, "tusk-ctr-")
	inside := filepath.Join(dir, "ctr-sbin") // empty on the host
	if err := os.Mkdir(inside, 0o755); err != nil {
		t.Fatal(err)
	}
	wrapper := filepath.Join(dir, "php-fpm-in-namespace")
	script := fmt.Sprintf(`#!/bin/sh
# Runs php-fpm in a new mount namespace from a path only that namespace has.
exec unshare --mount --propagation private sh -c 'mount --bind /usr/sbin %[1]s && exec %[1]s/php-fpm8.2 "$@"' php-fpm "$@"
`, inside)
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	fpm, err := stack.StartFPM(ctx, stack.FPMOptions{Dir: tempDir(t, "tusk-ctr-fpm-"), Binary: wrapper, Pools: []stack.Pool{{Name: "ctr", Workers: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	defer fpm.Stop()
	exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", fpm.MasterPID))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(exe, inside) {
		t.Fatalf("php-fpm runs %s, not from inside the namespace's mount", exe)
	}
	if _, err := os.Stat(exe); err == nil {
		t.Fatalf("%s exists on the host: the test would prove nothing", exe)
	}
	app, err := stack.FixtureAppDir()
	if err != nil {
		t.Fatal(err)
	}
	ngx, err := stack.StartNginx(ctx, stack.NginxOptions{Dir: tempDir(t, "tusk-ctr-nginx-"), Site: stack.SitePHP, Root: app, FastCGI: fpm.Listen("ctr")})
	if err != nil {
		t.Fatal(err)
	}
	defer ngx.Stop()

	a := launchAgent(t, tempDir(t, "tusk-agent-"), "--pid", fmt.Sprint(fpm.MasterPID))
	a.waitTracing(t, &stack.Stack{Pool: "ctr", FPM: fpm})
	st, err := a.client.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Binaries) != 1 || st.Binaries[0].Path != exe || st.Binaries[0].Pools[0].MountNamespace == "" {
		t.Fatalf("status binaries: %+v", st.Binaries)
	}
	self, _ := os.Readlink("/proc/self/ns/mnt")
	if ns := st.Binaries[0].Pools[0].MountNamespace; ns == self {
		t.Fatalf("pool reported in the agent's own mount namespace %s", ns)
	}

	resp, err := httpGet(ngx.URL() + "/index.php?from=container")
	if err != nil || resp != 200 {
		t.Fatalf("GET: %d %v", resp, err)
	}
	tr := a.onlyTrace(t, "/index.php")
	if tr.Pool != "ctr" || tr.StatusCode != 200 || tr.Root().Attributes[trace.AttrURLQuery] != "from=container" {
		t.Fatalf("trace %+v", tr.Summary)
	}
}
