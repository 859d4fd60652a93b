package discover

import (
	"cmp"
	"slices"
)

// CLIPool names the group of a binary's php-cli processes.
const CLIPool = "cli"

// Binary is one PHP executable file and the processes running it: what the
// probes attach to, once per file however many processes or containers use it.
type Binary struct {
	ID BinaryID
	// OpenPath is the ExeOpenPath of the lowest-PID live process of the
	// binary; it stays valid only while that process lives.
	OpenPath string
	// Exe is that process's view of the path, for display.
	Exe   string
	Pools []PoolGroup
}

// PoolGroup is the workers of one fpm pool under one master, or the CLI
// processes of one binary in one mount namespace (Name CLIPool, MasterPID 0).
type PoolGroup struct {
	Name      string
	MasterPID int
	Workers   []int
	MountNS   string
	// PodUID and ContainerID are those of the group's first process (see
	// Process): a pool's workers share their master's container.
	PodUID, ContainerID string
}

// Group gathers processes by binary. fpm workers are grouped by (binary,
// master PID, pool name); CLI processes by (binary, mount namespace), which is
// one "cli" group per binary unless containers share an image layer. A master
// whose workers are not (yet) seen, as with pm=ondemand, adds its binary but
// no group. Binaries are sorted by ID, groups by master PID, name and mount
// namespace, PIDs ascending.
func Group(procs []Process) []Binary {
	sorted := slices.SortedFunc(slices.Values(procs), func(a, b Process) int { return a.PID - b.PID })
	type poolKey struct {
		id      BinaryID
		master  int
		name    string
		mountNS string
	}
	binaries := map[BinaryID]*Binary{}
	pools := map[poolKey]*PoolGroup{}
	for _, p := range sorted {
		b := binaries[p.BinaryID]
		if b == nil {
			b = &Binary{ID: p.BinaryID, OpenPath: p.ExeOpenPath, Exe: p.Exe}
			binaries[p.BinaryID] = b
		}
		var k poolKey
		switch p.Role {
		case RoleFPMWorker:
			k = poolKey{id: p.BinaryID, master: p.PPID, name: p.Pool}
		case RoleCLI:
			k = poolKey{id: p.BinaryID, name: CLIPool, mountNS: p.MountNS}
		default:
			continue
		}
		g := pools[k]
		if g == nil {
			g = &PoolGroup{Name: k.name, MasterPID: k.master, MountNS: p.MountNS, PodUID: p.PodUID, ContainerID: p.ContainerID}
			pools[k] = g
		}
		g.Workers = append(g.Workers, p.PID)
	}
	for k, g := range pools {
		b := binaries[k.id]
		b.Pools = append(b.Pools, *g)
	}

	out := make([]Binary, 0, len(binaries))
	for _, b := range binaries {
		slices.SortFunc(b.Pools, func(x, y PoolGroup) int {
			return cmp.Or(
				cmp.Compare(x.MasterPID, y.MasterPID),
				cmp.Compare(x.Name, y.Name),
				cmp.Compare(x.MountNS, y.MountNS))
		})
		out = append(out, *b)
	}
	slices.SortFunc(out, func(x, y Binary) int {
		return cmp.Or(cmp.Compare(x.ID.Dev, y.ID.Dev), cmp.Compare(x.ID.Ino, y.ID.Ino))
	})
	return out
}
