package privdrop

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

func TestSetNames(t *testing.T) {
	s := Of(unix.CAP_BPF, unix.CAP_CHOWN, unix.CAP_SYS_PTRACE, 45)
	if got, want := s.String(), "CAP_CHOWN, CAP_SYS_PTRACE, CAP_BPF, CAP_45"; got != want {
		t.Fatalf("%q, want %q", got, want)
	}
	if Set(0).String() != "none" || len(Set(0).Names()) != 0 || Set(0).Names() == nil {
		t.Fatal("empty set")
	}
	if !s.Has(unix.CAP_BPF) || s.Has(unix.CAP_PERFMON) || s.Has(64) {
		t.Fatal("Has")
	}
	for c := Cap(0); c <= unix.CAP_LAST_CAP; c++ {
		if strings.HasPrefix(c.String(), "CAP_") && c.String()[4] >= '0' && c.String()[4] <= '9' {
			t.Errorf("capability %d has no name", c)
		}
	}
}

// threadCaps is one thread's /proc/self/task/<tid>/status lines.
type threadCaps struct {
	TID int
	Status
	BeforeEff, BeforePrm, Before Set
}

const childEnv = "TUSK_PRIVDROP_TEST_CHILD"

// TestDropReachesEveryThread drops capabilities in a child process (this
// test binary run again) that has spread goroutines over many threads,
// starts more threads afterwards, and reads every thread's sets back from
// /proc.
func TestDropReachesEveryThread(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		dropInChild()
		return
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root: capabilities to drop")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestDropReachesEveryThread$")
	cmd.Env = append(os.Environ(), childEnv+"=1")
	out, err := cmd.CombinedOutput()
	cmdOut := string(out)
	if err != nil {
		t.Fatalf("child: %v\n%s", err, cmdOut)
	}
	if strings.Contains(cmdOut, "UNSUPPORTED") {
		t.Skip("this test binary links cgo: " + cmdOut)
	}
	_, js, ok := strings.Cut(cmdOut, "RESULT ")
	if !ok {
		t.Fatalf("no result from the child:\n%s", cmdOut)
	}
	js, _, _ = strings.Cut(js, "\n")
	var threads []threadCaps
	if err := json.Unmarshal([]byte(js), &threads); err != nil {
		t.Fatal(err)
	}
	if len(threads) < 8 {
		t.Fatalf("only %d threads: the test proves little", len(threads))
	}
	keep := Of(unix.CAP_BPF, unix.CAP_SYS_PTRACE)
	for _, th := range threads {
		want := keep & th.BeforePrm
		if th.Effective != want || th.Permitted != want || th.Inheritable != 0 || th.Ambient != 0 || th.NoNewPrivs != 1 {
			t.Errorf("thread %d: eff %v, prm %v, inh %v, amb %v, no_new_privs %d; want eff=prm=%v",
				th.TID, th.Effective, th.Permitted, th.Inheritable, th.Ambient, th.NoNewPrivs, want)
		}
		if th.BeforeEff.Has(unix.CAP_SETPCAP) && th.Bounding&^keep != 0 {
			t.Errorf("thread %d: bounding set still has %v", th.TID, th.Bounding&^keep)
		}
	}
	t.Logf("%d threads, each with %v only", len(threads), keep)
}

func dropInChild() {
	before, err := current()
	if err != nil {
		fmt.Println("ERROR", err)
		os.Exit(1)
	}
	// Threads before: goroutines locked to their own threads, blocked.
	release := make(chan struct{})
	var wg sync.WaitGroup
	lockThreads := func(n int) {
		var started sync.WaitGroup
		for range n {
			started.Add(1)
			wg.Add(1)
			go func() {
				defer wg.Done()
				runtime.LockOSThread()
				started.Done()
				<-release
			}()
		}
		started.Wait()
	}
	lockThreads(6)
	res, err := Drop(Of(unix.CAP_BPF, unix.CAP_SYS_PTRACE))
	if errors.Is(err, ErrUnsupported) {
		fmt.Println("UNSUPPORTED", err)
		os.Exit(0)
	}
	if err != nil {
		fmt.Println("ERROR", err)
		os.Exit(1)
	}
	lockThreads(4) // threads made after the drop inherit it
	var threads []threadCaps
	tasks, _ := filepath.Glob("/proc/self/task/*/status")
	for _, p := range tasks {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		th := threadCaps{Status: ParseStatus(b), BeforeEff: before.effective, BeforePrm: before.permitted}
		th.TID, _ = strconv.Atoi(filepath.Base(filepath.Dir(p)))
		threads = append(threads, th)
	}
	close(release)
	wg.Wait()
	b, _ := json.Marshal(threads)
	fmt.Printf("dropped %v, kept %v\nRESULT %s\n", res.Dropped, res.Kept, b)
	os.Exit(0)
}
