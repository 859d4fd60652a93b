// Package phpfuncs finds the C handlers of PHP internal functions and
// methods (mysqli_query, PDO::query, Redis::get, curl_exec…) in a running
// PHP process, and where they live on disk, so that uprobes can be attached
// to them.
//
// Extensions are mostly built with hidden symbols, so the handlers are found
// the way PHP finds them: in the engine's function table and class table,
// which php-fpm's master fills at start-up and every forked worker shares.
// executor_globals points at them once a process has started a request;
// before that (the master, a fresh worker) compiler_globals does. The walk reads a few
// dozen kilobytes of the process's memory and checks what it reads: garbage
// memory yields ErrImplausible, never a hang or a huge allocation. Since a
// process can forge its tables, every handler is also checked to be the
// start of a function of the PHP binary or of a PHP extension (Rejected):
// the agent reads php-fpm's master, which runs no PHP request, when it can.
package phpfuncs

import (
	"debug/elf"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/tusk-php/tusk/pkg/phpbin"
	"github.com/tusk-php/tusk/pkg/phpoffsets"
	"github.com/tusk-php/tusk/pkg/procmem"
)

// Handler is one internal function's C handler in a running process.
type Handler struct {
	Name string // as asked: "mysqli_query", "pdo::query", "pdostatement::execute"
	Addr uint64 // runtime address in the process
	// Module is the mapped file as the process sees it
	// (/usr/lib/php/20220829/mysqli.so, /usr/sbin/php-fpm8.2).
	Module string
	// OpenPath opens that file from the agent's mount namespace, even if the
	// process is chrooted or in a container: /proc/<pid>/map_files/<range>,
	// or /proc/<pid>/root/<Module> without CAP_SYS_ADMIN. A map_files path
	// is valid while the process lives; a uprobe attached through it stays on
	// the file after that.
	OpenPath string
	// FileOffset is the offset of Addr in the file: what
	// link.UprobeOptions.Address wants.
	FileOffset uint64
}

// Resolve finds the C handlers of names in process pid, whose PHP binary
// info describes (the php-fpm executable; NTS builds only) and offs its
// struct offsets. Names are functions ("mysqli_query") or methods
// ("pdo::query"), compared case-insensitively; the result is keyed by the
// names as given. A name that is not an internal function of the process
// (extension not loaded, typo, user function) is absent from the result.
//
// The addresses come from the process's memory, which the process can
// forge: a handler is returned only if it lies in executable code of the
// PHP binary or of a PHP extension (see Rejected); the others are returned
// as rejected, sorted by name, for the caller to report.
//
// Errors: the process is gone or its memory unreadable (errors from the
// /proc files, fs.ErrNotExist when the process has exited), or the tables
// make no sense (ErrImplausible).
func Resolve(procRoot string, pid int, info *phpbin.Info, offs *phpoffsets.Offsets, names []string) (map[string]Handler, []Rejected, error) {
	if info == nil {
		return nil, nil, errors.New("phpfuncs: no binary info")
	}
	if info.ZTS {
		return nil, nil, fmt.Errorf("phpfuncs: %s is a thread-safe (ZTS) build: executor_globals lives in TLS, not supported", info.Path)
	}
	eg, ok := info.Symbols["executor_globals"]
	if !ok {
		return nil, nil, fmt.Errorf("phpfuncs: %s defines no executor_globals", info.Path)
	}
	l, err := newLayout(offs)
	if err != nil {
		return nil, nil, err
	}
	bias, err := procmem.LoadBias(procRoot, pid, info.LinkBase())
	if err != nil {
		return nil, nil, fmt.Errorf("phpfuncs: %w", err)
	}
	maps, err := readMaps(procRoot, pid)
	if err != nil {
		return nil, nil, fmt.Errorf("phpfuncs: %w", err)
	}
	g := globals{eg: eg.Value + bias}
	if cg, ok := info.Symbols["compiler_globals"]; ok {
		g.cg = cg.Value + bias
	}
	addrs, err := resolveHandlers(procMem{procRoot, pid}, g, l, names)
	if err != nil {
		return nil, nil, fmt.Errorf("phpfuncs: pid %d: %w", pid, err)
	}
	return handlers(maps, addrs)
}

