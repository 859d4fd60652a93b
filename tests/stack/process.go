package stack

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// process is one service's main process (php-fpm master, nginx master, mariadbd). It is either our
// child (started here, reaped by Wait) or adopted from state.json by another tusk-stack invocation.
type process struct {
	Name      string
	PID       int
	StartTime uint64
	// StopSignal asks for a graceful stop (SIGQUIT for php-fpm and nginx, SIGTERM for mariadbd).
	StopSignal syscall.Signal
	// StopTimeout bounds the graceful stop; after it the whole process group gets SIGKILL.
	StopTimeout time.Duration
	Logs        []string // files whose tails explain a failure

	cmd      *exec.Cmd     // nil when adopted
	done     chan struct{} // closed once Wait returned (children only)
	waitErr  error
	stopOnce sync.Once
	stopErr  error
}

type spawnSpec struct {
	Name        string
	Argv        []string
	Env         []string // full environment; nil inherits ours
	Output      string   // stdout+stderr go to this file (appended)
	Logs        []string // more log files for failure reports; Output is added
	StopSignal  syscall.Signal
	StopTimeout time.Duration
	// Detach keeps the service running after this process exits (tusk-stack up). Otherwise the kernel
	// sends it SIGTERM when we die, so a crashed or killed test leaves nothing behind.
	Detach bool
}

// spawn starts a service in its own session (so it has its own process group, which Stop can clean
// up, and no controlling terminal that could hang it up).
func spawn(spec spawnSpec) (*process, error) {
	out, err := os.OpenFile(spec.Output, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("%s: open output log: %w", spec.Name, err)
	}
	defer out.Close()
	fmt.Fprintf(out, "--- %s: %s\n", time.Now().Format(time.RFC3339), strings.Join(spec.Argv, " "))

	cmd := exec.Command(spec.Argv[0], spec.Argv[1:]...)
	cmd.Env = spec.Env
	cmd.Stdout = out
	cmd.Stderr = out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if !spec.Detach {
		cmd.SysProcAttr.Pdeathsig = syscall.SIGTERM
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: start %s: %w", spec.Name, spec.Argv[0], err)
	}
	p := &process{
		Name:        spec.Name,
		PID:         cmd.Process.Pid,
		StopSignal:  spec.StopSignal,
		StopTimeout: spec.StopTimeout,
		Logs:        append([]string{spec.Output}, spec.Logs...),
		cmd:         cmd,
		done:        make(chan struct{}),
	}
	if st, err := readProcStat(p.PID); err == nil {
		p.StartTime = st.StartTime
	}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// adopt wraps a process recorded by another invocation; it is stopped by PID after checking its start time.
func adopt(r ProcessRecord) *process {
	return &process{
		Name:        r.Name,
		PID:         r.PID,
		StartTime:   r.StartTime,
		StopSignal:  syscall.Signal(r.StopSignal),
		StopTimeout: time.Duration(r.StopTimeoutMS) * time.Millisecond,
		Logs:        r.Logs,
	}
}

// Exited is closed when our child has exited; nil (blocks forever) for adopted processes.
func (p *process) Exited() <-chan struct{} {
	if p.done == nil {
		return nil
	}
	return p.done
}

// Alive reports whether the process still runs.
func (p *process) Alive() bool {
	if p.done == nil && p.StartTime == 0 {
		return false // adopted without a start time: it had exited when recorded; never signal its PID
	}
	if p.done != nil {
		select {
		case <-p.done:
			return false
		default:
		}
	}
	return processAlive(p.PID, p.StartTime)
}

// exitReport describes how a child ended, for "exited while waiting for …" errors.
func (p *process) exitReport() string {
	if p.done == nil {
		return "exited"
	}
	<-p.done
	if p.waitErr != nil {
		return "exited: " + p.waitErr.Error()
	}
	return "exited with status 0"
}

// Record is what state.json keeps so another process can stop this one.
func (p *process) Record() ProcessRecord {
	return ProcessRecord{
		Name:          p.Name,
		PID:           p.PID,
		StartTime:     p.StartTime,
		StopSignal:    int(p.StopSignal),
		StopTimeoutMS: p.StopTimeout.Milliseconds(),
		Logs:          p.Logs,
	}
}

// Stop sends the graceful signal, waits up to StopTimeout, then SIGKILLs the process group; it returns
// once the process and everything left in its group are gone. Safe to call more than once.
func (p *process) Stop() error {
	p.stopOnce.Do(func() { p.stopErr = p.stop() })
	return p.stopErr
}

const killWait = 5 * time.Second

func (p *process) stop() error {
	if p.Alive() {
		if err := p.signal(p.StopSignal); err != nil && !errors.Is(err, os.ErrProcessDone) && !errors.Is(err, syscall.ESRCH) {
			return fmt.Errorf("%s (pid %d): send %v: %w", p.Name, p.PID, p.StopSignal, err)
		}
		if !p.waitGone(p.StopTimeout) {
			// The leader is alive and verified, so its process group is ours: kill it whole.
			_ = syscall.Kill(-p.PID, syscall.SIGKILL)
			if !p.waitGone(killWait) {
				return fmt.Errorf("%s (pid %d) survived %v and SIGKILL for %v%s",
					p.Name, p.PID, p.StopSignal, killWait, logTails(p.Logs))
			}
			fmt.Fprintf(os.Stderr, "stack: %s (pid %d) still ran %v after signal %d (%v); killed\n", p.Name, p.PID, p.StopTimeout, int(p.StopSignal), p.StopSignal)
		}
	}
	return p.reapGroup()
}

func (p *process) signal(sig syscall.Signal) error {
	if p.cmd != nil {
		return p.cmd.Process.Signal(sig) // safe from PID reuse: not reaped yet, or ErrProcessDone
	}
	if !p.Alive() {
		return nil
	}
	return syscall.Kill(p.PID, sig)
}

func (p *process) waitGone(timeout time.Duration) bool {
	if p.done != nil {
		select {
		case <-p.done:
			return true
		case <-time.After(timeout):
			return false
		}
	}
	deadline := time.Now().Add(timeout)
	for p.Alive() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}

// reapGroup kills what a dead leader left in its group (php-fpm workers whose master was killed).
// It does nothing if the leader's PID now belongs to another process, whose group is not ours.
func (p *process) reapGroup() error {
	if p.StartTime == 0 {
		return nil // no start time, no way to tell our group from a later one with the same ID
	}
	if st, err := readProcStat(p.PID); err == nil && st.StartTime != p.StartTime {
		return nil
	}
	deadline := time.Now().Add(killWait)
	for {
		left := groupMembers(p.PID, p.StartTime)
		if len(left) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s (pid %d): %d processes of its group survived SIGKILL (first: pid %d)",
				p.Name, p.PID, len(left), left[0].PID)
		}
		for _, st := range left {
			_ = syscall.Kill(st.PID, syscall.SIGKILL)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
