package phpfuncs

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParsesMapsLines(t *testing.T) {
	for line, want := range map[string]mapping{
		"7f2a1c01d000-7f2a1c07d000 r-xp 0001d000 fe:01 1234567                    /usr/lib/php/20220829/redis.so": {
			start: 0x7f2a1c01d000, end: 0x7f2a1c07d000, perms: "r-xp", offset: 0x1d000, inode: 1234567, path: "/usr/lib/php/20220829/redis.so",
		},
		"55d0c0a00000-55d0c0c00000 r-xp 00200000 00:2a 42 /srv/my app/php fpm (deleted)": {
			start: 0x55d0c0a00000, end: 0x55d0c0c00000, perms: "r-xp", offset: 0x200000, inode: 42, path: "/srv/my app/php fpm", deleted: true,
		},
		"7ffd4b5e0000-7ffd4b601000 rw-p 00000000 00:00 0                          [stack]": {
			start: 0x7ffd4b5e0000, end: 0x7ffd4b601000, perms: "rw-p", path: "[stack]",
		},
		"7f2a1c000000-7f2a1c021000 rw-p 00000000 00:00 0 ": {
			start: 0x7f2a1c000000, end: 0x7f2a1c021000, perms: "rw-p",
		},
		"7f2a1c000000-7f2a1c021000 rw-p 00000000 00:00 0": {
			start: 0x7f2a1c000000, end: 0x7f2a1c021000, perms: "rw-p",
		},
	} {
		got, ok := parseMapsLine(line)
		if !ok || got != want {
			t.Errorf("%q:\n got %+v, %v\nwant %+v", line, got, ok, want)
		}
	}
	for _, bad := range []string{"", "garbage", "1000-0 r-xp 0 00:00 0 /x", "zz-ff r-xp 0 00:00 0 /x", "1000-2000 r-xp"} {
		if m, ok := parseMapsLine(bad); ok {
			t.Errorf("%q parsed as %+v", bad, m)
		}
	}
}

