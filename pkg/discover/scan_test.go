package discover

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
)

// fakeHost is a fake /proc with one host php-fpm (master 100, pools www and
// api), a containerised php-fpm in another mount namespace (200), php-cli
// processes, and the non-PHP neighbours discovery must pass over.
type fakeHost struct {
	root          string
	fpm, ctrFPM   string // binary paths the exe links point to
	cli           string
	fpmID, ctrID  BinaryID
	cliID         BinaryID
	hostNS, ctrNS string
}

func newFakeHost(t *testing.T) fakeHost {
	t.Helper()
	dir := t.TempDir()
	h := fakeHost{root: filepath.Join(dir, "proc"), hostNS: "mnt:[4026531841]", ctrNS: "mnt:[4026532999]"}
	bin := filepath.Join(dir, "usr", "sbin")
	h.fpm, h.fpmID = fakeBinary(t, bin, "php-fpm8.2")
	h.cli, h.cliID = fakeBinary(t, filepath.Join(dir, "usr", "bin"), "php8.2")
	h.ctrFPM, h.ctrID = fakeBinary(t, filepath.Join(dir, "ctr", "usr", "local", "sbin"), "php-fpm")
	cgi, _ := fakeBinary(t, bin, "php-cgi8.2")
	exporter, _ := fakeBinary(t, bin, "php-fpm_exporter")
	bash, _ := fakeBinary(t, filepath.Join(dir, "bin"), "bash")

	master := "php-fpm: master process (/etc/php/8.2/fpm/php-fpm.conf)"
	// php-fpm pads worker titles with NULs.
	www := []string{"php-fpm: pool www", "", "", ""}
	for _, p := range []fakeProc{
		{pid: 1, comm: "systemd", exe: "/usr/lib/systemd/systemd", argv: []string{"/sbin/init"}, startTime: 1},
		{pid: 2, comm: "kthreadd", flags: pfKthread, startTime: 1},
		{pid: 100, ppid: 1, comm: "php-fpm8.2", exe: h.fpm, argv: []string{master}, startTime: 1000},
		{pid: 101, ppid: 100, comm: "php-fpm8.2", exe: h.fpm, argv: www, startTime: 1001},
		{pid: 102, ppid: 100, comm: "php-fpm8.2", exe: h.fpm, argv: www, startTime: 1002},
		{pid: 103, ppid: 100, comm: "php-fpm8.2", exe: h.fpm, argv: []string{"php-fpm: pool api"}, startTime: 1003},
		// Forked a moment ago: still carries the master's title.
		{pid: 104, ppid: 100, comm: "php-fpm8.2", exe: h.fpm, argv: []string{master}, startTime: 1004},
		{pid: 200, ppid: 1, comm: "php-fpm", exe: h.ctrFPM, mountNS: h.ctrNS,
			argv: []string{"php-fpm: master process (/usr/local/etc/php-fpm.conf)"}, startTime: 2000},
		{pid: 201, ppid: 200, comm: "php-fpm", exe: h.ctrFPM, mountNS: h.ctrNS, argv: www, startTime: 2001},
		// A comm with spaces and parentheses: stat must be parsed by the last ')'.
		{pid: 300, ppid: 1, comm: "php (x) y)", exe: h.cli, argv: []string{"php", "-r", "sleep(5);"}, startTime: 3000},
		// A "#!/usr/bin/env php" script: comm is the script's name.
		{pid: 301, ppid: 1, comm: "artisan", exe: h.cli, argv: []string{"php", "./artisan", "queue:work"}, startTime: 3001},
		{pid: 302, ppid: 1, comm: "php-cgi8.2", exe: cgi, argv: []string{"php-cgi8.2"}, startTime: 3002},
		{pid: 303, ppid: 1, comm: "php-fpm_exporte", exe: exporter, argv: []string{"php-fpm_exporter", "server"}, startTime: 3003},
		{pid: 304, ppid: 1, comm: "bash", exe: bash, argv: []string{"bash"}, startTime: 3004},
		{pid: 305, ppid: 300, comm: "php8.2", state: 'Z', startTime: 3005},
	} {
		writeFakeProc(t, h.root, p)
	}
	return h
}

func pidsOf(procs []Process) []int {
	pids := make([]int, len(procs))
	for i, p := range procs {
		pids[i] = p.PID
	}
	return pids
}

func TestScanFindsFPMOnTheHostAndInContainers(t *testing.T) {
	h := newFakeHost(t)
	procs, err := Scan(Options{ProcRoot: h.root})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := pidsOf(procs), []int{100, 101, 102, 103, 200, 201}; !slices.Equal(got, want) {
		t.Fatalf("Scan found pids %v, want %v", got, want)
	}
	wantWorker := Process{
		PID: 101, PPID: 100, Comm: "php-fpm8.2", Cmdline: "php-fpm: pool www",
		Exe: h.fpm, ExeOpenPath: filepath.Join(h.root, "101", "exe"), BinaryID: h.fpmID,
		Role: RoleFPMWorker, Pool: "www", MountNS: h.hostNS, StartTime: 1001,
	}
	if procs[1] != wantWorker {
		t.Errorf("worker 101:\n got %+v\nwant %+v", procs[1], wantWorker)
	}
	if m := procs[0]; m.Role != RoleFPMMaster || m.Pool != "" || m.BinaryID != h.fpmID {
		t.Errorf("master 100 = %+v", m)
	}
	if p := procs[3]; p.Pool != "api" {
		t.Errorf("worker 103 pool = %q, want api", p.Pool)
	}
	if c := procs[5]; c.MountNS != h.ctrNS || c.BinaryID != h.ctrID || c.Role != RoleFPMWorker {
		t.Errorf("container worker 201 = %+v", c)
	}
}

