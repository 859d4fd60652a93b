package discover

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// procFS is the little of /proc that discovery reads. dirFS serves both the
// real /proc and the fake trees of the tests; tests wrap it to inject what a
// fake tree cannot produce: permission errors (the tests run as root) and
// processes vanishing between two reads.
type procFS interface {
	pids() ([]int, error)
	readFile(pid int, name string) ([]byte, error)
	readlink(pid int, name string) (string, error)
	// statID follows the link <pid>/<name> and returns the device and inode
	// of the file it leads to.
	statID(pid int, name string) (BinaryID, error)
	path(pid int, name string) string
}

type dirFS struct{ root string }

var _ procFS = dirFS{}

func (d dirFS) path(pid int, name string) string {
	return filepath.Join(d.root, strconv.Itoa(pid), name)
}

func (d dirFS) pids() ([]int, error) {
	f, err := os.Open(d.root)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return nil, err
	}
	pids := make([]int, 0, len(names))
	for _, n := range names {
		if pid, err := strconv.Atoi(n); err == nil && pid > 0 {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}

// maxProcFile bounds what is read of one /proc file. The kernel writes
// stat, comm and cgroup, but a process makes its cmdline as long as it
// likes; the titles discovery reads ("php-fpm: pool www") are short.
const maxProcFile = 64 << 10

func (d dirFS) readFile(pid int, name string) ([]byte, error) {
	f, err := os.Open(d.path(pid, name))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, maxProcFile))
}

func (d dirFS) readlink(pid int, name string) (string, error) {
	return os.Readlink(d.path(pid, name))
}

func (d dirFS) statID(pid int, name string) (BinaryID, error) {
	return statBinaryID(d.path(pid, name))
}

// statBinaryID returns the device and inode of the file at p, following links.
func statBinaryID(p string) (BinaryID, error) {
	var st unix.Stat_t
	if err := unix.Stat(p, &st); err != nil {
		return BinaryID{}, &fs.PathError{Op: "stat", Path: p, Err: err}
	}
	return BinaryID{Dev: uint64(st.Dev), Ino: st.Ino}, nil
}

// pfKthread is PF_KTHREAD in the flags field of /proc/<pid>/stat.
const pfKthread = 0x00200000

// procStat holds the fields of /proc/<pid>/stat that discovery uses.
type procStat struct {
	comm      string
	state     byte
	ppid      int
	flags     uint64
	startTime uint64
}

// parseStat parses /proc/<pid>/stat. The comm field is free text and may hold
// spaces and parentheses, so it runs from the first '(' to the LAST ')'; the
// numbered fields are counted from there.
func parseStat(b []byte) (procStat, error) {
	open := bytes.IndexByte(b, '(')
	closing := bytes.LastIndexByte(b, ')')
	if open < 0 || closing < open {
		return procStat{}, errors.New("stat: no (comm)")
	}
	st := procStat{comm: string(b[open+1 : closing])}
	// fields[0] is field 3 (state) of proc(5), so field N is fields[N-3].
	fields := bytes.Fields(b[closing+1:])
	if len(fields) < 22-3+1 {
		return procStat{}, fmt.Errorf("stat: %d fields after comm, want at least 20", len(fields))
	}
	st.state = fields[0][0]
	var err error
	if st.ppid, err = strconv.Atoi(string(fields[4-3])); err != nil {
		return procStat{}, fmt.Errorf("stat: ppid: %w", err)
	}
	if st.flags, err = strconv.ParseUint(string(fields[9-3]), 10, 64); err != nil {
		return procStat{}, fmt.Errorf("stat: flags: %w", err)
	}
	if st.startTime, err = strconv.ParseUint(string(fields[22-3]), 10, 64); err != nil {
		return procStat{}, fmt.Errorf("stat: starttime: %w", err)
	}
	return st, nil
}

// cmdlineString turns the NUL-separated /proc/<pid>/cmdline into one line.
// php-fpm pads its title with NULs, hence the trim.
func cmdlineString(b []byte) string {
	return string(bytes.TrimSpace(bytes.ReplaceAll(b, []byte{0}, []byte{' '})))
}

// commString trims the newline the kernel appends to /proc/<pid>/comm.
func commString(b []byte) string { return string(bytes.TrimRight(b, "\n")) }
