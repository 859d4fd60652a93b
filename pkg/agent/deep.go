package agent

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/tusk-php/tusk/pkg/agentapi"
	"github.com/tusk-php/tusk/pkg/discover"
	"github.com/tusk-php/tusk/pkg/probes"
)

// grant is one deep-mode request: function probes on a pool's workers (new
// ones included) or on chosen PIDs, until it expires.
type grant struct {
	id        string
	pool      string
	pids      []int
	threshold time.Duration
	maxDepth  int
	expires   time.Time
	attached  map[int]*probes.DeepProbes
	nice      int    // nice value of its processes while it is on, 0: unchanged
	niceErr   string // the first reason a process of it kept its priority
}

// wants tells whether process p should have this grant's probes.
func (g *grant) wants(p discover.Process) bool {
	if g.pool != "" {
		return p.Role == discover.RoleFPMWorker && p.Pool == g.pool
	}
	return slices.Contains(g.pids, p.PID)
}

// take removes pid's probes from the grant and returns them (nil if it has
// none) for the caller to close with probes.CloseDeep once a.mu is released:
// closing uprobes waits for the kernel, and the event loop needs a.mu to name
// the process of every request.
func (g *grant) take(pid int) *probes.DeepProbes {
	d := g.attached[pid]
	delete(g.attached, pid)
	return d
}

// takeAll is take for every process of the grant.
func (g *grant) takeAll() []*probes.DeepProbes {
	out := make([]*probes.DeepProbes, 0, len(g.attached))
	for pid := range g.attached {
		out = append(out, g.take(pid))
	}
	return out
}

func (g *grant) api() agentapi.DeepMode {
	pids := g.attachedPIDs()
	slices.Sort(pids)
	return agentapi.DeepMode{
		ID: g.id, Pool: g.pool, PIDs: slices.Clone(g.pids),
		Threshold: agentapi.Duration(g.threshold), MaxDepth: g.maxDepth,
		ExpiresAt: g.expires, AttachedPIDs: pids, Nice: g.nice, NiceError: g.niceErr,
	}
}

// attachedPIDs lists the processes the grant's probes are on.
func (g *grant) attachedPIDs() []int {
	return slices.Collect(maps.Keys(g.attached))
}

// badRequest marks a validation error for the API (400).
func badRequest(format string, args ...any) error {
	return fmt.Errorf("%w: %s", agentapi.ErrBadRequest, fmt.Sprintf(format, args...))
}

