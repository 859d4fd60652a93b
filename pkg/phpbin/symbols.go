package phpbin

import (
	"debug/elf"
	"errors"
	"fmt"
)

// wantedSymbols is every symbol the agent may look up in a PHP binary; the
// rest of its ~5000 dynamic symbols are not kept. Add names here, nowhere else.
var wantedSymbols = []string{
	// Engine, SAPI and core globals. NTS builds export the structs themselves.
	"executor_globals", "compiler_globals", "core_globals", "sapi_globals", "sapi_module",
	// ZTS builds export offsets into each thread's TSRM block instead.
	"executor_globals_offset", "compiler_globals_offset", "core_globals_offset",
	"sapi_globals_offset", "tsrm_get_ls_cache",
	// Request lifecycle: uprobe fallbacks for binaries built without DTrace.
	"php_request_startup", "php_request_shutdown",
	// The executor hooks; dtrace_* are installed when DTrace probes are on.
	"execute_ex", "zend_execute_ex", "dtrace_execute_ex",
	"zend_execute_internal", "dtrace_execute_internal",
	// The flag that makes the engine call dtrace_execute_ex (USE_ZEND_DTRACE).
	"zend_dtrace_enabled",
	// The http:// stream wrapper, whose opener times PHP's own HTTP client.
	"php_stream_http_wrapper",
}

// What tells an NTS build from a ZTS one: which form of executor_globals the
// binary exports.
const (
	ntsMarker = "executor_globals"
	ztsMarker = "executor_globals_offset"
)

// Symbol is a defined symbol's link-time address and size.
type Symbol struct {
	Value uint64 // vaddr
	Size  uint64
}

// readSymbols keeps the wanted, defined symbols: first from the dynamic
// table, which stripped distribution builds still have, then from .symtab
// for any name it lacks (unstripped builds define more there).
func readSymbols(f *elf.File) (map[string]Symbol, error) {
	want := make(map[string]bool, len(wantedSymbols))
	for _, name := range wantedSymbols {
		want[name] = true
	}
	found := map[string]Symbol{}
	keep := func(syms []elf.Symbol) {
		for _, s := range syms {
			if want[s.Name] && s.Section != elf.SHN_UNDEF {
				if _, dup := found[s.Name]; !dup {
					found[s.Name] = Symbol{Value: s.Value, Size: s.Size}
				}
			}
		}
	}
	dyn, err := f.DynamicSymbols()
	if err != nil && !errors.Is(err, elf.ErrNoSymbols) {
		return nil, fmt.Errorf("reading dynamic symbols: %w", err)
	}
	keep(dyn)
	if len(found) < len(want) {
		static, err := f.Symbols()
		if err != nil && !errors.Is(err, elf.ErrNoSymbols) {
			return nil, fmt.Errorf("reading .symtab: %w", err)
		}
		keep(static)
	}
	return found, nil
}

// isZTS decides the build kind from the symbols, or says why the file is not
// a PHP engine at all.
func isZTS(syms map[string]Symbol) (bool, error) {
	if _, ok := syms[ztsMarker]; ok {
		return true, nil
	}
	if _, ok := syms[ntsMarker]; ok {
		return false, nil
	}
	return false, fmt.Errorf("not a PHP binary: no %s symbol (NTS build) and no %s (ZTS build)", ntsMarker, ztsMarker)
}
