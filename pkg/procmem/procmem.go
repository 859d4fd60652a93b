// Package procmem reads another process's memory: where its executable is
// mapped and the value of a global there. The agent uses it to check state
// PHP keeps in globals (is USE_ZEND_DTRACE on?) without touching PHP.
package procmem

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// LoadBias returns how far the executable of pid was moved from its
// link-time addresses: runtime address = link-time address + bias. firstVaddr
// is the lowest PT_LOAD vaddr of the executable, page-aligned (0 for PIE).
func LoadBias(procRoot string, pid int, firstVaddr uint64) (uint64, error) {
	exe, err := os.Readlink(fmt.Sprintf("%s/%d/exe", procRoot, pid))
	if err != nil {
		return 0, fmt.Errorf("pid %d: %w", pid, err)
	}
	exe = strings.TrimSuffix(exe, " (deleted)")
	f, err := os.Open(fmt.Sprintf("%s/%d/maps", procRoot, pid))
	if err != nil {
		return 0, fmt.Errorf("pid %d: %w", pid, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		// start-end perms offset dev inode path
		fields := strings.Fields(sc.Text())
		if len(fields) < 6 || fields[5] != exe || fields[3] == "" {
			continue
		}
		off, err := strconv.ParseUint(fields[2], 16, 64)
		if err != nil || off != 0 {
			continue
		}
		start, _, ok := strings.Cut(fields[0], "-")
		if !ok {
			continue
		}
		addr, err := strconv.ParseUint(start, 16, 64)
		if err != nil {
			return 0, fmt.Errorf("pid %d: bad maps line %q", pid, sc.Text())
		}
		return addr - firstVaddr, nil
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("pid %d: read maps: %w", pid, err)
	}
	return 0, fmt.Errorf("pid %d: %s is not mapped at file offset 0", pid, exe)
}

// Read copies len(buf) bytes at addr in pid's memory.
func Read(procRoot string, pid int, addr uint64, buf []byte) error {
	f, err := os.Open(fmt.Sprintf("%s/%d/mem", procRoot, pid))
	if err != nil {
		return fmt.Errorf("pid %d: %w", pid, err)
	}
	defer f.Close()
	if _, err := f.ReadAt(buf, int64(addr)); err != nil {
		return fmt.Errorf("pid %d: read %d bytes at %#x: %w", pid, len(buf), addr, err)
	}
	return nil
}
