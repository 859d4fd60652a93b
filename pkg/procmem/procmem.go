// Package procmem reads another process's memory: where its executable is
// mapped and the value of a global there. The agent uses it to check state
// PHP keeps in globals (is USE_ZEND_DTRACE on?) without touching PHP.
package procmem

import (
	"bufio"
	"fmt"
	"io"
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
	f, err := os.Open(fmt.Sprintf("%s/%d/maps", procRoot, pid))
	if err != nil {
		return 0, fmt.Errorf("pid %d: %w", pid, err)
	}
	defer f.Close()
	bias, err := loadBias(f, strings.TrimSuffix(exe, " (deleted)"), firstVaddr)
	if err != nil {
		return 0, fmt.Errorf("pid %d: %w", pid, err)
	}
	return bias, nil
}

// loadBias finds, in a maps file, the first mapping of exe at file offset 0
// (the process can map its executable again elsewhere; the loader's comes
// first unless it does so below it, which misleads only reads of its own
// memory). Lines longer than 1 MiB are an error; the file's length is the
// kernel's to bound (one line per mapping, vm.max_map_count).
func loadBias(r io.Reader, exe string, firstVaddr uint64) (uint64, error) {
	sc := bufio.NewScanner(r)
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
			return 0, fmt.Errorf("bad maps line %q", sc.Text())
		}
		if addr < firstVaddr {
			return 0, fmt.Errorf("%s is mapped at %#x, below its link address %#x", exe, addr, firstVaddr)
		}
		return addr - firstVaddr, nil
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("read maps: %w", err)
	}
	return 0, fmt.Errorf("%s is not mapped at file offset 0", exe)
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
