package stack

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"syscall"
	"testing"
	"time"
)

func TestStateRoundTrip(t *testing.T) {
	dir := t.TempDir()
	s := &State{Kind: "fixture", Dir: dir, URL: "http://127.0.0.1:1", StartedAt: time.Unix(1, 0).UTC(), Ready: true,
		Processes: []ProcessRecord{{Name: "nginx", PID: 1, StartTime: 2, StopSignal: int(syscall.SIGQUIT), Logs: []string{"x"}}},
		FPM:       &FPMState{MasterPID: 3, Pool: "fixture", Listen: "127.0.0.1:2", WorkerPIDs: []int{4, 5}}}
	if err := s.write(); err != nil {
		t.Fatal(err)
	}
	got, err := LoadState(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got.Kind != s.Kind || !reflect.DeepEqual(got.Processes, s.Processes) || got.FPM.WorkerPIDs[1] != 5 || !got.StartedAt.Equal(s.StartedAt) {
		t.Errorf("round trip: %+v", got)
	}
}

func TestLoadStateMissing(t *testing.T) {
	if _, err := LoadState(t.TempDir()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("err = %v, want ErrNotExist", err)
	}
}

func TestStopDirWithoutStackIsFine(t *testing.T) {
	if err := StopDir(t.Context(), t.TempDir()); err != nil {
		t.Error(err)
	}
	if err := StopDir(t.Context(), filepath.Join(t.TempDir(), "never-created")); err != nil {
		t.Error(err)
	}
}

func TestStopDirStopsRecordedProcessesNewestFirst(t *testing.T) {
	dir := t.TempDir()
	older := spawnShell(t, "sleep 30", 5*time.Second)
	newer := spawnShell(t, "sleep 30", 5*time.Second)
	s := &State{Kind: "fixture", Dir: dir, Processes: []ProcessRecord{older.Record(), newer.Record()}}
	if err := s.write(); err != nil {
		t.Fatal(err)
	}
	if err := StopDir(t.Context(), dir); err != nil {
		t.Fatal(err)
	}
	<-older.Exited()
	<-newer.Exited()
	if _, err := os.Stat(StatePath(dir)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("state.json still there: %v", err)
	}
	if err := StopDir(t.Context(), dir); err != nil {
		t.Errorf("second StopDir: %v", err)
	}
}

func TestRecordWithoutStartTimeIsNeverSignalled(t *testing.T) {
	p := spawnShell(t, "sleep 30", 5*time.Second)
	r := p.Record()
	r.StartTime = 0
	if r.Alive() {
		t.Error("a record without start time must not count as alive")
	}
	if err := adopt(r).Stop(); err != nil {
		t.Fatal(err)
	}
	if !p.Alive() {
		t.Error("the process was signalled through a record without start time")
	}
}
