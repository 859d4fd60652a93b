package stack

import (
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// MemcachedOptions configures a private memcached: TCP on 127.0.0.1 only, UDP off, 64 MiB.
type MemcachedOptions struct {
	Dir string
	// Binary defaults to memcached.
	Binary string
	// Port on 127.0.0.1; 0 picks a free one.
	Port int
	// User the daemon switches to when started as root (memcached refuses to run as root); default nobody.
	User         string
	StartTimeout time.Duration // default 10 s
	StopTimeout  time.Duration // SIGTERM before SIGKILL; default 10 s
	Detach       bool
}

// Memcached is a running memcached.
type Memcached struct {
	PID     int
	Port    int
	LogFile string // stdout/stderr (memcached has no log file of its own)
	proc    *process
}

// StartMemcached starts memcached in the foreground and returns once it answers "version" on its port.
func StartMemcached(ctx context.Context, opts MemcachedOptions) (*Memcached, error) {
	if opts.Binary == "" {
		opts.Binary = "memcached"
	}
	if opts.User == "" {
		opts.User = "nobody"
	}
	l, err := prepareLayout(opts.Dir)
	if err != nil {
		return nil, err
	}
	m := &Memcached{Port: opts.Port, LogFile: l.log("memcached.out")}
	if m.Port == 0 {
		if m.Port, err = freeLoopbackPort(); err != nil {
			return nil, err
		}
	}
	user := ""
	if os.Geteuid() == 0 {
		user = opts.User
	}
	m.proc, err = spawn(spawnSpec{
		Name:        "memcached",
		Argv:        append([]string{opts.Binary}, memcachedArgs(m.Port, user)...),
		Output:      m.LogFile,
		StopSignal:  syscall.SIGTERM,
		StopTimeout: durationOr(opts.StopTimeout, 10*time.Second),
		Detach:      opts.Detach,
	})
	if err != nil {
		return nil, err
	}
	m.PID = m.proc.PID
	err = waitReady(ctx, readiness{
		What:    "memcached answering version on " + m.Addr(),
		Timeout: durationOr(opts.StartTimeout, 10*time.Second),
		Proc:    m.proc,
		Check: func(ctx context.Context) (bool, string) {
			reply, err := lineCommand(ctx, m.Addr(), "version\r\n")
			if err != nil {
				return false, err.Error()
			}
			if !strings.HasPrefix(reply, "VERSION ") {
				return false, fmt.Sprintf("version answered %q: another server on %s?", reply, m.Addr())
			}
			return true, reply
		},
	})
	if err != nil {
		_ = m.Stop()
		return nil, fmt.Errorf("memcached: %w", err)
	}
	return m, nil
}

// memcachedArgs are memcached's arguments: loopback TCP only, no UDP, 64 MiB, 256 connections.
func memcachedArgs(port int, user string) []string {
	args := []string{"-l", "127.0.0.1", "-p", strconv.Itoa(port), "-U", "0", "-m", "64", "-c", "256"}
	if user != "" {
		args = append(args, "-u", user)
	}
	return args
}

// Addr is the TCP address, 127.0.0.1:<port>.
func (m *Memcached) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(m.Port)) }

// LogTail returns the last lines of memcached's stdout/stderr.
func (m *Memcached) LogTail() string { return strings.TrimPrefix(logTails(m.proc.Logs), "\n") }

// Stop sends SIGTERM, waits, SIGKILLs after the stop timeout; idempotent.
func (m *Memcached) Stop() error { return m.proc.Stop() }
