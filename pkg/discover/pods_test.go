package discover

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

const (
	podUID      = "7f3e9c1a-2b4d-4e8f-9a6b-1c2d3e4f5a6b"
	containerID = "3f1e2d4c5b6a79880716253443526170f9e8d7c6b5a4938271605f4e3d2c1b0a"
	podCgroup   = "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod7f3e9c1a_2b4d_4e8f_9a6b_1c2d3e4f5a6b.slice/cri-containerd-" + containerID + ".scope\n"
)

// podHost is a fake /proc with a host php-fpm (100, 101, no pod) and a
// php-fpm in a pod (200, 201).
func podHost(t *testing.T) (root string) {
	t.Helper()
	dir := t.TempDir()
	root = filepath.Join(dir, "proc")
	fpm, _ := fakeBinary(t, filepath.Join(dir, "usr", "sbin"), "php-fpm8.2")
	ctr, _ := fakeBinary(t, filepath.Join(dir, "ctr"), "php-fpm")
	host := "0::/system.slice/php8.2-fpm.service\n"
	for _, p := range []fakeProc{
		{pid: 100, ppid: 1, comm: "php-fpm8.2", exe: fpm, argv: []string{"php-fpm: master process (/etc/php/8.2/fpm/php-fpm.conf)"}, startTime: 1000, cgroup: host},
		{pid: 101, ppid: 100, comm: "php-fpm8.2", exe: fpm, argv: []string{"php-fpm: pool www"}, startTime: 1001, cgroup: host},
		{pid: 200, ppid: 1, comm: "php-fpm", exe: ctr, mountNS: "mnt:[4026532999]", argv: []string{"php-fpm: master process (/usr/local/etc/php-fpm.conf)"}, startTime: 2000, cgroup: podCgroup},
		{pid: 201, ppid: 200, comm: "php-fpm", exe: ctr, mountNS: "mnt:[4026532999]", argv: []string{"php-fpm: pool www"}, startTime: 2001, cgroup: podCgroup},
		// No cgroup file (the fake trees of other tests have none): no pod.
		{pid: 300, ppid: 1, comm: "php8.2", exe: fpm, argv: []string{"php-fpm: pool other"}, startTime: 3000},
	} {
		writeFakeProc(t, root, p)
	}
	return root
}

func TestScanReadsThePodOfEachProcess(t *testing.T) {
	root := podHost(t)
	procs, excluded, err := ScanAll(Options{ProcRoot: root, Cgroups: true})
	if err != nil || len(excluded) != 0 {
		t.Fatal(err, excluded)
	}
	pods := map[int]string{}
	for _, p := range procs {
		pods[p.PID] = p.PodUID + "/" + p.ContainerID
	}
	want := map[int]string{100: "/", 101: "/", 200: podUID + "/" + containerID, 201: podUID + "/" + containerID, 300: "/"}
	for pid, w := range want {
		if pods[pid] != w {
			t.Errorf("pid %d: %q, want %q", pid, pods[pid], w)
		}
	}
	// Without Options.Cgroups the file is not read.
	procs, _ = Scan(Options{ProcRoot: root})
	for _, p := range procs {
		if p.PodUID != "" {
			t.Errorf("pid %d has a pod without Options.Cgroups", p.PID)
		}
	}
	// The pool's group carries its pod.
	for _, b := range Group(procs) {
		for _, g := range b.Pools {
			if g.MasterPID == 200 && g.PodUID != "" {
				t.Error("group has a pod without Options.Cgroups")
			}
		}
	}
	procs, _ = Scan(Options{ProcRoot: root, Cgroups: true})
	for _, b := range Group(procs) {
		for _, g := range b.Pools {
			if (g.MasterPID == 200) != (g.PodUID == podUID && g.ContainerID == containerID) {
				t.Errorf("group %+v", g)
			}
		}
	}
	if p, err := Lookup(Options{ProcRoot: root, Cgroups: true}, 201); err != nil || p.PodUID != podUID {
		t.Errorf("Lookup: %+v %v", p, err)
	}
}

func TestScanLeavesOutExcludedProcesses(t *testing.T) {
	root := podHost(t)
	var asked []int
	exclude := func(p Process) string {
		asked = append(asked, p.PID)
		if p.PodUID == podUID {
			return "namespace kube-system is in kubernetes.exclude_namespaces"
		}
		return ""
	}
	procs, excluded, err := ScanAll(Options{ProcRoot: root, Cgroups: true, Exclude: exclude})
	if err != nil {
		t.Fatal(err)
	}
	if got := pidsOf(procs); !slices.Equal(got, []int{100, 101, 300}) {
		t.Errorf("traced %v", got)
	}
	if len(excluded) != 2 || excluded[0].PID != 200 || excluded[1].PID != 201 || !strings.Contains(excluded[0].Reason, "kube-system") ||
		excluded[0].PodUID != podUID {
		t.Errorf("excluded %+v", excluded)
	}
	if !slices.Equal(asked, []int{100, 101, 200, 201, 300}) {
		t.Errorf("Exclude asked about %v", asked)
	}
}

// The watcher reports exclusions as they change: a pod's processes are
// held back until the filter admits them, and dropped when it no longer
// does.
func TestWatcherFollowsExclusions(t *testing.T) {
	root := podHost(t)
	verdict := "pod 7f3e9c1a… not known yet"
	w := NewWatcher(Options{ProcRoot: root, Cgroups: true, Exclude: func(p Process) string {
		if p.PodUID != "" {
			return verdict
		}
		return ""
	}}, time.Hour)

	steps := []struct {
		name           string
		verdict        string
		changed        bool
		added, removed []int
		excluded       []int
	}{
		{"first scan: pod unknown", "pod 7f3e9c1a… not known yet", true, []int{100, 101, 300}, nil, []int{200, 201}},
		{"nothing new", "pod 7f3e9c1a… not known yet", false, nil, nil, []int{200, 201}},
		{"a new reason alone is a change", "labels do not match kubernetes.pod_selector", true, nil, nil, []int{200, 201}},
		{"admitted: added", "", true, []int{200, 201}, nil, nil},
		{"excluded again: removed", "namespace shop is in kubernetes.exclude_namespaces", true, nil, []int{200, 201}, []int{200, 201}},
	}
	for _, s := range steps {
		verdict = s.verdict
		c, changed, err := w.Poll()
		if err != nil {
			t.Fatal(err)
		}
		var excl []int
		for _, e := range c.Excluded {
			excl = append(excl, e.PID)
			if e.Reason != s.verdict {
				t.Errorf("%s: reason %q", s.name, e.Reason)
			}
		}
		if changed != s.changed || !slices.Equal(pidsOf(c.Added), s.added) || !slices.Equal(pidsOf(c.Removed), s.removed) || !slices.Equal(excl, s.excluded) {
			t.Errorf("%s: changed %v added %v removed %v excluded %v; want %v %v %v %v", s.name, changed,
				pidsOf(c.Added), pidsOf(c.Removed), excl, s.changed, s.added, s.removed, s.excluded)
		}
	}
}
