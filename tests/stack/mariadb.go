package stack

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// MariaDBOptions configures a private mariadbd: datadir Dir/mariadb/data (created once with
// mariadb-install-db, reused afterwards), socket in Dir/run, TCP on 127.0.0.1 only.
type MariaDBOptions struct {
	Dir string
	// Binary defaults to mariadbd; the mariadb-install-db, mariadb-admin and mariadb clients are
	// taken from PATH.
	Binary string
	// Port on 127.0.0.1; 0 picks a free one.
	Port int
	// ExtraArgs are appended to mariadbd's arguments.
	ExtraArgs    []string
	StartTimeout time.Duration // default 60 s (includes the first mariadb-install-db)
	StopTimeout  time.Duration // SIGTERM (clean InnoDB shutdown) before SIGKILL; default 60 s
	Detach       bool
}

// MariaDB is a running mariadbd. Root connects through Socket without a password.
type MariaDB struct {
	PID      int
	Port     int
	Socket   string
	DataDir  string
	ErrorLog string
	proc     *process
}

// maxSocketPath is sun_path's size (108) minus the terminating NUL.
const maxSocketPath = 107

// StartMariaDB installs the datadir if needed, starts mariadbd with --no-defaults (nothing from
// /etc/mysql) and returns once `mariadb-admin ping` answers on the socket.
func StartMariaDB(ctx context.Context, opts MariaDBOptions) (*MariaDB, error) {
	if opts.Binary == "" {
		opts.Binary = "mariadbd"
	}
	l, err := prepareLayout(opts.Dir)
	if err != nil {
		return nil, err
	}
	m := &MariaDB{
		Port:     opts.Port,
		Socket:   l.run("mysqld.sock"),
		DataDir:  filepath.Join(l.Dir, "mariadb", "data"),
		ErrorLog: l.log("mariadb.err"),
	}
	if len(m.Socket) > maxSocketPath {
		return nil, fmt.Errorf("mariadb: socket path %s is longer than %d bytes: use a shorter base dir", m.Socket, maxSocketPath)
	}
	if m.Port == 0 {
		addr, err := FreeLoopbackAddr()
		if err != nil {
			return nil, err
		}
		_, port, _ := net.SplitHostPort(addr)
		m.Port, _ = strconv.Atoi(port)
	}
	if err := installDataDir(ctx, m.DataDir, l.log("mariadb-install-db.log")); err != nil {
		return nil, err
	}
	argv := append([]string{
		opts.Binary, "--no-defaults",
		"--datadir=" + m.DataDir,
		"--user=root",
		"--socket=" + m.Socket,
		"--port=" + strconv.Itoa(m.Port),
		"--bind-address=127.0.0.1",
		"--pid-file=" + l.run("mysqld.pid"),
		"--log-error=" + m.ErrorLog,
		"--skip-log-bin",
		"--skip-name-resolve",
		// A test database: flush the redo log once a second instead of at every commit.
		"--innodb-flush-log-at-trx-commit=2",
	}, opts.ExtraArgs...)
	m.proc, err = spawn(spawnSpec{
		Name:        "mariadbd",
		Argv:        argv,
		Output:      l.log("mariadb.out"),
		Logs:        []string{m.ErrorLog},
		StopSignal:  syscall.SIGTERM,
		StopTimeout: durationOr(opts.StopTimeout, 60*time.Second),
		Detach:      opts.Detach,
	})
	if err != nil {
		return nil, err
	}
	m.PID = m.proc.PID
	err = waitReady(ctx, readiness{
		What:    "mariadb-admin ping on " + m.Socket,
		Timeout: durationOr(opts.StartTimeout, 60*time.Second),
		Proc:    m.proc,
		Check: func(ctx context.Context) (bool, string) {
			out, err := exec.CommandContext(ctx, "mariadb-admin", "--no-defaults", "--protocol=socket",
				"--socket="+m.Socket, "--user=root", "--connect-timeout=2", "ping").CombinedOutput()
			if err != nil {
				return false, strings.TrimSpace(string(out))
			}
			return true, "alive"
		},
	})
	if err != nil {
		_ = m.Stop()
		return nil, fmt.Errorf("mariadb: %w", err)
	}
	return m, nil
}

// installDataDir runs mariadb-install-db once. A marker file written after it succeeded tells a complete
// datadir from one left by an interrupted install, which is removed and redone.
func installDataDir(ctx context.Context, dataDir, logPath string) error {
	marker := filepath.Join(filepath.Dir(dataDir), "installed")
	if _, err := os.Stat(marker); err == nil {
		return nil
	}
	if err := os.RemoveAll(dataDir); err != nil {
		return fmt.Errorf("mariadb: remove incomplete datadir: %w", err)
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return fmt.Errorf("mariadb: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "mariadb-install-db", "--no-defaults", "--datadir="+dataDir, "--user=root",
		"--auth-root-authentication-method=normal", "--skip-test-db", "--skip-name-resolve").CombinedOutput()
	_ = os.WriteFile(logPath, out, 0o644)
	if err != nil {
		return fmt.Errorf("mariadb-install-db into %s: %w\n--- tail of %s ---\n%s", dataDir, err, logPath, tailFile(logPath, tailLines))
	}
	return os.WriteFile(marker, []byte(time.Now().Format(time.RFC3339)+"\n"), 0o644)
}

// Addr is the TCP address, 127.0.0.1:<port>.
func (m *MariaDB) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(m.Port)) }

// DSN returns a go-sql-driver/mysql style DSN over TCP: user:password@tcp(127.0.0.1:port)/database.
func (m *MariaDB) DSN(user, password, database string) string {
	return fmt.Sprintf("%s:%s@tcp(%s)/%s", user, password, m.Addr(), database)
}

// Exec runs SQL statements (separated by ';') as root through the socket.
func (m *MariaDB) Exec(ctx context.Context, sql string) error {
	_, err := m.client(ctx, sql)
	return err
}

// Query runs SQL as root and returns the rows of the last result set, tab-split, without header.
// Values come as the mariadb client prints them in batch mode (NULL as "NULL", tabs/newlines escaped).
func (m *MariaDB) Query(ctx context.Context, sql string) ([][]string, error) {
	out, err := m.client(ctx, sql)
	if err != nil {
		return nil, err
	}
	var rows [][]string
	for line := range strings.Lines(out) {
		rows = append(rows, strings.Split(strings.TrimSuffix(line, "\n"), "\t"))
	}
	return rows, nil
}

func (m *MariaDB) client(ctx context.Context, sql string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "mariadb", "--no-defaults", "--protocol=socket", "--socket="+m.Socket,
		"--user=root", "--batch", "--skip-column-names")
	cmd.Stdin = strings.NewReader(sql)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("mariadb client: %w: %s (SQL: %.200s)", err, strings.TrimSpace(stderr.String()), sql)
	}
	return stdout.String(), nil
}

// LogTail returns the last lines of mariadbd's error log and stdout/stderr.
func (m *MariaDB) LogTail() string { return strings.TrimPrefix(logTails(m.proc.Logs), "\n") }

// Stop sends SIGTERM (clean shutdown), waits, SIGKILLs after the stop timeout; idempotent.
func (m *MariaDB) Stop() error { return m.proc.Stop() }
