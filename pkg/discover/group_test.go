package discover

import (
	"reflect"
	"testing"
)

func TestGroupByBinaryMasterAndPool(t *testing.T) {
	fpm := BinaryID{Dev: 2049, Ino: 300}
	shared := BinaryID{Dev: 64, Ino: 77} // one image layer, two containers
	const host, ctrA, ctrB = "mnt:[1]", "mnt:[2]", "mnt:[3]"
	procs := []Process{
		// Given out of order: the result must not depend on it.
		{PID: 12, PPID: 10, BinaryID: fpm, Role: RoleFPMWorker, Pool: "www", MountNS: host, ExeOpenPath: "/proc/12/exe", Exe: "/usr/sbin/php-fpm8.2"},
		{PID: 10, PPID: 1, BinaryID: fpm, Role: RoleFPMMaster, MountNS: host, ExeOpenPath: "/proc/10/exe", Exe: "/usr/sbin/php-fpm8.2"},
		{PID: 11, PPID: 10, BinaryID: fpm, Role: RoleFPMWorker, Pool: "www", MountNS: host, ExeOpenPath: "/proc/11/exe", Exe: "/usr/sbin/php-fpm8.2"},
		{PID: 13, PPID: 10, BinaryID: fpm, Role: RoleFPMWorker, Pool: "api", MountNS: host, ExeOpenPath: "/proc/13/exe", Exe: "/usr/sbin/php-fpm8.2"},
		// A second master of the same binary keeps its own www pool.
		{PID: 21, PPID: 20, BinaryID: fpm, Role: RoleFPMWorker, Pool: "www", MountNS: host, ExeOpenPath: "/proc/21/exe", Exe: "/usr/sbin/php-fpm8.2"},
		{PID: 20, PPID: 1, BinaryID: fpm, Role: RoleFPMMaster, MountNS: host, ExeOpenPath: "/proc/20/exe", Exe: "/usr/sbin/php-fpm8.2"},
		{PID: 31, PPID: 1, BinaryID: fpm, Role: RoleCLI, MountNS: host},
		{PID: 50, PPID: 1, BinaryID: shared, Role: RoleCLI, MountNS: ctrB, ExeOpenPath: "/proc/50/exe", Exe: "/usr/local/bin/php"},
		{PID: 40, PPID: 1, BinaryID: shared, Role: RoleCLI, MountNS: ctrA, ExeOpenPath: "/proc/40/exe", Exe: "/usr/local/bin/php"},
		{PID: 41, PPID: 1, BinaryID: shared, Role: RoleCLI, MountNS: ctrA, ExeOpenPath: "/proc/41/exe", Exe: "/usr/local/bin/php"},
	}
	want := []Binary{
		{ID: shared, OpenPath: "/proc/40/exe", Exe: "/usr/local/bin/php", Pools: []PoolGroup{
			{Name: "cli", Workers: []int{40, 41}, MountNS: ctrA},
			{Name: "cli", Workers: []int{50}, MountNS: ctrB},
		}},
		{ID: fpm, OpenPath: "/proc/10/exe", Exe: "/usr/sbin/php-fpm8.2", Pools: []PoolGroup{
			{Name: "cli", Workers: []int{31}, MountNS: host},
			{Name: "api", MasterPID: 10, Workers: []int{13}, MountNS: host},
			{Name: "www", MasterPID: 10, Workers: []int{11, 12}, MountNS: host},
			{Name: "www", MasterPID: 20, Workers: []int{21}, MountNS: host},
		}},
	}
	if got := Group(procs); !reflect.DeepEqual(got, want) {
		t.Errorf("Group:\n got %+v\nwant %+v", got, want)
	}
}

func TestGroupKeepsTheBinaryOfAMasterWithoutWorkers(t *testing.T) {
	// pm = ondemand: no worker until a request comes, but the probes must be
	// on the binary before it does.
	id := BinaryID{Dev: 1, Ino: 2}
	got := Group([]Process{{PID: 7, BinaryID: id, Role: RoleFPMMaster, ExeOpenPath: "/proc/7/exe"}})
	want := []Binary{{ID: id, OpenPath: "/proc/7/exe"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Group = %+v, want %+v", got, want)
	}
}

func TestGroupOfNothing(t *testing.T) {
	if got := Group(nil); len(got) != 0 {
		t.Errorf("Group(nil) = %v", got)
	}
}

func TestBinaryIDString(t *testing.T) {
	if got := (BinaryID{Dev: 2049, Ino: 1234567}).String(); got != "2049:1234567" {
		t.Errorf("String = %q", got)
	}
}
