package agent

import (
	"context"
	"slices"
	"strings"

	"github.com/tusk-php/tusk/pkg/agentapi"
	"github.com/tusk-php/tusk/pkg/discover"
)

// Status serves GET /api/v1/status: binaries with their mode and pools,
// attached probes, event counters and the store.
func (a *Agent) Status(context.Context) (*agentapi.Status, error) {
	st := &agentapi.Status{
		Version:   Version,
		Host:      a.host,
		StartedAt: a.startedAt,
		Binaries:  []agentapi.Binary{},
		Probes:    []agentapi.Probe{},
	}
	lost, err := a.tracer.LostPerCPU()
	if err != nil {
		a.log.Warn("status", "error", err)
	}
	st.Events = agentapi.Events{
		Total:      a.loop.events.Load(),
		PerSecond:  a.loop.rate(),
		LostPerCPU: lost,
		RingBytes:  a.tracer.RingBytes(),
	}
	for _, n := range lost {
		st.Events.Lost += n
	}
	st.Events.SymbolsLimited = a.symbolsLimited()
	s := a.store.Stats()
	st.Store = agentapi.Store{
		Path: s.Path, SizeBytes: s.SizeBytes, Traces: s.Traces, Written: s.Written,
		Dropped: s.Dropped, WriteErrors: s.WriteErrors, LastError: s.LastError,
	}

	a.mu.Lock()
	defer a.mu.Unlock()
	procs := make([]discover.Process, 0, len(a.processes))
	for _, p := range a.processes {
		procs = append(procs, p)
	}
	groups := map[discover.BinaryID]discover.Binary{}
	for _, g := range discover.Group(procs) {
		groups[g.ID] = g
	}
	for id, b := range a.binaries {
		st.Binaries = append(st.Binaries, a.binaryStatus(b, groups[id]))
		if b.attachment != nil {
			for _, p := range b.attachment.Probes() {
				st.Probes = append(st.Probes, agentapi.Probe{Binary: b.exe, Name: p.Name, Offset: p.Offset, PID: p.PID})
			}
		}
		if b.io != nil {
			for _, p := range b.io.Probes() {
				st.Probes = append(st.Probes, agentapi.Probe{Binary: b.exe, Name: p.Name, Offset: p.Offset, PID: p.PID})
			}
		}
	}
	for _, g := range a.grants {
		for pid, d := range g.attached {
			for _, p := range d.Probes() {
				st.Probes = append(st.Probes, agentapi.Probe{Binary: a.processes[pid].Exe, Name: p.Name, Offset: p.Offset, PID: p.PID})
			}
		}
	}
	slices.SortFunc(st.Binaries, func(x, y agentapi.Binary) int { return strings.Compare(x.ID, y.ID) })
	st.DeepModes = a.deepModesLocked()
	if a.kube != nil {
		st.Kubernetes = a.kubeStatus()
	}
	st.Export = a.exportStatus()
	st.Capabilities = a.caps
	st.Profiling = agentapi.Profiling{Enabled: a.sampler != nil, Hz: a.cfg.Profiling.Hz, Error: a.samplerErr}
	if a.sampler != nil {
		st.Profiling.CPUs = a.sampler.CPUs()
	}
	return st, nil
}

func (a *Agent) binaryStatus(b *binaryState, g discover.Binary) agentapi.Binary {
	out := agentapi.Binary{Path: b.exe, ID: b.id.String(), Mode: b.mode, ModeReason: b.reason, Pools: []agentapi.Pool{},
		IOHooks: []string{}, IOReason: b.ioReason}
	if b.io != nil {
		out.IOHooks = append(out.IOHooks, b.io.Attached...)
	}
	if b.attachment != nil {
		out.StackWalk = b.attachment.StackOffsets
	}
	if b.info != nil {
		out.Version, out.ZTS, out.SAPI = b.info.Version, b.info.ZTS, b.info.SAPI
		out.DTrace = b.info.HasProbe("php", "request__startup")
	}
	probePID := 0
	for _, pg := range g.Pools {
		pool := agentapi.Pool{Name: pg.Name, Service: a.serviceName(pg.Name), MasterPID: pg.MasterPID, WorkerPIDs: pg.Workers, MountNamespace: pg.MountNS}
		if a.kube != nil {
			a.kube.poolFields(&pool, pg)
		}
		out.Pools = append(out.Pools, pool)
		if probePID == 0 && len(pg.Workers) > 0 {
			probePID = pg.Workers[0]
		}
	}
	if b.attachment != nil && probePID != 0 {
		out.DeepAvailable, out.DeepReason = a.deepAvailable(b, probePID)
	} else if b.attachment != nil {
		out.DeepReason = "no running process to check"
	}
	return out
}
