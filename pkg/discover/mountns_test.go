package discover

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestScanFPMInAnotherMountNamespace runs php-fpm the way a container does:
// in its own mount namespace, from a path that exists only there (a bind
// mount of the binary's directory). Discovery must see the other namespace,
// report the process's own view of the path, and still give the agent a path
// it can open and the identity of the very file on the host.
func TestScanFPMInAnotherMountNamespace(t *testing.T) {
	bin := realFPMBinary(t)
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Skip("unshare (util-linux) is not installed")
	}
	if out, err := exec.Command(unshare, "--mount", "--propagation", "private", "true").CombinedOutput(); err != nil {
		t.Skipf("cannot create a mount namespace here: %v: %s", err, bytes.TrimSpace(out))
	}
	conf, errorLog := writeFPMConfig(t)
	// Empty in the agent's namespace; the binary's directory inside the new one.
	inside := filepath.Join(t.TempDir(), "sbin")
	must(t, os.Mkdir(inside, 0o755))
	cmd := exec.Command(unshare, "--mount", "--propagation", "private", "sh", "-c",
		`mount --bind "$1" "$2" && exec "$2/$3" -F -y "$4"`,
		"sh", filepath.Dir(bin), inside, filepath.Base(bin), conf)
	master := startFPM(t, cmd, errorLog) // unshare and sh exec: the PID stays the master's

	wantID, err := statBinaryID(bin)
	must(t, err)
	own := ownMountNS(t)
	procs, err := Scan(Options{PIDs: []int{master}})
	if err != nil || len(procs) != 1+fpmWorkers {
		t.Fatalf("Scan = %+v, %v; want the master and %d workers", procs, err, fpmWorkers)
	}
	insidePath := filepath.Join(inside, filepath.Base(bin))
	for _, p := range procs {
		if p.MountNS == own || p.MountNS == "" {
			t.Errorf("pid %d: MountNS %q, want another than the agent's %q", p.PID, p.MountNS, own)
		}
		if p.Exe != insidePath {
			t.Errorf("pid %d: Exe %q, want the namespace's own path %q", p.PID, p.Exe, insidePath)
		}
		if _, err := os.Stat(p.Exe); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("pid %d: %s should not exist in the agent's namespace (stat: %v)", p.PID, p.Exe, err)
		}
		if p.BinaryID != wantID {
			t.Errorf("pid %d: BinaryID %v, want %v, the id of %s", p.PID, p.BinaryID, wantID, bin)
		}
		elf := make([]byte, 4)
		f, err := os.Open(p.ExeOpenPath)
		must(t, err)
		_, err = f.ReadAt(elf, 0)
		f.Close()
		if err != nil || string(elf) != "\x7fELF" {
			t.Errorf("pid %d: reading %s: %q, %v; want an ELF file", p.PID, p.ExeOpenPath, elf, err)
		}
	}
	if n := countPool(procs, "disc"); n != fpmWorkers {
		t.Errorf("%d workers of pool disc, want %d", n, fpmWorkers)
	}
}
