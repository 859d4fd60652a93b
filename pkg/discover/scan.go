package discover

import (
	"errors"
	"fmt"
	"io/fs"
	"slices"

	"github.com/tusk-php/tusk/pkg/kube"
)

// Options say where and what to look for.
type Options struct {
	// ProcRoot is where procfs is mounted; "" means "/proc". Tests point it at
	// a fake tree.
	ProcRoot string
	// CLI also reports php-cli processes (php, php8.2, ...).
	CLI bool
	// PIDs, when non-empty, limits discovery to these processes and, for an
	// fpm master among them, its workers.
	PIDs []int
	// Cgroups reads each PHP process's /proc/<pid>/cgroup for its pod and
	// container (Process.PodUID, ContainerID).
	Cgroups bool
	// Exclude, when set, is asked about every PHP process found; a
	// non-empty answer says why it must not be traced, and the process is
	// reported as Excluded instead. It is called on the scanning goroutine
	// and must not block.
	Exclude func(Process) string
}

// Excluded is a PHP process that Options.Exclude turned away, and why.
type Excluded struct {
	Process
	Reason string
}

func (o Options) fs() procFS {
	if o.ProcRoot == "" {
		return dirFS{root: "/proc"}
	}
	return dirFS{root: o.ProcRoot}
}

// DeniedError reports processes that look like PHP by name but that the agent
// was not allowed to inspect (reading /proc/<pid>/exe needs ptrace access: root
// with CAP_SYS_PTRACE, or the same user). Scan returns it together with the
// processes it could read; those are valid.
type DeniedError struct{ PIDs []int }

func (e *DeniedError) Error() string {
	return fmt.Sprintf("discover: %d PHP-looking process(es) could not be inspected, permission denied (pids %v); the agent needs root with CAP_SYS_PTRACE",
		len(e.PIDs), e.PIDs)
}

func (e *DeniedError) Unwrap() error { return fs.ErrPermission }

// Scan makes one pass over /proc and returns the PHP processes in PID order.
// Processes that exit during the pass are skipped silently, and so are those
// Options.Exclude turns away (ScanAll reports them). The error is a
// *DeniedError when some could not be read (the result is still valid), or
// another error when /proc itself could not be listed.
func Scan(opts Options) ([]Process, error) {
	procs, _, err := ScanAll(opts)
	return procs, err
}

// ScanAll is Scan that also returns the processes Options.Exclude turned
// away, in PID order.
func ScanAll(opts Options) ([]Process, []Excluded, error) { return scan(opts.fs(), opts) }

func scan(pfs procFS, opts Options) ([]Process, []Excluded, error) {
	pids, err := pfs.pids()
	if err != nil {
		return nil, nil, fmt.Errorf("discover: list processes: %w", err)
	}
	want := pidSet(opts.PIDs)
	var procs []Process
	var denied []int
	for _, pid := range pids {
		p, v, _ := inspect(pfs, pid, opts.CLI, opts.Cgroups, want)
		switch {
		case v == found:
			procs = append(procs, p)
		case v == deniedAccess && (suggestsPHP(p.Comm) || suggestsPHP(exeBase(p.Exe))) &&
			(want == nil || want[pid] || want[p.PPID]):
			denied = append(denied, pid)
		}
	}
	slices.SortFunc(procs, func(a, b Process) int { return a.PID - b.PID })
	procs = dropUntitledWorkers(procs)
	if want != nil {
		procs = keepWanted(procs, want)
	}
	var excluded []Excluded
	if opts.Exclude != nil {
		procs = slices.DeleteFunc(procs, func(p Process) bool {
			if why := opts.Exclude(p); why != "" {
				excluded = append(excluded, Excluded{Process: p, Reason: why})
				return true
			}
			return false
		})
	}
	if len(denied) > 0 {
		slices.Sort(denied)
		return procs, excluded, &DeniedError{PIDs: denied}
	}
	return procs, excluded, nil
}

// verdict is why inspect did or did not return a process; Lookup turns it
// into a message.
type verdict uint8

const (
	found        verdict = iota
	gone                 // no such process, it exited mid-read, or a kernel thread (no exe)
	deniedAccess         // EACCES/EPERM on one of its files
	notPHP
	cliOff  // a php-cli process while Options.CLI is off
	skipped // neither in Options.PIDs nor a child of one of them
)

