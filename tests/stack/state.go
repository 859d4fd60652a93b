package stack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// State is DIR/state.json: enough for another process (tusk-stack down/status, a demo script, a test
// in another package) to find the services and stop them by PID.
type State struct {
	Kind      string    `json:"kind"` // "wordpress" or "fixture"
	Dir       string    `json:"dir"`
	URL       string    `json:"url"` // nginx, http://127.0.0.1:<port>
	StartedAt time.Time `json:"started_at"`
	// Processes in start order; they are stopped in reverse.
	Processes []ProcessRecord `json:"processes"`
	FPM       *FPMState       `json:"fpm,omitempty"`
	MariaDB   *MariaDBState   `json:"mariadb,omitempty"`
	Redis     *ServiceState   `json:"redis,omitempty"`
	Memcached *ServiceState   `json:"memcached,omitempty"`
	// WordPressConfigFiles are removed when the stack stops.
	WordPressConfigFiles []string `json:"wordpress_config_files,omitempty"`
	// Ready is false while the stack is still starting (state.json is written after each service).
	Ready bool `json:"ready"`
}

// ProcessRecord names one service's main process. StartTime (from /proc/<pid>/stat) guards against
// signalling an unrelated process that got the PID after ours exited.
type ProcessRecord struct {
	Name          string   `json:"name"`
	PID           int      `json:"pid"`
	StartTime     uint64   `json:"start_time"`
	StopSignal    int      `json:"stop_signal"`
	StopTimeoutMS int64    `json:"stop_timeout_ms"`
	Logs          []string `json:"logs"`
}

// FPMState describes the php-fpm master and its pool.
type FPMState struct {
	MasterPID  int      `json:"master_pid"`
	Pool       string   `json:"pool"`
	Listen     string   `json:"listen"`
	WorkerPIDs []int    `json:"worker_pids"` // at startup; see State.LiveWorkerPIDs
	Env        []string `json:"env,omitempty"`
	IniArgs    []string `json:"ini_args,omitempty"`
}

// MariaDBState describes the database server.
type MariaDBState struct {
	PID    int    `json:"pid"`
	Addr   string `json:"addr"`
	Socket string `json:"socket"`
	DSN    string `json:"dsn"` // the WordPress user's, or the fixture's (tusk@…/tusk_fixture)
}

// ServiceState describes a server that needs nothing but its address (Redis, memcached).
type ServiceState struct {
	PID  int    `json:"pid"`
	Addr string `json:"addr"`
}

// ErrAlreadyRunning is returned when DIR/state.json names live processes.
var ErrAlreadyRunning = errors.New("a stack is already running in this dir")

// StatePath is where a stack in dir records itself.
func StatePath(dir string) string { return filepath.Join(dir, "state.json") }

// LoadState reads DIR/state.json; the error wraps fs.ErrNotExist when no stack was recorded there.
func LoadState(dir string) (*State, error) {
	raw, err := os.ReadFile(StatePath(dir))
	if err != nil {
		return nil, err
	}
	var s State
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", StatePath(dir), err)
	}
	return &s, nil
}

func (s *State) write() error {
	raw, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(StatePath(s.Dir), append(raw, '\n'), 0o644)
}

// Alive reports whether the recorded process still runs (same PID and start time, not a zombie).
func (r ProcessRecord) Alive() bool { return adopt(r).Alive() }

// AnyAlive reports whether any recorded process still runs.
func (s *State) AnyAlive() bool {
	for _, p := range s.Processes {
		if p.Alive() {
			return true
		}
	}
	return false
}

// LiveWorkerPIDs reads the php-fpm pool's current workers from /proc.
func (s *State) LiveWorkerPIDs() []int {
	if s.FPM == nil {
		return nil
	}
	for _, p := range s.Processes {
		if p.PID == s.FPM.MasterPID && !p.Alive() {
			return nil
		}
	}
	return childrenWithCmdline(s.FPM.MasterPID, "php-fpm: pool "+s.FPM.Pool)
}

// StopDir stops the stack recorded in dir (newest service first), removes its WordPress config files and
// its state.json. A dir without state.json, or whose processes are gone already, is not an error.
func StopDir(ctx context.Context, dir string) error {
	unlock, err := lockDir(ctx, dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	}
	defer unlock()
	s, err := LoadState(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	procs := make([]*process, len(s.Processes))
	for i, r := range s.Processes {
		procs[i] = adopt(r)
	}
	return stopAll(procs, s)
}

// stopAll stops processes in reverse start order and, if all are gone, forgets the stack.
func stopAll(procs []*process, s *State) error {
	var errs []error
	for i := len(procs) - 1; i >= 0; i-- {
		if err := procs[i].Stop(); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...) // keep state.json: it still names what is running
	}
	for _, f := range s.WordPressConfigFiles {
		if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	if err := os.Remove(StatePath(s.Dir)); err != nil && !errors.Is(err, os.ErrNotExist) {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// lockDir serialises starting and stopping stacks in one dir (two `tusk-stack up` at once). The lock
// file is opened close-on-exec, so services started meanwhile do not inherit and hold it.
func lockDir(ctx context.Context, dir string) (unlock func(), err error) {
	f, err := os.OpenFile(filepath.Join(dir, "stack.lock"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	err = waitReady(ctx, readiness{
		What:    "the lock on " + f.Name() + " (another tusk-stack up/down in this dir?)",
		Timeout: 3 * time.Minute,
		Check: func(context.Context) (bool, string) {
			if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
				return false, err.Error()
			}
			return true, "locked"
		},
	})
	if err != nil {
		f.Close()
		return nil, err
	}
	return func() { f.Close() }, nil
}
