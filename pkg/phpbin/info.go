// Package phpbin gathers, in one pass over a PHP executable or libphp.so,
// the facts the agent needs before attaching to it: PHP version, thread
// safety, SAPI, USDT probes and the addresses of a few engine symbols.
package phpbin

import (
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/tusk-php/tusk/pkg/usdt"
)

// Info describes one PHP binary. Addresses are link-time vaddrs.
type Info struct {
	Path    string
	Machine elf.Machine
	// Version is PHP_VERSION ("8.2.36"), "" when it could not be found; then
	// VersionErr (wrapping ErrVersionUnknown) says what was looked for.
	Version    string
	VersionErr error
	ZTS        bool   // thread-safe build: globals live in TSRM, not in .bss
	SAPI       string // "fpm", "cli", "cgi", "apache2handler", "embed", or ""
	Probes     []usdt.Probe
	// Symbols holds those of wantedSymbols the binary defines.
	Symbols map[string]Symbol

	segments usdt.Segments
}

// Inspect opens the ELF file at path once and reads everything Info holds.
// It fails for files that are not ELF, are truncated or malformed, or define
// neither executor_globals nor executor_globals_offset (not a PHP engine).
// A PHP binary without USDT probes or without a recognisable version string
// is not a failure; see Probes and VersionErr.
func Inspect(path string) (*Info, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("phpbin: %w", err)
	}
	defer file.Close()
	f, err := elf.NewFile(file)
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			size := int64(-1)
			if st, statErr := file.Stat(); statErr == nil {
				size = st.Size()
			}
			return nil, fmt.Errorf("phpbin: %s: not a readable ELF file: it ends early (%d bytes; truncated copy?): %w", path, size, err)
		}
		return nil, fmt.Errorf("phpbin: %s: not a readable ELF file: %w", path, err)
	}
	info, err := inspect(f)
	if err != nil {
		return nil, fmt.Errorf("phpbin: %s: %w", path, err)
	}
	info.Path = path
	return info, nil
}

func inspect(f *elf.File) (*Info, error) {
	symbols, err := readSymbols(f)
	if err != nil {
		return nil, err
	}
	zts, err := isZTS(symbols)
	if err != nil {
		return nil, err
	}
	rodata, err := readOnlyData(f)
	if err != nil {
		return nil, err
	}
	probes, err := usdt.ReadProbes(f)
	if err != nil {
		return nil, err
	}
	info := &Info{
		Machine:  f.Machine,
		ZTS:      zts,
		SAPI:     findSAPI(rodata),
		Probes:   probes,
		Symbols:  symbols,
		segments: usdt.LoadSegments(f),
	}
	info.Version, info.VersionErr = findVersion(rodata)
	return info, nil
}

// MajorMinor is "8.2" for Version "8.2.36", "" when Version is unknown. It
// is the key of per-version data such as struct offsets.
func (i *Info) MajorMinor() string { return majorMinor(i.Version) }

// HasProbe reports whether the binary has at least one site of the probe.
func (i *Info) HasProbe(provider, name string) bool {
	for _, p := range i.Probes {
		if p.Provider == provider && p.Name == name {
			return true
		}
	}
	return false
}

// ProbesNamed returns every site of the probe, in note order; a probe can
// have several (exception__thrown has two in Debian's 8.2 builds).
func (i *Info) ProbesNamed(provider, name string) []usdt.Probe {
	var sites []usdt.Probe
	for _, p := range i.Probes {
		if p.Provider == provider && p.Name == name {
			sites = append(sites, p)
		}
	}
	return sites
}

// FileOffset maps a vaddr (a Probe.Location or Semaphore, a Symbol.Value)
// to its offset in the file, as uprobes and ref_ctr_offset want it, using the
// segments read by Inspect.
func (i *Info) FileOffset(vaddr uint64) (uint64, error) {
	return i.segments.FileOffset(vaddr)
}

// LinkBase is the page-aligned vaddr of the first loadable segment: the
// runtime address of the mapping at file offset 0 minus LinkBase is the
// load bias (0 for a non-PIE executable at its link address, the mapping
// address for PIE).
func (i *Info) LinkBase() uint64 {
	base := ^uint64(0)
	for _, s := range i.segments {
		if s.Vaddr < base {
			base = s.Vaddr
		}
	}
	if base == ^uint64(0) {
		return 0
	}
	return base &^ 0xfff
}
