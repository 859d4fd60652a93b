package discover

import (
	"errors"
	"fmt"
	"io/fs"
	"syscall"
)

// Errors a Lookup can wrap; test with errors.Is. A permission problem wraps
// fs.ErrPermission.
var (
	ErrNoProcess = errors.New("no such process")
	ErrNotPHP    = errors.New("not a PHP process")
	ErrCLIOff    = errors.New("a PHP CLI process, but CLI discovery is off")
)

// Lookup validates a PID given by a user and returns its process, or an error
// that says why it will not be traced, e.g.
//
//	pid 123: no such process
//	pid 1 (systemd): not a PHP process (exe /usr/lib/systemd/systemd)
//
// An fpm master is returned alone; Scan with Options.PIDs adds its workers.
// Options.Exclude is not applied: the caller decides.
func Lookup(opts Options, pid int) (*Process, error) { return lookup(opts.fs(), opts, pid) }

func lookup(pfs procFS, opts Options, pid int) (*Process, error) {
	p, v, err := inspect(pfs, pid, opts.CLI, opts.Cgroups, nil)
	switch v {
	case found:
		return &p, nil
	case deniedAccess:
		return nil, fmt.Errorf("pid %d (%s): cannot inspect: %w", pid, p.Comm, err)
	case notPHP:
		if p.Comm == "" {
			p.Comm = readComm(pfs, pid) // inspect spares it on non-PHP processes
		}
		return nil, fmt.Errorf("pid %d (%s): %w (exe %s)", pid, p.Comm, ErrNotPHP, p.Exe)
	case cliOff:
		return nil, fmt.Errorf("pid %d (%s): %w (exe %s)", pid, p.Comm, ErrCLIOff, p.Exe)
	}
	return nil, whyGone(pfs, pid)
}

// whyGone explains a process without a readable exe: it does not exist (or
// just exited), it is a zombie, or it is a kernel thread.
func whyGone(pfs procFS, pid int) error {
	b, err := pfs.readFile(pid, "stat")
	if err != nil {
		return fmt.Errorf("pid %d: %w", pid, ErrNoProcess)
	}
	st, err := parseStat(b)
	switch {
	case err != nil:
		return fmt.Errorf("pid %d: %w", pid, ErrNoProcess)
	case st.flags&pfKthread != 0:
		return fmt.Errorf("pid %d (%s): %w (kernel thread)", pid, st.comm, ErrNotPHP)
	case st.state == 'Z':
		return fmt.Errorf("pid %d (%s): %w (exited, a zombie)", pid, st.comm, ErrNoProcess)
	}
	return fmt.Errorf("pid %d (%s): %w (it exited while being read)", pid, st.comm, ErrNoProcess)
}

func readComm(pfs procFS, pid int) string {
	b, err := pfs.readFile(pid, "comm")
	if err != nil {
		return "?"
	}
	return commString(b)
}

// Exited tells whether process p is gone: its PID is free, a zombie, or taken
// by another process (a different start time). When /proc cannot tell (an
// error other than "no such file"), p is taken to be alive.
func Exited(opts Options, p Process) bool { return exited(opts.fs(), p) }

func exited(pfs procFS, p Process) bool {
	b, err := pfs.readFile(p.PID, "stat")
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ESRCH) {
		return true
	}
	if err != nil {
		return false
	}
	st, err := parseStat(b)
	if err != nil {
		return false
	}
	return st.state == 'Z' || st.startTime != p.StartTime
}