func TestScanFindsCLIOnlyWhenAsked(t *testing.T) {
	h := newFakeHost(t)
	procs, err := Scan(Options{ProcRoot: h.root, CLI: true})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := pidsOf(procs), []int{100, 101, 102, 103, 200, 201, 300, 301}; !slices.Equal(got, want) {
		t.Fatalf("Scan found pids %v, want %v", got, want)
	}
	cli := procs[6]
	if cli.Comm != "php (x) y)" || cli.PPID != 1 || cli.StartTime != 3000 || cli.Role != RoleCLI || cli.BinaryID != h.cliID {
		t.Errorf("cli 300 = %+v", cli)
	}
	if procs[7].Comm != "artisan" || procs[7].Role != RoleCLI {
		t.Errorf("script 301 = %+v", procs[7])
	}
}

func TestScanLimitedToPIDs(t *testing.T) {
	h := newFakeHost(t)
	tests := []struct {
		name string
		pids []int
		cli  bool
		want []int
	}{
		{"a master brings its workers", []int{100}, false, []int{100, 101, 102, 103}},
		{"a worker comes alone", []int{101}, false, []int{101}},
		{"several", []int{101, 200}, false, []int{101, 200, 201}},
		{"cli with CLI on", []int{300}, true, []int{300}},
		{"cli with CLI off", []int{300}, false, nil},
		{"not php", []int{1, 304}, true, nil},
		{"children of a non-fpm parent are not brought", []int{1}, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			procs, err := Scan(Options{ProcRoot: h.root, PIDs: tt.pids, CLI: tt.cli})
			if err != nil {
				t.Fatal(err)
			}
			if got := pidsOf(procs); !slices.Equal(got, tt.want) {
				t.Errorf("Scan(PIDs %v) = %v, want %v", tt.pids, got, tt.want)
			}
		})
	}
}

func TestScanCountsPermissionErrorsOnPHPLookingProcesses(t *testing.T) {
	h := newFakeHost(t)
	eacces := &fs.PathError{Op: "readlink", Path: "exe", Err: syscall.EACCES}
	pfs := faultFS{procFS: dirFS{root: h.root}, faults: map[string]error{
		"readlink 102/exe":    eacces, // comm php-fpm8.2: counted
		"readlink 103/ns/mnt": eacces, // exe says php: counted
		"readlink 1/exe":      eacces, // systemd: nobody cares
	}}
	procs, _, err := scan(pfs, Options{})
	var denied *DeniedError
	if !errors.As(err, &denied) || !slices.Equal(denied.PIDs, []int{102, 103}) {
		t.Fatalf("err = %v, want a DeniedError for pids 102 and 103", err)
	}
	if !errors.Is(err, fs.ErrPermission) {
		t.Errorf("errors.Is(%v, fs.ErrPermission) = false", err)
	}
	if got, want := pidsOf(procs), []int{100, 101, 200, 201}; !slices.Equal(got, want) {
		t.Errorf("Scan still found %v, want %v", got, want)
	}

	// Within Options.PIDs only: the workers of master 100 count, not for 200.
	if _, _, err := scan(pfs, Options{PIDs: []int{100}}); !errors.As(err, &denied) || !slices.Equal(denied.PIDs, []int{102, 103}) {
		t.Errorf("Scan(PIDs 100) err = %v, want a DeniedError for pids 102 and 103", err)
	}
	if _, _, err := scan(pfs, Options{PIDs: []int{200}}); err != nil {
		t.Errorf("Scan(PIDs 200) err = %v, want none", err)
	}
}

func TestScanSkipsProcessesThatVanishMidRead(t *testing.T) {
	h := newFakeHost(t)
	pfs := faultFS{procFS: dirFS{root: h.root}, faults: map[string]error{
		"read 101/cmdline": &fs.PathError{Op: "open", Path: "cmdline", Err: syscall.ENOENT},
		"readlink 102/exe": &fs.PathError{Op: "readlink", Path: "exe", Err: syscall.ESRCH},
		"stat 103/exe":     &fs.PathError{Op: "stat", Path: "exe", Err: syscall.ENOENT},
	}}
	// A real half-gone entry too: the exe link is there, stat is not.
	must(t, os.Remove(filepath.Join(h.root, "201", "stat")))
	procs, _, err := scan(pfs, Options{})
	if err != nil {
		t.Fatalf("a vanished process is not an error: %v", err)
	}
	if got, want := pidsOf(procs), []int{100, 200}; !slices.Equal(got, want) {
		t.Errorf("Scan found %v, want %v", got, want)
	}
}

func TestScanFailsWithoutProc(t *testing.T) {
	if _, err := Scan(Options{ProcRoot: filepath.Join(t.TempDir(), "nope")}); err == nil {
		t.Error("Scan of a missing ProcRoot succeeded")
	}
}