// EnableDeepMode attaches function probes to a pool's workers or to chosen
// PIDs. Asking again for the same pool (or PID set) updates that grant:
// threshold, depth and expiry are settable live.
func (a *Agent) EnableDeepMode(_ context.Context, req agentapi.DeepModeRequest) (*agentapi.DeepMode, error) {
	if (req.Pool == "") == (len(req.PIDs) == 0) {
		return nil, badRequest("give either a pool or pids")
	}
	threshold := time.Duration(req.Threshold)
	if threshold == 0 {
		threshold = agentapi.DefaultDeepThreshold
	}
	maxDepth := req.MaxDepth
	if maxDepth == 0 {
		maxDepth = agentapi.DefaultDeepMaxDepth
	}
	dur := time.Duration(req.For)
	if dur == 0 {
		dur = agentapi.DefaultDeepFor
	}
	nice := 0
	switch {
	case req.Nice != nil:
		nice = *req.Nice
	case len(req.PIDs) > 0:
		nice = agentapi.DefaultDeepNice
	}
	switch {
	case nice < 0 || nice > 19:
		return nil, badRequest("nice %d is out of range 0..19", nice)
	case threshold < 0:
		return nil, badRequest("threshold %s is negative", threshold)
	case maxDepth < 1 || maxDepth > 128:
		return nil, badRequest("maxDepth %d is out of range 1..128", maxDepth)
	case dur < 0 || dur > agentapi.MaxDeepModeFor:
		return nil, badRequest("for %s is out of range (0, %s]", dur, agentapi.MaxDeepModeFor)
	}

	g, targets, err := a.grantFor(req, threshold, maxDepth, dur, nice)
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, p := range targets {
		if err := a.attachDeep(g, p); err != nil {
			errs = append(errs, err)
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(g.attached) == 0 {
		delete(a.grants, g.id)
		_ = a.applyDeepSettings()
		return nil, fmt.Errorf("deep mode could not attach to any process: %v", errs)
	}
	a.renice(g.attachedPIDs()...) // an updated grant may ask for another value
	a.log.Info("deep mode on", "id", g.id, "pool", g.pool, "pids", g.api().AttachedPIDs, "threshold", threshold, "until", g.expires.Format(time.RFC3339))
	out := g.api()
	return &out, nil
}

// grantFor creates or updates the grant a request names and returns it with
// the processes to attach to.
func (a *Agent) grantFor(req agentapi.DeepModeRequest, threshold time.Duration, maxDepth int, dur time.Duration, nice int) (*grant, []discover.Process, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	targets, err := a.deepTargets(req)
	if err != nil {
		return nil, nil, err
	}
	g := a.findGrant(req)
	if g == nil {
		a.nextGrant++
		g = &grant{id: "deep-" + strconv.Itoa(a.nextGrant), pool: req.Pool, pids: slices.Clone(req.PIDs), attached: map[int]*probes.DeepProbes{}}
		a.grants[g.id] = g
	}
	g.threshold, g.maxDepth, g.expires, g.nice, g.niceErr = threshold, maxDepth, time.Now().Add(dur), nice, ""
	if err := a.applyDeepSettings(); err != nil {
		return nil, nil, err
	}
	return g, targets, nil
}

// deepTargets finds the processes a request names and checks that function
// probes can fire there. Called with a.mu.
func (a *Agent) deepTargets(req agentapi.DeepModeRequest) ([]discover.Process, error) {
	var targets []discover.Process
	if req.Pool != "" {
		for _, p := range a.processes {
			if p.Role == discover.RoleFPMWorker && p.Pool == req.Pool {
				targets = append(targets, p)
			}
		}
		if len(targets) == 0 {
			return nil, badRequest("no php-fpm workers of pool %q are running (pools: %v)", req.Pool, a.poolNames())
		}
	} else {
		for _, pid := range req.PIDs {
			p, ok := a.processes[pid]
			if !ok {
				return nil, badRequest("pid %d is not a PHP process the agent traces", pid)
			}
			targets = append(targets, p)
		}
	}
	for _, p := range targets {
		b := a.binaries[p.BinaryID]
		if b == nil || b.attachment == nil {
			return nil, badRequest("pid %d: its PHP binary is not traced", p.PID)
		}
		if ok, why := a.deepAvailable(b, p.PID); !ok {
			return nil, badRequest("pid %d: %s", p.PID, why)
		}
	}
	slices.SortFunc(targets, func(x, y discover.Process) int { return x.PID - y.PID })
	return targets, nil
}

// attachDeep puts a grant's function probes on one process. Called without
// a.mu, which it holds only around its bookkeeping: attaching uprobes takes a
// while, and the event loop needs a.mu to name the process of every request.
// Probes attached to a process that exited meanwhile, or for a grant that
// ended, are closed again.
func (a *Agent) attachDeep(g *grant, p discover.Process) error {
	a.mu.Lock()
	_, done := g.attached[p.PID]
	b := a.binaries[p.BinaryID]
	a.mu.Unlock()
	if done {
		return nil
	}
	if b == nil || b.attachment == nil {
		return fmt.Errorf("pid %d: binary not traced", p.PID)
	}
	d, err := b.attachment.AttachDeep(p.PID, p.ExeOpenPath)
	if err != nil {
		a.log.Warn("deep mode: attach failed", "pid", p.PID, "error", err)
		return fmt.Errorf("pid %d: %w", p.PID, err)
	}
	a.mu.Lock()
	now, running := a.processes[p.PID]
	keep := running && now.StartTime == p.StartTime && a.grants[g.id] == g && g.attached[p.PID] == nil
	if keep {
		g.attached[p.PID] = d
		a.renice(p.PID)
	}
	a.mu.Unlock()
	if !keep {
		_ = d.Close()
	}
	return nil
}

func (a *Agent) findGrant(req agentapi.DeepModeRequest) *grant {
	for _, g := range a.grants {
		if req.Pool != "" && g.pool == req.Pool {
			return g
		}
		if req.Pool == "" && g.pool == "" && slices.Equal(sortedCopy(g.pids), sortedCopy(req.PIDs)) {
			return g
		}
	}
	return nil
}

func sortedCopy(s []int) []int {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}

// applyDeepSettings sets the BPF threshold and depth to the most detailed
// of the active grants (they share one setting in the kernel). Called with a.mu.
func (a *Agent) applyDeepSettings() error {
	threshold, depth := a.cfg.Deep.Threshold, a.cfg.Deep.MaxDepth
	first := true
	for _, g := range a.grants {
		if first || g.threshold < threshold {
			threshold = g.threshold
		}
		if first || g.maxDepth > depth {
			depth = g.maxDepth
		}
		first = false
	}
	return a.tracer.SetDeepSettings(threshold, depth)
}

// DisableDeepMode detaches a grant's probes now.
func (a *Agent) DisableDeepMode(_ context.Context, id string) error {
	a.mu.Lock()
	g, ok := a.grants[id]
	if !ok {
		a.mu.Unlock()
		return fmt.Errorf("%w: no deep mode %q", agentapi.ErrNotFound, id)
	}
	pids := g.attachedPIDs()
	detach := g.takeAll()
	delete(a.grants, id)
	a.renice(pids...)
	err := a.applyDeepSettings()
	a.mu.Unlock()
	_ = probes.CloseDeep(detach)
	a.log.Info("deep mode off", "id", id)
	return err
}

// DeepModes lists the active grants.
func (a *Agent) DeepModes(context.Context) ([]agentapi.DeepMode, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.deepModesLocked(), nil
}

func (a *Agent) deepModesLocked() []agentapi.DeepMode {
	out := make([]agentapi.DeepMode, 0, len(a.grants))
	for _, g := range a.grants {
		out = append(out, g.api())
	}
	slices.SortFunc(out, func(x, y agentapi.DeepMode) int { return x.ExpiresAt.Compare(y.ExpiresAt) })
	return out
}

// expireGrants ends deep mode that has run its time: it never stays on by
// itself. It returns the probes to close once a.mu is released. Called with
// a.mu.
func (a *Agent) expireGrants(now time.Time) []*probes.DeepProbes {
	var detach []*probes.DeepProbes
	for id, g := range a.grants {
		if now.Before(g.expires) {
			continue
		}
		pids := g.attachedPIDs()
		detach = append(detach, g.takeAll()...)
		delete(a.grants, id)
		a.renice(pids...)
		a.log.Info("deep mode expired", "id", id)
	}
	if len(detach) > 0 {
		_ = a.applyDeepSettings()
	}
	return detach
}

func (a *Agent) poolNames() []string {
	seen := map[string]bool{}
	var names []string
	for _, p := range a.processes {
		if p.Pool != "" && !seen[p.Pool] {
			seen[p.Pool] = true
			names = append(names, p.Pool)
		}
	}
	slices.Sort(names)
	return names
}

// renice runs each process at the highest nice value its grants ask for,
// or puts back what it had when none asks. Called with a.mu.
func (a *Agent) renice(pids ...int) {
	for _, pid := range pids {
		p, running := a.processes[pid]
		if !running {
			a.nice.forget(pid)
			continue
		}
		nice := 0
		var asking []*grant
		for _, g := range a.grants {
			if g.attached[pid] != nil && g.nice > 0 {
				nice = max(nice, g.nice)
				asking = append(asking, g)
			}
		}
		err := a.nice.apply(p, nice)
		if err == nil {
			continue
		}
		a.log.Warn("deep mode: the process keeps its CPU priority", "pid", pid, "error", err)
		for _, g := range asking {
			if g.niceErr == "" {
				g.niceErr = err.Error()
			}
		}
	}
}
