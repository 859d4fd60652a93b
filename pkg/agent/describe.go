package agent

import (
	"slices"

	"github.com/tusk-php/tusk/pkg/assemble"
	"github.com/tusk-php/tusk/pkg/discover"
)

// describe names the process of a request for its trace: pool, service,
// PHP version, and with pod attribution its pod and container (from the
// cache: never waiting for the Kubernetes API). A process the kubernetes
// filter excludes, or one the agent was not pointed at (its binary is probed
// for other processes), is marked Drop.
// Called from the event loop.
func (a *Agent) describe(binary, pid uint32) assemble.Process {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out assemble.Process
	if b := a.byIndex[binary]; b != nil {
		out.ProbeMode = b.mode
		if b.info != nil {
			out.PHPVersion = b.info.Version
		}
	}
	p, ok := a.processes[int(pid)]
	if !ok {
		if _, excluded := a.excluded[int(pid)]; excluded {
			a.markKnown(pid)
			out.Drop = true
			return out
		}
		// A worker born since the last scan: read its title now. The probes
		// fire in every process of the binary: one the agent was not pointed
		// at (Config.PIDs) is dropped like one the kubernetes filter excludes.
		p, ok = a.lookupUnscanned(int(pid))
		if ok && (!a.wanted(p) || a.kube != nil && a.kube.exclude(p) != "") {
			a.markKnown(pid)
			out.Drop = true
			return out
		}
	}
	if ok {
		a.markKnown(pid)
	}
	if ok && a.kube != nil {
		out.Attributes = a.kube.attributes(p)
	}
	switch {
	case ok && p.Role == discover.RoleCLI:
		out.Pool = discover.CLIPool
	case ok:
		out.Pool = p.Pool
	}
	out.Service = a.serviceName(out.Pool)
	if ok {
		out.DeepNice = a.nice.niceOf(p)
	}
	return out
}

// wanted tells whether p is among the processes the agent was pointed at:
// one of Config.PIDs or a worker of one; any process when none were given.
func (a *Agent) wanted(p discover.Process) bool {
	return len(a.cfg.PIDs) == 0 || slices.Contains(a.cfg.PIDs, p.PID) || slices.Contains(a.cfg.PIDs, p.PPID)
}

// markKnown tells the BPF side that pid is named: its requests need not
// wake the event loop at once any more (probes.Tracer.MarkKnown).
func (a *Agent) markKnown(pid uint32) {
	if a.tracer != nil { // nil in unit tests, which load no BPF
		a.tracer.MarkKnown(pid)
	}
}

// serviceName is the configured service of a pool, or the pool's own name.
func (a *Agent) serviceName(pool string) string {
	if s, ok := a.cfg.Services[pool]; ok && s != "" {
		return s
	}
	switch pool {
	case "":
		return "php"
	case discover.CLIPool:
		return "php-cli"
	}
	return pool
}

// lookupUnscanned reads a process the scanner has not seen yet, caching the
// answer until the scanner catches up. Called with a.mu.
func (a *Agent) lookupUnscanned(pid int) (discover.Process, bool) {
	if p, ok := a.unscanned[pid]; ok {
		return p, true
	}
	p, err := discover.Lookup(discover.Options{ProcRoot: a.procRoot, CLI: a.cfg.CLI, Cgroups: a.kube != nil}, pid)
	if err != nil {
		return discover.Process{}, false
	}
	if len(a.unscanned) > 1024 { // the scanner is far behind
		a.forgetExitedUnscanned()
		if len(a.unscanned) > 1024 { // start over: the live ones are looked up again
			clear(a.unscanned)
		}
	}
	a.unscanned[pid] = *p
	return *p, true
}

// forgetExitedUnscanned forgets the processes known only from their events
// that have exited. A worker born and gone between two scans (php-fpm's
// pm.max_requests under load) is never in a scan's Removed, so without this
// the event loop would keep its state, and its BPF thread entries, for good.
// Called with a.mu.
func (a *Agent) forgetExitedUnscanned() {
	opts := discover.Options{ProcRoot: a.procRoot}
	for pid, p := range a.unscanned {
		if discover.Exited(opts, p) {
			delete(a.unscanned, pid)
			a.loop.processGone(uint32(pid))
		}
	}
}
