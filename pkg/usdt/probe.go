package usdt

import (
	"debug/elf"
	"fmt"
	"os"
)

const (
	notesSection = ".note.stapsdt"
	baseSection  = ".stapsdt.base"
)

// Probe is one probe site. A probe name can have several sites (the
// compiler inlined or duplicated the DTRACE_ macro); each is its own Probe.
type Probe struct {
	Provider string
	Name     string
	// Location is the vaddr of the probe instruction (a nop), after the
	// .stapsdt.base prelink adjustment. Uprobes want its file offset.
	Location uint64
	// Base is the address of .stapsdt.base as recorded in the note.
	Base uint64
	// Semaphore is the vaddr of the probe's is-enabled counter (adjusted like
	// Location), 0 if the probe has none.
	Semaphore uint64
	Args      []Arg
	RawArgs   string
	// ArgsErr is set, and Args nil, when RawArgs is well-formed but uses an
	// operand this package does not support (errors.Is(ArgsErr,
	// ErrUnsupported)). The probe is still listed: it can be attached, only
	// its arguments cannot be read.
	ArgsErr error
}

func (p Probe) String() string {
	return fmt.Sprintf("%s:%s@%#x", p.Provider, p.Name, p.Location)
}

// id names the probe for error messages with whatever has been read so far.
func (p Probe) id() string {
	switch {
	case p.Provider == "":
		return ""
	case p.Name == "":
		return p.Provider + ":?"
	}
	return p.Provider + ":" + p.Name
}

// Open reads the probes of the ELF file at path. See ReadProbes.
func Open(path string) ([]Probe, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("usdt: %w", err)
	}
	defer file.Close()
	f, err := elf.NewFile(file)
	if err != nil {
		return nil, fmt.Errorf("usdt: %s: not a readable ELF file: %w", path, err)
	}
	probes, err := readProbes(f)
	if err != nil {
		return nil, fmt.Errorf("usdt: %s: %w", path, err)
	}
	return probes, nil
}

// ReadProbes returns the SDT probes of f in note order. A file without a
// .note.stapsdt section has no probes: that is (nil, nil), not an error, so
// callers test len() and decide for themselves whether a probe-less binary
// (PHP built without --enable-dtrace) is a problem. Malformed notes give a
// *NoteError; a bad argument spec inside one wraps an *ArgError.
func ReadProbes(f *elf.File) ([]Probe, error) {
	probes, err := readProbes(f)
	if err != nil {
		return nil, fmt.Errorf("usdt: %w", err)
	}
	return probes, nil
}

func readProbes(f *elf.File) ([]Probe, error) {
	sec := f.Section(notesSection)
	if sec == nil {
		return nil, nil
	}
	if sec.Type == elf.SHT_NOBITS {
		return nil, fmt.Errorf("%s has no contents in this file", notesSection)
	}
	var addrSize int
	switch f.Class {
	case elf.ELFCLASS64:
		addrSize = 8
	case elf.ELFCLASS32:
		addrSize = 4
	default:
		return nil, fmt.Errorf("unknown ELF class %v", f.Class)
	}
	data, err := sec.Data()
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", notesSection, err)
	}
	probes, err := parseNotes(data, f.ByteOrder, addrSize, f.Machine)
	if err != nil {
		return nil, err
	}
	if base := f.Section(baseSection); base != nil {
		adjustForPrelink(probes, base.Addr, addrSize)
	}
	return probes, nil
}

// adjustForPrelink moves each probe by however far .stapsdt.base moved since
// the note was written: prelink relocates sections but not note contents, so
// the section's current address against the recorded one gives the shift.
func adjustForPrelink(probes []Probe, baseAddr uint64, addrSize int) {
	mask := ^uint64(0)
	if addrSize == 4 {
		mask = 1<<32 - 1
	}
	for i := range probes {
		p := &probes[i]
		if p.Base == baseAddr {
			continue
		}
		shift := baseAddr - p.Base // modular arithmetic handles moves down too
		p.Location = (p.Location + shift) & mask
		if p.Semaphore != 0 {
			p.Semaphore = (p.Semaphore + shift) & mask
		}
	}
}
