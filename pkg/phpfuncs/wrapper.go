package phpfuncs

import (
	"encoding/binary"
	"fmt"

	"github.com/tusk-php/tusk/pkg/phpbin"
	"github.com/tusk-php/tusk/pkg/procmem"
)

// ResolveStreamOpener finds the opener of one of PHP's stream wrappers, such
// as php_stream_url_wrap_http behind the exported php_stream_http_wrapper:
// the wrapper struct's first field points to its ops table, whose first
// field is the opener (main/php_streams.h, unchanged since PHP 5). Hooking
// it catches only http(s):// opens, where hooking file_get_contents or fopen
// would trap on every local file too. name labels the result.
//
// The opener is read from the process's memory: one outside the PHP binary
// and PHP extensions is refused with an error wrapping a *Rejected.
func ResolveStreamOpener(procRoot string, pid int, info *phpbin.Info, wrapperSymbol, name string) (Handler, error) {
	sym, ok := info.Symbols[wrapperSymbol]
	if !ok {
		return Handler{}, fmt.Errorf("phpfuncs: %s does not export %s", info.Path, wrapperSymbol)
	}
	bias, err := procmem.LoadBias(procRoot, pid, info.LinkBase())
	if err != nil {
		return Handler{}, fmt.Errorf("phpfuncs: %w", err)
	}
	opener, err := streamOpener(procMem{procRoot, pid}, sym.Value+bias)
	if err != nil {
		return Handler{}, fmt.Errorf("phpfuncs: pid %d: %s: %w", pid, wrapperSymbol, err)
	}
	maps, err := readMaps(procRoot, pid)
	if err != nil {
		return Handler{}, fmt.Errorf("phpfuncs: %w", err)
	}
	found, rejected, err := handlers(maps, map[string]uint64{name: opener})
	if err != nil {
		return Handler{}, err
	}
	if len(rejected) > 0 {
		return Handler{}, fmt.Errorf("phpfuncs: pid %d: %s's opener: %w", pid, wrapperSymbol, &rejected[0])
	}
	return found[name], nil
}

// streamOpener reads the opener of the php_stream_wrapper at wrapper:
// wrapper->wops->stream_opener, two pointers. A null pointer or an
// unreadable one is ErrImplausible.
func streamOpener(mem memReader, wrapper uint64) (uint64, error) {
	ptr := func(addr uint64) (uint64, error) {
		var b [8]byte
		if err := mem.ReadAt(addr, b[:]); err != nil {
			return 0, err
		}
		return binary.LittleEndian.Uint64(b[:]), nil
	}
	wops, err := ptr(wrapper)
	if err != nil {
		return 0, err
	}
	if wops == 0 {
		return 0, fmt.Errorf("no ops table: %w", ErrImplausible)
	}
	opener, err := ptr(wops)
	if err != nil || opener == 0 {
		return 0, fmt.Errorf("no opener (%v): %w", err, ErrImplausible)
	}
	return opener, nil
}
