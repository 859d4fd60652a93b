package discover

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// Helpers to run a real php-fpm for the tests on the real /proc. Other
// php-fpm instances may run on the same machine: everything here goes by the
// PID the test started, never by name.

const fpmWorkers = 2

// realFPMBinary returns the resolved path of php-fpm8.2, or skips.
func realFPMBinary(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: php-fpm switches its workers to www-data")
	}
	bin, err := exec.LookPath("php-fpm8.2")
	if err != nil {
		t.Skip("php-fpm8.2 is not installed")
	}
	real, err := filepath.EvalSymlinks(bin)
	must(t, err)
	return real
}

// writeFPMConfig writes a minimal php-fpm config with one static pool "disc"
// and returns its path and the error log's.
func writeFPMConfig(t *testing.T) (conf, errorLog string) {
	t.Helper()
	dir := t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	must(t, l.Close())
	conf, errorLog = filepath.Join(dir, "php-fpm.conf"), filepath.Join(dir, "error.log")
	text := fmt.Sprintf(`[global]
daemonize = no
error_log = %s
pid = %s

[disc]
listen = 127.0.0.1:%d
pm = static
pm.max_children = %d
user = www-data
group = www-data
`, errorLog, filepath.Join(dir, "php-fpm.pid"), port, fpmWorkers)
	must(t, os.WriteFile(conf, []byte(text), 0o644))
	return conf, errorLog
}

// startFPM starts cmd, which must end up running php-fpm in the foreground in
// the same PID, waits until its master has titled both workers, and returns
// the master's PID. Cleanup stops that master (and, if it had to be killed,
// the workers it left).
func startFPM(t *testing.T, cmd *exec.Cmd, errorLog string) int {
	t.Helper()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	must(t, cmd.Start())
	master := cmd.Process.Pid
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { stopFPM(t, cmd, master, exited) })

	deadline := time.Now().Add(10 * time.Second)
	for {
		procs, _ := Scan(Options{PIDs: []int{master}})
		if countPool(procs, "disc") == fpmWorkers {
			return master
		}
		select {
		case err := <-exited:
			exited <- err
			log, _ := os.ReadFile(errorLog)
			t.Fatalf("php-fpm exited early: %v\n%s\n%s", err, out.String(), log)
		default:
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(errorLog)
			t.Fatalf("php-fpm %d: no %d workers after 10s; saw %+v\n%s", master, fpmWorkers, procs, log)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func stopFPM(t *testing.T, cmd *exec.Cmd, master int, exited chan error) {
	workers, _ := Scan(Options{PIDs: []int{master}})
	_ = cmd.Process.Signal(syscall.SIGQUIT) // graceful: the master reaps its workers
	select {
	case <-exited:
		return
	case <-time.After(5 * time.Second):
	}
	t.Logf("php-fpm %d ignored SIGQUIT; killing it and its workers", master)
	_ = cmd.Process.Kill()
	<-exited
	for _, w := range workers {
		// Only if the PID is still that worker, not a reuse.
		if p, err := Lookup(Options{}, w.PID); err == nil && p.StartTime == w.StartTime {
			_ = syscall.Kill(w.PID, syscall.SIGKILL)
		}
	}
}

func countPool(procs []Process, pool string) int {
	n := 0
	for _, p := range procs {
		if p.Role == RoleFPMWorker && p.Pool == pool {
			n++
		}
	}
	return n
}

func ownMountNS(t *testing.T) string {
	t.Helper()
	ns, err := os.Readlink("/proc/self/ns/mnt")
	must(t, err)
	return ns
}
