//go:build mage
// +build mage

package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/magefile/mage/mg"
	"github.com/magefile/mage/sh"

	// mage:import
	build "github.com/grafana/grafana-plugin-sdk-go/build"
)

// Default builds the Grafana plugin backend for every platform Grafana
// runs on, and the agent.
var Default = All

// All builds the plugin backend (dist/gpx_*) and the agent (bin/).
func All() {
	mg.Deps(build.BuildAll, Agent)
}

// agentArchs are the platforms the agent ships for: it needs Linux eBPF.
var agentArchs = []string{"amd64", "arm64"}

// Agent builds bin/tusk-agent_linux_<arch> and bin/tusk-agent for this machine.
func Agent() error {
	ldflags := "-s -w -X github.com/tusk-php/tusk/pkg/agent.Version=" + version()
	for _, arch := range agentArchs {
		env := map[string]string{"GOOS": "linux", "GOARCH": arch, "CGO_ENABLED": "0"}
		out := fmt.Sprintf("bin/tusk-agent_linux_%s", arch)
		if err := sh.RunWithV(env, "go", "build", "-trimpath", "-ldflags", ldflags, "-o", out, "./pkg/cmd/tusk-agent"); err != nil {
			return err
		}
	}
	return sh.RunWithV(map[string]string{"CGO_ENABLED": "0"}, "go", "build", "-trimpath", "-ldflags", ldflags, "-o", "bin/tusk-agent", "./pkg/cmd/tusk-agent")
}

// Generate recompiles the BPF programs (clang, libbpf-dev) and the Go
// bindings bpf2go makes for them.
func Generate() error {
	return sh.RunV("go", "generate", "./pkg/probes/")
}

// version is the plugin's package.json version plus the git commit.
func version() string {
	if v := os.Getenv("TUSK_VERSION"); v != "" {
		return v
	}
	commit, err := sh.Output("git", "rev-parse", "--short", "HEAD")
	if err != nil {
		return "dev"
	}
	return "dev-" + strings.TrimSpace(commit)
}
