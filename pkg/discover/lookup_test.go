package discover

import (
	"errors"
	"io/fs"
	"path/filepath"
	"syscall"
	"testing"
)

func TestLookupExplainsWhyAPIDIsNotTraced(t *testing.T) {
	h := newFakeHost(t)
	tests := []struct {
		pid  int
		cli  bool
		msg  string
		want error
	}{
		{123, false, "pid 123: no such process", ErrNoProcess},
		{1, false, "pid 1 (systemd): not a PHP process (exe /usr/lib/systemd/systemd)", ErrNotPHP},
		{2, false, "pid 2 (kthreadd): not a PHP process (kernel thread)", ErrNotPHP},
		{305, false, "pid 305 (php8.2): no such process (exited, a zombie)", ErrNoProcess},
		{300, false, "pid 300 (php (x) y)): a PHP CLI process, but CLI discovery is off (exe " + h.cli + ")", ErrCLIOff},
		{302, true, "pid 302 (php-cgi8.2): not a PHP process (exe " + filepath.Join(filepath.Dir(h.root), "usr/sbin/php-cgi8.2") + ")", ErrNotPHP},
	}
	for _, tt := range tests {
		p, err := Lookup(Options{ProcRoot: h.root, CLI: tt.cli}, tt.pid)
		if p != nil || !errors.Is(err, tt.want) {
			t.Errorf("Lookup(%d) = %v, %v; want an error wrapping %v", tt.pid, p, err, tt.want)
			continue
		}
		if err.Error() != tt.msg {
			t.Errorf("Lookup(%d) error\n got %q\nwant %q", tt.pid, err, tt.msg)
		}
	}
}

func TestLookupReturnsPHPProcesses(t *testing.T) {
	h := newFakeHost(t)
	for pid, role := range map[int]Role{100: RoleFPMMaster, 101: RoleFPMWorker, 201: RoleFPMWorker} {
		p, err := Lookup(Options{ProcRoot: h.root}, pid)
		if err != nil || p.PID != pid || p.Role != role {
			t.Errorf("Lookup(%d) = %+v, %v; want a %v", pid, p, err, role)
		}
	}
	p, err := Lookup(Options{ProcRoot: h.root, CLI: true}, 300)
	if err != nil || p.Role != RoleCLI {
		t.Errorf("Lookup(300) with CLI = %+v, %v; want a cli process", p, err)
	}
}

func TestLookupReportsPermissionDenied(t *testing.T) {
	h := newFakeHost(t)
	pfs := faultFS{procFS: dirFS{root: h.root}, faults: map[string]error{
		"readlink 101/exe": &fs.PathError{Op: "readlink", Path: "/proc/101/exe", Err: syscall.EACCES},
	}}
	_, err := lookup(pfs, Options{}, 101)
	if !errors.Is(err, fs.ErrPermission) {
		t.Fatalf("err = %v, want one wrapping fs.ErrPermission", err)
	}
	if want := "pid 101 (php-fpm8.2): cannot inspect: readlink /proc/101/exe: permission denied"; err.Error() != want {
		t.Errorf("err = %q, want %q", err, want)
	}
}

func TestExited(t *testing.T) {
	h := newFakeHost(t)
	opts := Options{ProcRoot: h.root}
	worker, err := Lookup(opts, 101)
	if err != nil {
		t.Fatal(err)
	}
	if Exited(opts, *worker) {
		t.Error("a running worker is reported exited")
	}
	reused := *worker
	reused.StartTime++ // its PID now belongs to a later process
	if !Exited(opts, reused) {
		t.Error("a worker whose PID was reused is reported alive")
	}
	if !Exited(opts, Process{PID: 305, StartTime: 3005}) {
		t.Error("a zombie is reported alive")
	}
	must(t, removeFakeProc(h.root, 101))
	if !Exited(opts, *worker) {
		t.Error("a worker gone from /proc is reported alive")
	}
	// When /proc cannot tell, keep the process.
	must(t, removeFakeProc(h.root, 102))
	pfs := faultFS{procFS: dirFS{root: h.root}, faults: map[string]error{
		"read 102/stat": &fs.PathError{Op: "open", Path: "/proc/102/stat", Err: syscall.EACCES},
	}}
	if exited(pfs, Process{PID: 102, StartTime: 1002}) {
		t.Error("a process whose stat cannot be read is reported exited")
	}
}