// inspect reads one process, cheapest file first: the exe link (one
// readlink), and the rest only when the exe's name mentions php. On any
// verdict but found the Process holds what was read so far (Comm, Exe) for
// messages.
func inspect(pfs procFS, pid int, cli, cgroups bool, want map[int]bool) (Process, verdict, error) {
	p := Process{PID: pid}
	exe, err := pfs.readlink(pid, "exe")
	if err != nil {
		if v := failure(err); v == deniedAccess {
			// stat is world-readable: its comm tells whether the process
			// matters, its ppid whether it is within Options.PIDs.
			if b, err := pfs.readFile(pid, "stat"); err == nil {
				if st, err := parseStat(b); err == nil {
					p.Comm, p.PPID, p.StartTime = st.comm, st.ppid, st.startTime
				}
			}
			return p, v, err
		}
		return p, gone, err
	}
	p.Exe = exe
	base := exeBase(exe)
	if !suggestsPHP(base) {
		// comm is not read here: it would triple the cost of a scan (open,
		// read, close after one readlink) to catch only binaries exec'd
		// through a php-named symlink to a file named otherwise.
		return p, notPHP, nil
	}

	b, err := pfs.readFile(pid, "stat")
	if err != nil {
		return p, failure(err), err
	}
	st, err := parseStat(b)
	if err != nil {
		return p, gone, err
	}
	p.Comm, p.PPID, p.StartTime = st.comm, st.ppid, st.startTime
	if want != nil && !want[pid] && !want[p.PPID] {
		return p, skipped, nil
	}

	if b, err = pfs.readFile(pid, "cmdline"); err != nil {
		return p, failure(err), err
	}
	p.Cmdline = cmdlineString(b)
	if p.Role, p.Pool = classify(base, p.Cmdline, cli); p.Role == 0 {
		if isCLIExe(base) {
			return p, cliOff, nil
		}
		return p, notPHP, nil
	}

	if p.BinaryID, err = pfs.statID(pid, "exe"); err != nil {
		return p, failure(err), err
	}
	if p.MountNS, err = pfs.readlink(pid, "ns/mnt"); err != nil {
		return p, failure(err), err
	}
	p.ExeOpenPath = pfs.path(pid, "exe")
	if cgroups {
		// World-readable; a process without the file (or gone by now) is
		// simply in no pod: the next scan sees the truth.
		if b, err := pfs.readFile(pid, "cgroup"); err == nil {
			ref := kube.ParseCgroup(b)
			p.PodUID, p.ContainerID = ref.PodUID, ref.ContainerID
		}
	}
	return p, found, nil
}

// failure sorts a read error: permission problems are worth counting, any
// other error means the process is gone (ENOENT, ESRCH) or never had the
// file (a kernel thread has no exe).
func failure(err error) verdict {
	if errors.Is(err, fs.ErrPermission) {
		return deniedAccess
	}
	return gone
}

func pidSet(pids []int) map[int]bool {
	if len(pids) == 0 {
		return nil
	}
	set := make(map[int]bool, len(pids))
	for _, pid := range pids {
		set[pid] = true
	}
	return set
}

// dropUntitledWorkers removes "masters" whose parent is a master of the same
// binary: a worker between fork and renaming itself "pool <name>" still
// carries its master's title. The next scan sees it with its pool.
func dropUntitledWorkers(procs []Process) []Process {
	masters := mastersByPID(procs)
	return slices.DeleteFunc(procs, func(p Process) bool {
		parent, ok := masters[p.PPID]
		return p.Role == RoleFPMMaster && ok && parent.BinaryID == p.BinaryID
	})
}

// keepWanted keeps the wanted PIDs and the workers of wanted masters.
func keepWanted(procs []Process, want map[int]bool) []Process {
	masters := mastersByPID(procs)
	return slices.DeleteFunc(procs, func(p Process) bool {
		if want[p.PID] {
			return false
		}
		_, parentIsMaster := masters[p.PPID]
		return !(p.Role == RoleFPMWorker && want[p.PPID] && parentIsMaster)
	})
}

func mastersByPID(procs []Process) map[int]Process {
	masters := make(map[int]Process)
	for _, p := range procs {
		if p.Role == RoleFPMMaster {
			masters[p.PID] = p
		}
	}
	return masters
}
