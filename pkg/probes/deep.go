package probes

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf/link"
)

// DeepProbes are the function probes of one binary, attached for one PID
// (or for every process of the binary when PID is 0).
type DeepProbes struct {
	a     *Attachment
	PID   int
	group linkGroup
}

// ErrNoFunctionProbes means the binary has no function__entry/return notes.
var ErrNoFunctionProbes = errors.New("this PHP build has no function__entry/function__return probes")

// AttachDeep attaches function__entry/return for pid (0: all processes of
// the binary). Uprobes opened for a PID trap only in that process, so the
// rest of the pool pays nothing. openPath opens the binary from the agent's
// mount namespace: /proc/<pid>/exe of the process itself, which is alive,
// unlike perhaps the one the binary was first attached through.
func (a *Attachment) AttachDeep(pid int, openPath string) (*DeepProbes, error) {
	if !a.Info.HasProbe(phpProvider, "function__entry") || !a.Info.HasProbe(phpProvider, "function__return") {
		return nil, ErrNoFunctionProbes
	}
	exe, err := link.OpenExecutable(openPath)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", openPath, err)
	}
	t := a.t
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.loadDeep(); err != nil {
		return nil, err
	}
	d := &DeepProbes{a: a, PID: pid}
	for _, ps := range deepProbes {
		if err := t.attachProbe(a, exe, &d.group, ps, pid); err != nil {
			t.closeGroup(&d.group)
			return nil, err
		}
	}
	return d, nil
}

// loadDeep loads the function programs on first use, sharing the request
// object's maps. Called with t.mu held.
func (t *Tracer) loadDeep() error {
	if t.deep != nil {
		return nil
	}
	spec, err := loadFunction()
	if err != nil {
		return err
	}
	spec.Maps[functionMapEvents].MaxEntries = uint32(t.ringSize) // must match the map it is replaced by
	var objs functionObjects
	if err := loadShared(spec, &objs, t.sharedMaps(), "function"); err != nil {
		return err
	}
	t.deep = &objs
	return nil
}

// Probes lists the function probes in place.
func (d *DeepProbes) Probes() []AttachedProbe {
	d.a.t.mu.Lock()
	defer d.a.t.mu.Unlock()
	return append([]AttachedProbe(nil), d.group.probes...)
}

// Close detaches the function probes.
func (d *DeepProbes) Close() error { return CloseDeep([]*DeepProbes{d}) }

// CloseDeep detaches the function probes of several processes at once. It
// waits for the kernel (closing a uprobe waits for an RCU grace period): the
// uprobes are closed concurrently, so the waits overlap, and without the
// tracer's lock, so that nothing else waits as well.
func CloseDeep(ds []*DeepProbes) error {
	if len(ds) == 0 {
		return nil
	}
	t := ds[0].a.t // one Tracer per agent
	groups := make([]*linkGroup, len(ds))
	for i, d := range ds {
		groups[i] = &d.group
	}
	t.mu.Lock()
	links := takeLinks(groups)
	t.mu.Unlock()
	errs := closeLinks(links)
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, g := range groups {
		errs = append(errs, t.closeGroup(g)) // frees the sites, now that no link uses them
	}
	return errors.Join(errs...)
}
