package plugingrpc

import (
	"context"
	"errors"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
)

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// TestPluginSpeaksGrafanaProtocol builds the real backend executable and
// drives it as Grafana would. It asserts only what any version of the
// plugin must do, so it keeps passing while the plugin's features change:
// the handshake works, health checks and resource calls get answers over
// gRPC, and Close leaves no process behind.
func TestPluginSpeaksGrafanaProtocol(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the plugin executable with mage")
	}
	root := repoRoot(t)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()

	exe, err := Build(ctx, root)
	if err != nil {
		t.Fatal(err)
	}
	meta, err := ReadPluginJSON(root)
	if err != nil {
		t.Fatal(err)
	}

	startCtx, cancelStart := context.WithTimeout(ctx, 30*time.Second)
	defer cancelStart()
	p, err := Start(startCtx, exe)
	if err != nil {
		t.Fatal(err)
	}
	pid := p.Pid()
	t.Cleanup(func() {
		p.Close()
		if t.Failed() {
			t.Logf("plugin output:\n%s", p.Stderr())
		}
	})

	// What Grafana sends for an app plugin: its instance settings with the
	// provisioned (here: empty) jsonData.
	pluginCtx := backend.PluginContext{
		OrgID:    1,
		PluginID: meta.ID,
		User:     &backend.User{Login: "admin", Name: "admin", Role: "Admin"},
		AppInstanceSettings: &backend.AppInstanceSettings{
			JSONData:                []byte(`{}`),
			DecryptedSecureJSONData: map[string]string{},
			Updated:                 time.Now(),
		},
	}

	t.Run("CheckHealth", func(t *testing.T) {
		res, err := p.CheckHealth(ctx, &backend.CheckHealthRequest{PluginContext: pluginCtx})
		if err != nil {
			t.Fatalf("CheckHealth transport error: %v", err)
		}
		t.Logf("health: %s %q", res.Status, res.Message)
	})

	t.Run("CallResourceUnknownPath", func(t *testing.T) {
		const path = "plugingrpc-test/no-such-resource"
		res, err := p.CallResource(ctx, &backend.CallResourceRequest{
			PluginContext: pluginCtx,
			Path:          path,
			Method:        http.MethodGet,
			URL:           path + "?probe=1",
		})
		if err != nil {
			t.Fatalf("CallResource transport error: %v", err)
		}
		if res.Status != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404; body %q", path, res.Status, res.Body)
		}
	})

	if p.Exited() {
		t.Fatal("plugin exited while serving")
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if !p.Exited() {
		t.Error("Exited() is false after Close")
	}
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("plugin process %d still exists after Close (kill 0: %v)", pid, err)
	}
	if err := p.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}
