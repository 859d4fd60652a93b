package agent

import (
	"testing"

	"github.com/tusk-php/tusk/pkg/discover"
)

// The engine's tables are read in a worker's master when the agent knows
// it, whatever the PIDs' order; never in another binary's master or in an
// unrelated process, and in the process itself when no master is in sight.
func TestIOSourceIsTheWorkersMaster(t *testing.T) {
	fpm := discover.BinaryID{Dev: 1, Ino: 10}
	other := discover.BinaryID{Dev: 1, Ino: 11}
	master := discover.Process{PID: 900, PPID: 1, Role: discover.RoleFPMMaster, BinaryID: fpm}
	otherMaster := discover.Process{PID: 50, PPID: 1, Role: discover.RoleFPMMaster, BinaryID: other}
	a := &Agent{procRoot: t.TempDir(), processes: map[int]discover.Process{900: master, 50: otherMaster}}
	for _, tc := range []struct {
		name string
		p    discover.Process
		want int
	}{
		{"worker after a PID wrap", discover.Process{PID: 300, PPID: 900, Role: discover.RoleFPMWorker, Pool: "www", BinaryID: fpm}, 900},
		{"the master itself", master, 900},
		{"worker of another binary's master", discover.Process{PID: 60, PPID: 50, Role: discover.RoleFPMWorker, BinaryID: fpm}, 60},
		{"worker whose master is not seen", discover.Process{PID: 70, PPID: 69, Role: discover.RoleFPMWorker, BinaryID: fpm}, 70},
		{"cli child of a master", discover.Process{PID: 80, PPID: 900, Role: discover.RoleCLI, BinaryID: fpm}, 80},
	} {
		if got := a.ioSource(tc.p); got.PID != tc.want {
			t.Errorf("%s: read PID %d, want %d", tc.name, got.PID, tc.want)
		}
	}
}
