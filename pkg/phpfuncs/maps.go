package phpfuncs

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// mapping is one line of /proc/<pid>/maps.
type mapping struct {
	start, end uint64
	perms      string // "r-xp"
	offset     uint64 // pgoff: file offset of start
	inode      uint64
	path       string // as the process sees it, without " (deleted)"; "" or "[heap]"… for anonymous
	deleted    bool
}

func (m *mapping) exec() bool { return len(m.perms) >= 3 && m.perms[2] == 'x' }

// file reports whether the mapping is backed by a file.
func (m *mapping) file() bool { return m.inode != 0 && strings.HasPrefix(m.path, "/") }

// mapsFile is a process's mappings, in address order.
type mapsFile struct {
	procRoot string
	pid      int
	list     []mapping
	opened   map[uint64]string // start → open path already checked
	exe      *mapping          // the PHP binary's first mapping (phpBinary)
	exeDone  bool
}

// maxMapsBytes bounds what is read of a maps file. A php-fpm worker's is
// ~100 KiB; a process that maps tens of thousands of files under 4 KiB
// paths must not make the agent hold hundreds of MiB.
const maxMapsBytes = 32 << 20

func readMaps(procRoot string, pid int) (*mapsFile, error) {
	f, err := os.Open(fmt.Sprintf("%s/%d/maps", procRoot, pid))
	if err != nil {
		return nil, fmt.Errorf("pid %d: %w", pid, err)
	}
	defer f.Close()
	list, err := parseMaps(f)
	if err != nil {
		return nil, fmt.Errorf("pid %d: maps: %w", pid, err)
	}
	return &mapsFile{procRoot: procRoot, pid: pid, list: list, opened: map[uint64]string{}}, nil
}

// parseMaps reads the lines of a maps file it can parse, up to
// maxMapsBytes.
func parseMaps(r io.Reader) ([]mapping, error) {
	lr := &io.LimitedReader{R: r, N: maxMapsBytes + 1}
	sc := bufio.NewScanner(lr)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var list []mapping
	for sc.Scan() {
		if m, ok := parseMapsLine(sc.Text()); ok {
			list = append(list, m)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if lr.N <= 0 {
		return nil, fmt.Errorf("longer than %d bytes", maxMapsBytes)
	}
	return list, nil
}

// parseMapsLine parses "start-end perms offset dev inode   path"; the path
// may contain spaces and ends with " (deleted)" for a removed file.
func parseMapsLine(line string) (mapping, bool) {
	var fields [5]string
	rest := line
	for i := range fields {
		rest = strings.TrimLeft(rest, " \t")
		j := strings.IndexAny(rest, " \t")
		if j < 0 {
			if i < 4 {
				return mapping{}, false
			}
			j = len(rest)
		}
		fields[i], rest = rest[:j], rest[j:]
	}
	startS, endS, ok := strings.Cut(fields[0], "-")
	if !ok {
		return mapping{}, false
	}
	var m mapping
	var err1, err2, err3, err4 error
	m.start, err1 = strconv.ParseUint(startS, 16, 64)
	m.end, err2 = strconv.ParseUint(endS, 16, 64)
	m.offset, err3 = strconv.ParseUint(fields[2], 16, 64)
	m.inode, err4 = strconv.ParseUint(fields[4], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil || err4 != nil || m.end <= m.start {
		return mapping{}, false
	}
	m.perms = fields[1]
	m.path = strings.TrimLeft(rest, " \t")
	if p, ok := strings.CutSuffix(m.path, " (deleted)"); ok {
		m.path, m.deleted = p, true
	}
	return m, true
}

// find returns the mapping containing addr, nil if none.
func (mf *mapsFile) find(addr uint64) *mapping {
	for i := range mf.list {
		if m := &mf.list[i]; m.start <= addr && addr < m.end {
			return m
		}
	}
	return nil
}

// openPath returns a path the agent can open and attach uprobes to for the
// file behind m, from its own mount namespace:
// /proc/<pid>/map_files/<start>-<end> (the very file mapped, even if it was
// deleted or the process is chrooted or in another mount namespace; needs
// CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE), else /proc/<pid>/root/<path>
// (the file now at that path inside the process's root: wrong for a deleted
// file, which is then refused).
func (mf *mapsFile) openPath(m *mapping) (string, error) {
	if p, ok := mf.opened[m.start]; ok {
		return p, nil
	}
	p := fmt.Sprintf("%s/%d/map_files/%x-%x", mf.procRoot, mf.pid, m.start, m.end)
	if _, err := os.Stat(p); err != nil {
		if m.deleted {
			return "", fmt.Errorf("%s was deleted and %s cannot be opened: %w", m.path, p, err)
		}
		p = filepath.Join(fmt.Sprintf("%s/%d/root", mf.procRoot, mf.pid), m.path)
		if _, err := os.Stat(p); err != nil {
			return "", err
		}
	}
	mf.opened[m.start] = p
	return p, nil
}

// handler makes a Handler of an address in an executable file mapping.
func (mf *mapsFile) handler(name string, addr uint64) (Handler, error) {
	m := mf.find(addr)
	if m == nil || !m.exec() || !m.file() {
		return Handler{}, fmt.Errorf("%s: handler %#x is not in an executable file mapping of pid %d", name, addr, mf.pid)
	}
	open, err := mf.openPath(m)
	if err != nil {
		return Handler{}, fmt.Errorf("%s: %w", name, err)
	}
	return Handler{
		Name:       name,
		Addr:       addr,
		Module:     m.path,
		OpenPath:   open,
		FileOffset: addr - m.start + m.offset,
	}, nil
}
