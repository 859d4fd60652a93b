package agent

import (
	"github.com/tusk-php/tusk/pkg/assemble"
	"github.com/tusk-php/tusk/pkg/discover"
)

// describe names the process of a request for its trace: pool, service,
// PHP version, and with pod attribution its pod and container (from the
// cache: never waiting for the Kubernetes API). A process the kubernetes
// filter excludes (its binary is probed for other pods) is marked Drop.
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
			out.Drop = true
			return out
		}
		// A worker born since the last scan: read its title now.
		p, ok = a.lookupUnscanned(int(pid))
		if ok && a.kube != nil && a.kube.exclude(p) != "" {
			out.Drop = true
			return out
		}
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
	return out
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
	if len(a.unscanned) > 1024 { // the scanner is far behind; start over
		clear(a.unscanned)
	}
	a.unscanned[pid] = *p
	return *p, true
}
