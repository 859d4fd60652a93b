package agent

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/tusk-php/tusk/pkg/discover"
)

// Deep mode on chosen workers lowers their CPU priority while it is on. A
// deep worker spends ~8× the CPU per request (two uprobe hits per PHP
// call); at its pool-mates' priority it takes CPU from them, and on a busy
// host they wait behind it. At a higher nice value it runs on the CPU they
// leave: its own requests, the ones being looked at, wait instead. Measured
// on WordPress with 4 workers on 2 vCPUs (bench/README.md, "deep mode"), the
// others' wait for a CPU per request grew by 2.0 ms at nice 0 and by
// 0.8–1.0 ms at nice 10 or 19. Nice 10 (what nice(1) gives) is the default:
// at 19 the deep worker's own requests waited twice as long at saturation
// (p99 5.1 s against 2.3 s) for no measurable gain to the others.
//
// What the agent set is kept in a file next to its store, so an agent
// killed while deep mode was on puts the old values back when it starts
// again; a process that changed since (another start time, or another nice
// value set by someone else) is left alone.

// renicedProcess is a process whose nice value deep mode raised.
type renicedProcess struct {
	PID       int    `json:"pid"`
	StartTime uint64 `json:"startTime"`
	Was       int    `json:"was"`  // its nice value before
	Nice      int    `json:"nice"` // what deep mode set
}

// niceKeeper raises processes' nice values and puts them back. Its methods
// are safe for concurrent use and never take the agent's lock.
type niceKeeper struct {
	path     string // the state file
	procRoot string
	log      *slog.Logger

	mu   sync.Mutex
	done map[int]renicedProcess
}

func newNiceKeeper(path, procRoot string, log *slog.Logger) *niceKeeper {
	return &niceKeeper{path: path, procRoot: procRoot, log: log, done: map[int]renicedProcess{}}
}

// apply makes p run at nice (0..19) while deep mode is on, or puts back
// what it had (nice 0). A process already at nice or above is left as it
// is. Nothing is changed unless the state file could record it first.
func (k *niceKeeper) apply(p discover.Process, nice int) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if r, ok := k.done[p.PID]; ok {
		if r.StartTime == p.StartTime && r.Nice == nice {
			return nil
		}
		k.restoreLocked(r)
		if err := k.saveLocked(); err != nil {
			k.log.Warn("deep mode: could not update the record of reniced processes", "path", k.path, "error", err)
		}
	}
	if nice == 0 {
		return nil
	}
	was, err := processNice(p.PID)
	if err != nil {
		return fmt.Errorf("pid %d: reading its nice value: %w", p.PID, err)
	}
	if was >= nice {
		return nil
	}
	r := renicedProcess{PID: p.PID, StartTime: p.StartTime, Was: was, Nice: nice}
	k.done[p.PID] = r
	if err := k.saveLocked(); err != nil {
		delete(k.done, p.PID)
		return fmt.Errorf("pid %d: not reniced, its old nice value could not be recorded: %w", p.PID, err)
	}
	if err := k.setTasks(r, was, nice); err != nil {
		k.restoreLocked(r)
		_ = k.saveLocked()
		if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
			err = fmt.Errorf("%w (renicing another user's process needs CAP_SYS_NICE)", err)
		}
		return fmt.Errorf("pid %d: setting nice %d: %w", p.PID, nice, err)
	}
	return nil
}

// niceOf is the nice value deep mode runs p at, 0 if none.
func (k *niceKeeper) niceOf(p discover.Process) int {
	if k == nil { // agents built by unit tests
		return 0
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if r, ok := k.done[p.PID]; ok && r.StartTime == p.StartTime {
		return r.Nice
	}
	return 0
}

// forget drops what is known of a process that exited.
func (k *niceKeeper) forget(pid int) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, ok := k.done[pid]; ok {
		delete(k.done, pid)
		_ = k.saveLocked()
	}
}

// restoreAll puts every process back, as the agent stops.
func (k *niceKeeper) restoreAll() {
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, r := range k.done {
		k.restoreLocked(r)
	}
	_ = k.saveLocked()
}

// recover puts back what an agent that did not stop cleanly left raised. A
// state file that cannot be read is moved aside.
func (k *niceKeeper) recover() {
	b, err := os.ReadFile(k.path)
	if errors.Is(err, fs.ErrNotExist) {
		return
	}
	var left []renicedProcess
	if err == nil {
		err = json.Unmarshal(b, &left)
	}
	if err != nil {
		aside := k.path + ".corrupt"
		k.log.Warn("deep mode: the record of reniced processes is unreadable; moved aside, nothing put back",
			"path", k.path, "movedTo", aside, "error", err)
		_ = os.Rename(k.path, aside)
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, r := range left {
		k.done[r.PID] = r
		if k.restoreLocked(r) {
			k.log.Info("deep mode: put back the nice value a previous agent raised", "pid", r.PID, "nice", r.Was)
		}
	}
	if err := k.saveLocked(); err != nil {
		k.log.Warn("deep mode: could not update the record of reniced processes", "path", k.path, "error", err)
	}
}

// restoreLocked puts r's threads back to r.Was where they still run at
// r.Nice, unless r's PID now belongs to another process, and forgets r. It
// tells whether r's process was still there.
func (k *niceKeeper) restoreLocked(r renicedProcess) bool {
	delete(k.done, r.PID)
	if discover.Exited(discover.Options{ProcRoot: k.procRoot}, discover.Process{PID: r.PID, StartTime: r.StartTime}) {
		return false
	}
	if err := k.setTasks(r, r.Nice, r.Was); err != nil {
		k.log.Warn("deep mode: could not put a nice value back", "pid", r.PID, "nice", r.Was, "error", err)
	}
	return true
}

// setTasks sets nice to on each thread of r's process that runs at from:
// Linux keeps a nice value per thread, and a thread someone else reniced
// meanwhile keeps theirs.
func (k *niceKeeper) setTasks(r renicedProcess, from, to int) error {
	tids, err := threadIDs(filepath.Join(k.procRoot, strconv.Itoa(r.PID), "task"))
	if err != nil {
		return err
	}
	var errs []error
	for _, tid := range tids {
		// ESRCH: the thread exited since the listing.
		now, err := processNice(tid)
		if err == nil && now == from {
			err = unix.Setpriority(unix.PRIO_PROCESS, tid, to)
		}
		if err != nil && !errors.Is(err, unix.ESRCH) {
			errs = append(errs, fmt.Errorf("thread %d: %w", tid, err))
		}
	}
	return errors.Join(errs...)
}

// saveLocked writes what is reniced now, or removes the file when nothing
// is. A rename replaces the old record whole: a crash mid-write leaves the
// old one.
func (k *niceKeeper) saveLocked() error {
	if len(k.done) == 0 {
		if err := os.Remove(k.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	}
	list := slices.SortedFunc(maps.Values(k.done), func(x, y renicedProcess) int { return x.PID - y.PID })
	b, err := json.Marshal(list)
	if err != nil {
		return err
	}
	tmp := k.path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, k.path)
}

// processNice is the nice value of a thread (a PID names its main thread).
// The system call returns 20 − nice so that it is never negative.
func processNice(tid int) (int, error) {
	prio, err := unix.Getpriority(unix.PRIO_PROCESS, tid)
	if err != nil {
		return 0, err
	}
	return 20 - prio, nil
}
