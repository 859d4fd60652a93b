package agent

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/tusk-php/tusk/pkg/discover"
	"github.com/tusk-php/tusk/pkg/trace"
)

// describe puts the pod on a traced process's requests and drops those of
// processes the kubernetes filter excludes.
func TestDescribeWithPods(t *testing.T) {
	cfg := defaultKubernetesConfig()
	k := testAttribution(t, cfg, listed{
		{UID: wpUID, Name: "wordpress-1", Namespace: "shop", Containers: map[string]string{wpCID: "php-fpm"}},
		{UID: sysUID, Name: "php-exporter", Namespace: "kube-system"},
	})
	wp := discover.Process{PID: 10, Role: discover.RoleFPMWorker, Pool: "www", PodUID: wpUID, ContainerID: wpCID}
	sys := discover.Process{PID: 11, Role: discover.RoleFPMWorker, Pool: "www", PodUID: sysUID}
	a := &Agent{
		cfg:       DefaultConfig(),
		procRoot:  t.TempDir(), // an empty /proc: unscanned PIDs are not found
		kube:      k,
		processes: map[int]discover.Process{10: wp},
		excluded:  map[int]discover.Excluded{11: {Process: sys, Reason: k.exclude(sys)}},
		unscanned: map[int]discover.Process{},
	}
	got := a.describe(0, 10)
	if got.Drop || got.Pool != "www" || got.Attributes[trace.AttrK8sPodName] != "wordpress-1" ||
		got.Attributes[trace.AttrK8sContainerName] != "php-fpm" || got.Attributes[trace.AttrK8sNodeName] != "worker-1" {
		t.Errorf("traced pod: %+v", got)
	}
	if got := a.describe(0, 11); !got.Drop {
		t.Errorf("excluded pod: %+v", got)
	}
	if got := a.describe(0, 12); got.Drop || got.Attributes != nil {
		t.Errorf("unknown process: %+v", got)
	}
	a.kube = nil
	if got := a.describe(0, 10); got.Attributes != nil {
		t.Errorf("attribution off: %+v", got)
	}
}

// A worker seen only in events (born and gone between two scans) is
// forgotten once it has exited: the event loop is told to drop its state.
func TestForgetExitedUnscanned(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "20"), 0o755); err != nil {
		t.Fatal(err)
	}
	stat := "20 (php-fpm8.2) S 1 20 20 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5000 0 0\n"
	if err := os.WriteFile(filepath.Join(root, "20", "stat"), []byte(stat), 0o444); err != nil {
		t.Fatal(err)
	}
	a := &Agent{procRoot: root, loop: &eventLoop{}, unscanned: map[int]discover.Process{
		20: {PID: 20, StartTime: 5000}, // alive
		21: {PID: 21, StartTime: 5001}, // gone from /proc
	}}
	a.forgetExitedUnscanned()
	if _, ok := a.unscanned[20]; !ok || len(a.unscanned) != 1 {
		t.Errorf("unscanned after: %v, want only 20", a.unscanned)
	}
	if !slices.Equal(a.loop.gone, []uint32{21}) {
		t.Errorf("gone: %v, want [21]", a.loop.gone)
	}
}

// Pointed at one master, the agent drops the requests of other masters'
// workers that run the same binary, and so fire the same probes.
func TestDescribeDropsProcessesNotPointedAt(t *testing.T) {
	root := t.TempDir()
	fpm := filepath.Join(t.TempDir(), "php-fpm8.2")
	if err := os.WriteFile(fpm, nil, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, w := range []struct{ pid, ppid int }{{101, 100}, {201, 200}} {
		dir := filepath.Join(root, strconv.Itoa(w.pid))
		stat := fmt.Sprintf("%d (php-fpm8.2) S %d %d %d 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5000 0 0\n", w.pid, w.ppid, w.pid, w.pid)
		for _, err := range []error{
			os.MkdirAll(filepath.Join(dir, "ns"), 0o755),
			os.WriteFile(filepath.Join(dir, "stat"), []byte(stat), 0o444),
			os.WriteFile(filepath.Join(dir, "cmdline"), []byte("php-fpm: pool www\x00"), 0o444),
			os.Symlink(fpm, filepath.Join(dir, "exe")),
			os.Symlink("mnt:[4026531841]", filepath.Join(dir, "ns", "mnt")),
		} {
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	cfg := DefaultConfig()
	cfg.PIDs = []int{100}
	a := &Agent{cfg: cfg, procRoot: root, processes: map[int]discover.Process{}, excluded: map[int]discover.Excluded{},
		unscanned: map[int]discover.Process{}}
	if got := a.describe(0, 101); got.Drop || got.Pool != "www" {
		t.Errorf("worker of the master pointed at: %+v", got)
	}
	if got := a.describe(0, 201); !got.Drop {
		t.Errorf("worker of another master: %+v, want it dropped", got)
	}
	a.cfg.PIDs = nil
	if got := a.describe(0, 201); got.Drop || got.Pool != "www" {
		t.Errorf("no --pid: %+v", got)
	}
}
