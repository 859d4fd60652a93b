package stack

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// RedisOptions configures a private redis-server: config Dir/redis.conf, working dir Dir/redis, TCP on
// 127.0.0.1 only, no persistence (a cache for tests: nothing is saved, nothing survives a restart).
type RedisOptions struct {
	Dir string
	// Binary defaults to redis-server.
	Binary string
	// Port on 127.0.0.1; 0 picks a free one.
	Port         int
	StartTimeout time.Duration // default 10 s
	StopTimeout  time.Duration // SIGTERM before SIGKILL; default 10 s
	Detach       bool
}

// Redis is a running redis-server.
type Redis struct {
	PID        int
	Port       int
	ConfigFile string
	LogFile    string
	proc       *process
}

// StartRedis writes Dir/redis.conf, starts redis-server in the foreground and returns once it answers
// PING with +PONG on its port.
func StartRedis(ctx context.Context, opts RedisOptions) (*Redis, error) {
	if opts.Binary == "" {
		opts.Binary = "redis-server"
	}
	l, err := prepareLayout(opts.Dir)
	if err != nil {
		return nil, err
	}
	r := &Redis{Port: opts.Port, ConfigFile: filepath.Join(l.Dir, "redis.conf"), LogFile: l.log("redis.log")}
	if r.Port == 0 {
		if r.Port, err = freeLoopbackPort(); err != nil {
			return nil, err
		}
	}
	workDir := filepath.Join(l.Dir, "redis")
	if err := os.MkdirAll(workDir, 0o755); err != nil {
		return nil, fmt.Errorf("redis: %w", err)
	}
	conf := renderRedisConfig(redisConfig{Port: r.Port, Dir: workDir, PIDFile: l.run("redis.pid"), LogFile: r.LogFile})
	if err := os.WriteFile(r.ConfigFile, []byte(conf), 0o644); err != nil {
		return nil, fmt.Errorf("redis: write config: %w", err)
	}
	r.proc, err = spawn(spawnSpec{
		Name:        "redis-server",
		Argv:        []string{opts.Binary, r.ConfigFile},
		Output:      l.log("redis.out"),
		Logs:        []string{r.LogFile},
		StopSignal:  syscall.SIGTERM,
		StopTimeout: durationOr(opts.StopTimeout, 10*time.Second),
		Detach:      opts.Detach,
	})
	if err != nil {
		return nil, err
	}
	r.PID = r.proc.PID
	err = waitReady(ctx, readiness{
		What:    "redis PING on " + r.Addr(),
		Timeout: durationOr(opts.StartTimeout, 10*time.Second),
		Proc:    r.proc,
		Check: func(ctx context.Context) (bool, string) {
			reply, err := lineCommand(ctx, r.Addr(), "PING\r\n")
			if err != nil {
				return false, err.Error()
			}
			if reply != "+PONG" {
				return false, fmt.Sprintf("PING answered %q: another server on %s?", reply, r.Addr())
			}
			return true, "+PONG"
		},
	})
	if err != nil {
		_ = r.Stop()
		return nil, fmt.Errorf("redis: %w", err)
	}
	return r, nil
}

// Addr is the TCP address, 127.0.0.1:<port>.
func (r *Redis) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(r.Port)) }

// LogTail returns the last lines of redis-server's log and stdout/stderr.
func (r *Redis) LogTail() string { return strings.TrimPrefix(logTails(r.proc.Logs), "\n") }

// Stop sends SIGTERM, waits, SIGKILLs after the stop timeout; idempotent.
func (r *Redis) Stop() error { return r.proc.Stop() }

type redisConfig struct {
	Port    int
	Dir     string // working dir (would hold dump.rdb; persistence is off)
	PIDFile string
	LogFile string
}

// renderRedisConfig writes redis.conf: loopback only, foreground, no snapshots or AOF.
func renderRedisConfig(c redisConfig) string {
	return fmt.Sprintf(`# Written by tests/stack; regenerated on every start.
bind 127.0.0.1
port %d
protected-mode yes
daemonize no
supervised no
pidfile %s
logfile %s
loglevel notice
dir %s
# A cache for tests: no RDB snapshots, no append-only file.
save ""
appendonly no
databases 16
`, c.Port, c.PIDFile, c.LogFile, c.Dir)
}

// lineCommand sends one text-protocol command (Redis inline command, memcached "version") and returns
// the first line of the answer without CRLF.
func lineCommand(ctx context.Context, addr, cmd string) (string, error) {
	d := net.Dialer{Timeout: 500 * time.Millisecond}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte(cmd)); err != nil {
		return "", err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// freeLoopbackPort is FreeLoopbackAddr's port.
func freeLoopbackPort() (int, error) {
	addr, err := FreeLoopbackAddr()
	if err != nil {
		return 0, err
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(port)
}
