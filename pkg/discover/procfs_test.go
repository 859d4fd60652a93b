package discover

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParseStatTakesCommUpToLastParen(t *testing.T) {
	// A comm may contain spaces and parentheses (prctl(PR_SET_NAME) takes
	// anything), so splitting on spaces or on the first ')' misreads ppid.
	line := "4242 (php (x) y)) S 17 4242 4242 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 987654 1000 20 " +
		"18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n"
	st, err := parseStat([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	want := procStat{comm: "php (x) y)", state: 'S', ppid: 17, flags: 4194560, startTime: 987654}
	if st != want {
		t.Errorf("parseStat = %+v, want %+v", st, want)
	}
}

func TestParseStatRejectsTruncatedLines(t *testing.T) {
	for _, line := range []string{"", "12 S 1 2 3", "12 (php) S 1 2 3"} {
		if _, err := parseStat([]byte(line)); err == nil {
			t.Errorf("parseStat(%q) succeeded, want an error", line)
		}
	}
}

func TestCmdlineStringJoinsArgsAndDropsFPMPadding(t *testing.T) {
	for in, want := range map[string]string{
		"php\x00-r\x00sleep(5);\x00":            "php -r sleep(5);",
		"php-fpm: pool www\x00\x00\x00\x00\x00": "php-fpm: pool www",
		"":                                      "",
	} {
		if got := cmdlineString([]byte(in)); got != want {
			t.Errorf("cmdlineString(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDirFSListsOnlyPIDDirectories(t *testing.T) {
	root := t.TempDir()
	for _, name := range []string{"1", "42", "self", "sys", "0", "-3"} {
		must(t, os.MkdirAll(filepath.Join(root, name), 0o755))
	}
	pids, err := dirFS{root: root}.pids()
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(pids)
	if !slices.Equal(pids, []int{1, 42}) {
		t.Errorf("pids = %v, want [1 42]", pids)
	}
}

func TestDirFSReadsABoundedCmdline(t *testing.T) {
	root := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(root, "7"), 0o755))
	long := append([]byte("php-fpm: pool www\x00"), make([]byte, 10<<20)...)
	must(t, os.WriteFile(filepath.Join(root, "7", "cmdline"), long, 0o644))
	b, err := dirFS{root: root}.readFile(7, "cmdline")
	if err != nil || len(b) != maxProcFile || cmdlineString(b) != "php-fpm: pool www" {
		t.Fatalf("%d bytes, %q, %v", len(b), cmdlineString(b), err)
	}
}

// FuzzProcFiles: a process writes its own cmdline and comm (hence the
// comm inside stat); whatever they hold, parsing and classifying return
// without panicking, and a pool name is the title's, trimmed.
func FuzzProcFiles(f *testing.F) {
	for _, seed := range procFilesSeeds() {
		f.Add(seed[0].([]byte), seed[1].([]byte), seed[2].(string))
	}
	f.Fuzz(func(t *testing.T, stat, cmdline []byte, exe string) {
		if st, err := parseStat(stat); err == nil && !bytes.Contains(stat, []byte("("+st.comm+")")) {
			t.Fatalf("comm %q is not in %q", st.comm, stat)
		}
		title := cmdlineString(cmdline)
		role, pool := classify(exeBase(exe), title, true)
		if pool != strings.TrimSpace(pool) || (pool != "" && role != RoleFPMWorker) || !strings.Contains(title, pool) {
			t.Fatalf("title %q: role %v, pool %q", title, role, pool)
		}
	})
}
