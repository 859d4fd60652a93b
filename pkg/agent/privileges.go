package agent

import (
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/tusk-php/tusk/pkg/agentapi"
	"github.com/tusk-php/tusk/pkg/privdrop"
)

// keptCapabilities are what the agent still uses once its BPF objects are
// loaded, its store is open and its API listens: it keeps attaching to new
// PHP binaries and workers, reading their memory, and may load the deep-mode
// and per-site I/O programs on first use. Everything else is dropped. The
// README's agent section says the same.
var keptCapabilities = privdrop.Of(
	// Loading programs later (deep mode, per-site I/O), map and link
	// system calls under the runtimes' default seccomp profiles.
	unix.CAP_BPF,
	// Attaching tracing programs, the sampler's perf events.
	unix.CAP_PERFMON,
	// Creating uprobes (kernels since the 2025 revert), and opening
	// /proc/<pid>/map_files/….
	unix.CAP_SYS_ADMIN,
	// /proc/<pid>/exe, root and mem of processes that are not the agent's
	// or hold capabilities it lacks.
	unix.CAP_SYS_PTRACE,
	// Opening /proc/<pid>/mem and map_files of a dumpable PHP process
	// owned by another user (php-cli, a php-fpm started as non-root): the
	// files are that user's, mode 0600. Read-only; only when the agent had
	// it (root), the DaemonSet does not add it.
	unix.CAP_DAC_READ_SEARCH,
	// Raising the nice value of a worker deep mode is on (another user's
	// process) and putting it back after (nice.go).
	unix.CAP_SYS_NICE,
)

// dropCapabilities gives up every capability but keptCapabilities, on every
// thread, and sets no_new_privs. Called once, from Run, before any PHP
// process is looked at. A failure is logged and shown in the status: the
// agent runs on with what it has.
func (a *Agent) dropCapabilities() {
	res, err := privdrop.Drop(keptCapabilities)
	if err != nil {
		a.log.Warn("capabilities not dropped", "error", err)
		a.caps = &agentapi.Capabilities{Kept: []string{}, Dropped: []string{}, Bounding: []string{}, Error: err.Error()}
		return
	}
	a.log.Info(fmt.Sprintf("dropped capabilities: %v; kept: %v", res.Dropped, res.Kept),
		"bounding", res.Bounding.String(), "no_new_privs", res.NoNewPrivs)
	a.caps = &agentapi.Capabilities{
		Kept:       res.Kept.Names(),
		Dropped:    res.Dropped.Names(),
		Bounding:   res.Bounding.Names(),
		NoNewPrivs: res.NoNewPrivs,
	}
}
