package discover

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// fakeProc is one process of a fake /proc tree.
type fakeProc struct {
	pid, ppid int
	comm      string
	argv      []string
	// exe is the target of the exe link; "" leaves the link out, as for a
	// kernel thread. Point it at a real file (fakeBinary) when the test needs
	// a BinaryID: the link is followed by stat.
	exe       string
	mountNS   string
	startTime uint64
	flags     uint64
	state     byte
	// cgroup is the content of <pid>/cgroup; "" leaves the file out.
	cgroup string
}

// writeFakeProc writes <root>/<pid>/{comm,cmdline,stat} and the exe and
// ns/mnt links the way the kernel shows them.
func writeFakeProc(t *testing.T, root string, p fakeProc) {
	t.Helper()
	dir := filepath.Join(root, strconv.Itoa(p.pid))
	must(t, os.MkdirAll(filepath.Join(dir, "ns"), 0o755))
	state := p.state
	if state == 0 {
		state = 'S'
	}
	// Fields 3..22 of proc(5), then two more as the kernel has dozens.
	stat := fmt.Sprintf("%d (%s) %c %d %d %d 0 -1 %d 0 0 0 0 0 0 0 0 20 0 1 0 %d 0 0\n",
		p.pid, p.comm, state, p.ppid, p.pid, p.pid, p.flags, p.startTime)
	must(t, os.WriteFile(filepath.Join(dir, "stat"), []byte(stat), 0o444))
	must(t, os.WriteFile(filepath.Join(dir, "comm"), []byte(p.comm+"\n"), 0o444))
	var cmdline string
	if len(p.argv) > 0 {
		cmdline = strings.Join(p.argv, "\x00") + "\x00"
	}
	must(t, os.WriteFile(filepath.Join(dir, "cmdline"), []byte(cmdline), 0o444))
	if p.cgroup != "" {
		must(t, os.WriteFile(filepath.Join(dir, "cgroup"), []byte(p.cgroup), 0o444))
	}
	if p.exe != "" {
		must(t, os.Symlink(p.exe, filepath.Join(dir, "exe")))
	}
	ns := p.mountNS
	if ns == "" {
		ns = "mnt:[4026531841]"
	}
	must(t, os.Symlink(ns, filepath.Join(dir, "ns", "mnt")))
}

// fakeBinary creates an empty file to stand for an executable and returns its
// path and identity.
func fakeBinary(t *testing.T, dir, name string) (string, BinaryID) {
	t.Helper()
	p := filepath.Join(dir, name)
	must(t, os.MkdirAll(dir, 0o755))
	must(t, os.WriteFile(p, nil, 0o755))
	id, err := statBinaryID(p)
	must(t, err)
	return p, id
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// faultFS injects errors a fake tree cannot produce when the tests run as
// root: permission denied, or a process vanishing between two reads. Keys are
// "<op> <pid>/<name>", op being read, readlink or stat.
type faultFS struct {
	procFS
	faults map[string]error
}

func (f faultFS) fault(op string, pid int, name string) error {
	return f.faults[fmt.Sprintf("%s %d/%s", op, pid, name)]
}

func (f faultFS) readFile(pid int, name string) ([]byte, error) {
	if err := f.fault("read", pid, name); err != nil {
		return nil, err
	}
	return f.procFS.readFile(pid, name)
}

func (f faultFS) readlink(pid int, name string) (string, error) {
	if err := f.fault("readlink", pid, name); err != nil {
		return "", err
	}
	return f.procFS.readlink(pid, name)
}

func (f faultFS) statID(pid int, name string) (BinaryID, error) {
	if err := f.fault("stat", pid, name); err != nil {
		return BinaryID{}, err
	}
	return f.procFS.statID(pid, name)
}

func removeFakeProc(root string, pid int) error {
	return os.RemoveAll(filepath.Join(root, strconv.Itoa(pid)))
}
