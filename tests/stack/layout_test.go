package stack

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckTraversable(t *testing.T) {
	base := t.TempDir()
	closed := filepath.Join(base, "closed")
	open := filepath.Join(closed, "open")
	if err := os.MkdirAll(open, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(closed, 0o700); err != nil {
		t.Fatal(err)
	}
	err := checkTraversable(filepath.Join(open, "x"))
	if err == nil || !strings.Contains(err.Error(), closed+" is mode") {
		t.Errorf("err = %v, want one naming %s", err, closed)
	}
	if err := checkTraversable("/usr/bin/env"); err != nil {
		t.Error(err)
	}
}

func TestPrepareLayout(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	l, err := prepareLayout(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{l.Dir, l.log(""), l.run("")} {
		info, err := os.Stat(d)
		if err != nil || info.Mode().Perm() != 0o755 {
			t.Errorf("%s: %v %v", d, info.Mode(), err)
		}
	}
	if _, err := prepareLayout(""); err == nil {
		t.Error("an empty dir must be refused")
	}
}
