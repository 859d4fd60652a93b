// Package plugingrpc drives the plugin backend executable through the real
// Grafana plugin protocol: it builds dist/gpx_*, launches it with
// hashicorp/go-plugin and the SDK's handshake the way Grafana's plugin
// manager does, and calls the pluginv2 gRPC services (Data, Diagnostics,
// Resource). Tests that use it need only Go: no Grafana server.
package plugingrpc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"
)

// PluginJSON is the part of src/plugin.json this package needs.
type PluginJSON struct {
	ID         string `json:"id"`
	Type       string `json:"type"`
	Executable string `json:"executable"`
}

// ReadPluginJSON reads src/plugin.json of the repository at repoRoot.
func ReadPluginJSON(repoRoot string) (PluginJSON, error) {
	return readPluginJSON(filepath.Join(repoRoot, "src", "plugin.json"))
}

func readPluginJSON(path string) (PluginJSON, error) {
	var p PluginJSON
	raw, err := os.ReadFile(path)
	if err != nil {
		return p, err
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		return p, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// ExecutablePath is where the SDK's mage build puts the backend for
// linux/goarch: dist/<executable>_linux_<goarch>, with <executable> from
// src/plugin.json, or, like the SDK, from a nested src/datasource/plugin.json
// when the app's own plugin.json names none.
func ExecutablePath(repoRoot, goarch string) (string, error) {
	root, err := ReadPluginJSON(repoRoot)
	if err != nil {
		return "", err
	}
	rel := root.Executable
	if rel == "" {
		nested, err := readPluginJSON(filepath.Join(repoRoot, "src", "datasource", "plugin.json"))
		if err != nil || nested.Executable == "" {
			return "", fmt.Errorf("src/plugin.json has no \"executable\" (nor src/datasource/plugin.json)")
		}
		// Same rule as the SDK's build: "../x" means the dist root.
		if after, ok := strings.CutPrefix(nested.Executable, "../"); ok {
			rel = after
		} else {
			rel = filepath.Join("datasource", nested.Executable)
		}
	}
	return filepath.Join(repoRoot, "dist", fmt.Sprintf("%s_linux_%s", rel, goarch)), nil
}

// mageTarget is the SDK build target that builds the backend for
// linux/goarch only (a full build:all would cross-compile six platforms).
func mageTarget(goarch string) []string {
	switch goarch {
	case "amd64":
		return []string{"build:linux"}
	case "arm64":
		return []string{"build:linuxARM64"}
	case "arm":
		return []string{"build:linuxARM"}
	default:
		return []string{"build:custom", "linux", goarch}
	}
}

// Build compiles the plugin backend for this machine's architecture with
// the SDK's mage target (the same flags, tags and build info as a release)
// and returns the executable's path. mage's output is in the error when it
// fails.
func Build(ctx context.Context, repoRoot string) (exePath string, err error) {
	if runtime.GOOS != "linux" {
		return "", fmt.Errorf("plugingrpc builds the linux backend; this is %s", runtime.GOOS)
	}
	exePath, err = ExecutablePath(repoRoot, runtime.GOARCH)
	if err != nil {
		return "", err
	}
	args := append([]string{"tool", "mage", "-v"}, mageTarget(runtime.GOARCH)...)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = repoRoot
	// mage runs `go build` as a child: put both in a process group so that
	// a cancelled ctx stops the whole build, not just mage.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	if _, err := os.Stat(exePath); err != nil {
		return "", fmt.Errorf("mage succeeded but %w\n%s", err, out)
	}
	return exePath, nil
}

// RepoRoot is the checkout this package was compiled from, found from this
// source file's path, so tests run from any directory find dist/ and mage.
func RepoRoot() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", errors.New("no caller information to find the repository root")
	}
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", "..")), nil
}
