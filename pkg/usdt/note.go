package usdt

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
)

const (
	noteHeaderSize = 12 // namesz, descsz, type: three 4-byte words
	noteAlign      = 4  // SDT notes are 4-aligned even in ELF64 files
	noteTypeSDT    = 3  // NT_STAPSDT, the version-3 format <sys/sdt.h> emits
	noteOwner      = "stapsdt\x00"
)

// NoteError says which note of .note.stapsdt is malformed and how.
type NoteError struct {
	Index  int    // 0-based position among all notes of the section
	Offset int    // byte offset of the note's header in the section
	Probe  string // "provider:name" once those could be read, else ""
	Err    error
}

func (e *NoteError) Error() string {
	if e.Probe != "" {
		return fmt.Sprintf("note %d (%s) at section offset %#x: %v", e.Index, e.Probe, e.Offset, e.Err)
	}
	return fmt.Sprintf("note %d at section offset %#x: %v", e.Index, e.Offset, e.Err)
}

func (e *NoteError) Unwrap() error { return e.Err }

// parseNotes walks the bytes of a .note.stapsdt section. Notes of another
// owner or type are skipped. Addresses are returned as recorded; the
// .stapsdt.base adjustment is the caller's (it needs the section table).
// Malformed input gives a *NoteError, never a panic: every length read from
// the data is checked against what is left before it is used.
func parseNotes(data []byte, order binary.ByteOrder, addrSize int, machine elf.Machine) ([]Probe, error) {
	var probes []Probe
	for off, index := 0, 0; off < len(data); index++ {
		fail := func(probe string, err error) ([]Probe, error) {
			return nil, &NoteError{Index: index, Offset: off, Probe: probe, Err: err}
		}
		rest := data[off:]
		if len(rest) < noteHeaderSize {
			return fail("", fmt.Errorf("truncated header: %d bytes left, a header is %d", len(rest), noteHeaderSize))
		}
		namesz := uint64(order.Uint32(rest[0:]))
		descsz := uint64(order.Uint32(rest[4:]))
		typ := order.Uint32(rest[8:])
		left := uint64(len(rest))

		nameEnd := noteHeaderSize + namesz
		descStart := noteHeaderSize + alignUp(namesz)
		descEnd := descStart + descsz
		switch {
		case nameEnd > left:
			return fail("", fmt.Errorf("name size %d runs past the section end (%d bytes left after the header)", namesz, left-noteHeaderSize))
		case descEnd > left:
			return fail("", fmt.Errorf("desc size %d runs past the section end (%d bytes left after the name)", descsz, left-min(descStart, left)))
		}
		// The padding after the last descriptor is sometimes cut off; it
		// only separates notes, so its absence at the very end is harmless.
		next := min(descStart+alignUp(descsz), left)

		if string(rest[noteHeaderSize:nameEnd]) == noteOwner && typ == noteTypeSDT {
			probe, err := parseProbeDesc(rest[descStart:descEnd], order, addrSize, machine)
			if err != nil {
				return fail(probe.id(), err)
			}
			probes = append(probes, probe)
		}
		off += int(next)
	}
	return probes, nil
}

// parseProbeDesc decodes one descriptor: pc, base, semaphore, then provider,
// name and args, each NUL-terminated. On error the returned Probe carries
// whatever names were read, so the error can say which probe it was.
func parseProbeDesc(desc []byte, order binary.ByteOrder, addrSize int, machine elf.Machine) (Probe, error) {
	var p Probe
	if len(desc) < 3*addrSize {
		return p, fmt.Errorf("desc is %d bytes, shorter than its three %d-byte addresses", len(desc), addrSize)
	}
	readAddr := func(i int) uint64 {
		b := desc[i*addrSize:]
		if addrSize == 4 {
			return uint64(order.Uint32(b))
		}
		return order.Uint64(b)
	}
	p.Location, p.Base, p.Semaphore = readAddr(0), readAddr(1), readAddr(2)

	strs := desc[3*addrSize:]
	var ok bool
	if p.Provider, strs, ok = cutCString(strs); !ok {
		return p, errors.New("provider has no NUL terminator")
	}
	if p.Name, strs, ok = cutCString(strs); !ok {
		return p, fmt.Errorf("name after provider %q has no NUL terminator", p.Provider)
	}
	if p.Provider == "" || p.Name == "" {
		return p, errors.New("empty provider or probe name")
	}
	if p.RawArgs, _, ok = cutCString(strs); !ok {
		return p, errors.New("argument string has no NUL terminator")
	}
	args, err := ParseArgs(p.RawArgs, machine)
	switch {
	case errors.Is(err, ErrUnsupported):
		p.ArgsErr = err // well-formed: keep the probe, let the caller decide
	case err != nil:
		return p, err
	}
	p.Args = args
	return p, nil
}

func cutCString(b []byte) (s string, rest []byte, ok bool) {
	i := bytes.IndexByte(b, 0)
	if i < 0 {
		return "", b, false
	}
	return string(b[:i]), b[i+1:], true
}

func alignUp(n uint64) uint64 { return (n + noteAlign - 1) &^ (noteAlign - 1) }