// handlers places addresses in the process's file mappings. An address
// that is not executable code of the PHP binary or of a PHP extension is
// rejected (maps.hookable).
func handlers(maps *mapsFile, addrs map[string]uint64) (map[string]Handler, []Rejected, error) {
	out := make(map[string]Handler, len(addrs))
	var rejected []Rejected
	for name, addr := range addrs {
		reason, err := maps.hookable(addr)
		if err != nil {
			return nil, nil, fmt.Errorf("phpfuncs: pid %d: %s: %w", maps.pid, name, err)
		}
		if reason != "" {
			r := Rejected{Name: name, Addr: addr, Reason: reason}
			if m := maps.find(addr); m != nil && m.file() {
				r.Module = m.path
			}
			rejected = append(rejected, r)
			continue
		}
		h, err := maps.handler(name, addr)
		if err != nil {
			return nil, nil, fmt.Errorf("phpfuncs: pid %d: %w", maps.pid, err)
		}
		out[name] = h
	}
	slices.SortFunc(rejected, func(a, b Rejected) int { return strings.Compare(a.Name, b.Name) })
	return out, rejected, nil
}

// procMem reads a live process's memory.
type procMem struct {
	procRoot string
	pid      int
}

func (p procMem) ReadAt(addr uint64, buf []byte) error {
	return procmem.Read(p.procRoot, p.pid, addr, buf)
}

// ResolveLibrarySymbols finds exported functions (.dynsym) of a shared
// library mapped by process pid, such as libcurl's curl_easy_perform: the
// first mapped library whose file name starts with libBaseName ("libcurl.so"
// matches libcurl.so.4.8.0, not libcurl-gnutls.so.4) that defines each
// symbol. A library that is not mapped, or a symbol it does not define, is
// absent from the result.
//
// Nothing here comes from the process's memory: the kernel's maps say which
// file is mapped where, and the offsets are those the file's own ELF export
// table gives the symbols. A hostile process can at most choose which file
// named lib<name>.so* the agent reads, and a uprobe then lands on the entry
// of a function that file exports under the asked name, never at an offset
// of the process's choosing: no hookable check is needed.
func ResolveLibrarySymbols(procRoot string, pid int, libBaseName string, symbols []string) (map[string]Handler, error) {
	maps, err := readMaps(procRoot, pid)
	if err != nil {
		return nil, fmt.Errorf("phpfuncs: %w", err)
	}
	type fileKey struct {
		path  string
		inode uint64
	}
	var files []fileKey
	seen := map[fileKey]bool{}
	for _, m := range maps.list {
		k := fileKey{m.path, m.inode}
		if m.file() && strings.HasPrefix(filepath.Base(m.path), libBaseName) && !seen[k] {
			seen[k] = true
			files = append(files, k)
		}
	}
	out := map[string]Handler{}
	for _, f := range files {
		var execMaps []*mapping
		for i := range maps.list {
			if m := &maps.list[i]; m.path == f.path && m.inode == f.inode && m.exec() {
				execMaps = append(execMaps, m)
			}
		}
		if len(execMaps) == 0 {
			continue
		}
		open, err := maps.openPath(execMaps[0])
		if err != nil {
			return nil, fmt.Errorf("phpfuncs: pid %d: %w", pid, err)
		}
		offsets, err := dynamicFuncOffsets(open, symbols, out)
		if err != nil {
			return nil, fmt.Errorf("phpfuncs: pid %d: %s: %w", pid, f.path, err)
		}
		for sym, off := range offsets {
			for _, m := range execMaps {
				if m.offset <= off && off-m.offset < m.end-m.start {
					h, err := maps.handler(sym, m.start+off-m.offset)
					if err != nil {
						return nil, fmt.Errorf("phpfuncs: pid %d: %w", pid, err)
					}
					out[sym] = h
					break
				}
			}
		}
	}
	return out, nil
}

// dynamicFuncOffsets returns the file offsets of those symbols, not in
// skip, that the ELF file at path defines as functions in .dynsym.
func dynamicFuncOffsets(path string, symbols []string, skip map[string]Handler) (map[string]uint64, error) {
	want := map[string]bool{}
	for _, s := range symbols {
		if _, done := skip[s]; !done {
			want[s] = true
		}
	}
	if len(want) == 0 {
		return nil, nil
	}
	f, err := elf.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	syms, err := f.DynamicSymbols()
	if err != nil {
		if errors.Is(err, elf.ErrNoSymbols) {
			return nil, nil
		}
		return nil, err
	}
	out := map[string]uint64{}
	for _, s := range syms {
		if !want[s.Name] || s.Section == elf.SHN_UNDEF || elf.ST_TYPE(s.Info) != elf.STT_FUNC {
			continue
		}
		if _, dup := out[s.Name]; dup {
			continue
		}
		for _, p := range f.Progs {
			if p.Type == elf.PT_LOAD && p.Flags&elf.PF_X != 0 && p.Vaddr <= s.Value && s.Value < p.Vaddr+p.Filesz {
				out[s.Name] = s.Value - p.Vaddr + p.Off
				break
			}
		}
	}
	return out, nil
}