// fakeProc writes procRoot/<pid>/maps and the files behind it: map_files
// entries for those listed, and the files under root/.
func fakeProc(t *testing.T, pid string, maps string, mapFiles []string, rootFiles []string) string {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, pid)
	for _, d := range []string{"map_files", "root"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "maps"), []byte(maps), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, f := range mapFiles {
		if err := os.WriteFile(filepath.Join(dir, "map_files", f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range rootFiles {
		p := filepath.Join(dir, "root", f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

const fakeMaps = `55d0c0800000-55d0c0a00000 r--p 00000000 fe:01 100 /usr/sbin/php-fpm8.2
55d0c0a00000-55d0c0c00000 r-xp 00200000 fe:01 100 /usr/sbin/php-fpm8.2
55d0c0c00000-55d0c0d00000 rw-p 00400000 fe:01 100 /usr/sbin/php-fpm8.2
55d0c1000000-55d0c1100000 rw-p 00000000 00:00 0 [heap]
7f2a1c000000-7f2a1c01d000 r--p 00000000 fe:01 200 /usr/lib/php/20220829/redis.so
7f2a1c01d000-7f2a1c07d000 r-xp 0001d000 fe:01 200 /usr/lib/php/20220829/redis.so
7f2a1d000000-7f2a1d010000 r-xp 00000000 fe:01 300 /usr/lib/php/20220829/gone.so (deleted)
7f2a1e000000-7f2a1e010000 r-xp 00000000 00:00 0
`

func TestPlacesHandlersInFileMappings(t *testing.T) {
	root := fakeProc(t, "77", fakeMaps,
		[]string{"55d0c0a00000-55d0c0c00000"},     // php-fpm: map_files readable
		[]string{"usr/lib/php/20220829/redis.so"}, // redis.so: only via root/
	)
	maps, err := readMaps(root, 77)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/usr/sbin/php-fpm8.2", filepath.Join(root, "77", "exe")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "77/root/usr/lib/php/20220829/redis.so"), fakeSharedObject(t, elfSym{"get_module", 0x40, true}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "77/map_files/55d0c0a00000-55d0c0c00000"), fakeELF(t, elfSpec{loadSize: 0x400000}), 0o644); err != nil {
		t.Fatal(err)
	}
	got, rejected, err := handlers(maps, map[string]uint64{
		"file_get_contents": 0x55d0c0a12340,
		"redis::get":        0x7f2a1c025b70,
		"heap":              0x55d0c1000010, // not executable
		"data":              0x55d0c0c00010, // not executable
		"anon":              0x7f2a1e000100, // executable but anonymous (JIT)
		"unmapped":          0x1000,
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Handler{
		"file_get_contents": {Name: "file_get_contents", Addr: 0x55d0c0a12340, Module: "/usr/sbin/php-fpm8.2",
			OpenPath: root + "/77/map_files/55d0c0a00000-55d0c0c00000", FileOffset: 0x212340},
		"redis::get": {Name: "redis::get", Addr: 0x7f2a1c025b70, Module: "/usr/lib/php/20220829/redis.so",
			OpenPath: root + "/77/root/usr/lib/php/20220829/redis.so", FileOffset: 0x25b70},
	}
	if len(got) != len(want) {
		t.Errorf("got %+v", got)
	}
	// The others are not code: refused, each with its reason.
	if len(rejected) != 4 {
		t.Errorf("refused %+v, want heap, data, anon, unmapped", rejected)
	}
	for name, h := range want {
		if got[name] != h {
			t.Errorf("%s:\n got %+v\nwant %+v", name, got[name], h)
		}
	}

	// A deleted file is only reachable through map_files: the path now
	// names another file, or none.
	_, _, err = handlers(maps, map[string]uint64{"gone": 0x7f2a1d000100})
	if err == nil || !strings.Contains(err.Error(), "deleted") {
		t.Errorf("err = %v, want the deleted file refused", err)
	}
}

func TestMissingProcessIsAnError(t *testing.T) {
	if _, err := readMaps(t.TempDir(), 1); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("err = %v", err)
	}
	if _, err := ResolveLibrarySymbols(t.TempDir(), 1, "libc.so", []string{"getpid"}); err == nil {
		t.Error("no error for a missing process")
	}
}

// realisticMaps is the shape of a php-fpm worker's maps (paths shortened).
const realisticMaps = `55d0c0a00000-55d0c0c00000 r--p 00000000 fe:01 1311 /usr/sbin/php-fpm8.2
55d0c0c00000-55d0c1200000 r-xp 00200000 fe:01 1311 /usr/sbin/php-fpm8.2
55d0c2000000-55d0c2400000 rw-p 00000000 00:00 0                          [heap]
7f2a1c000000-7f2a1c01d000 r--p 00000000 fe:01 77 /usr/lib/php/20220829/redis.so
7f2a1c01d000-7f2a1c07d000 r-xp 0001d000 fe:01 77 /usr/lib/php/20220829/redis.so
7f2a1d000000-7f2a1d100000 r-xp 00000000 00:05 9 /dev/zero (deleted)
7ffd4b5e0000-7ffd4b601000 rw-p 00000000 00:00 0                          [stack]
`

func TestMapsLongerThanTheBoundAreRefused(t *testing.T) {
	line := "7f2a1c01d000-7f2a1c07d000 r-xp 0001d000 fe:01 77 /" + strings.Repeat("a", 4000) + "\n"
	if _, err := parseMaps(strings.NewReader(strings.Repeat(line, maxMapsBytes/len(line)+1))); err == nil {
		t.Fatal("maps longer than maxMapsBytes were read")
	}
	list, err := parseMaps(strings.NewReader(realisticMaps))
	if err != nil || len(list) != 7 {
		t.Fatalf("%d mappings, %v", len(list), err)
	}
}

// FuzzParseMaps: a process names the files it maps, so maps lines are
// partly its words. Whatever they say, parsing ends with mappings that
// hold their own start, or an error.
func FuzzParseMaps(f *testing.F) {
	f.Add(realisticMaps)
	f.Fuzz(func(t *testing.T, maps string) {
		list, err := parseMaps(strings.NewReader(maps))
		if err != nil {
			return
		}
		mf := &mapsFile{list: list}
		for _, m := range list {
			if m.end <= m.start {
				t.Fatalf("mapping %+v ends before it starts", m)
			}
			if got := mf.find(m.start); got == nil || got.start > m.start || got.end <= m.start {
				t.Fatalf("find(%#x) = %+v", m.start, got)
			}
			if m.file() && !strings.HasPrefix(m.path, "/") {
				t.Fatalf("file mapping with path %q", m.path)
			}
		}
	})
}
