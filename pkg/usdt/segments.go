package usdt

import (
	"debug/elf"
	"fmt"
)

// Segment is the part of a PT_LOAD program header that maps addresses to
// file offsets.
type Segment struct {
	Vaddr, Offset, Filesz, Memsz uint64
}

// Segments are an ELF file's PT_LOAD segments, kept so that addresses can be
// turned into file offsets after the file is closed.
type Segments []Segment

// LoadSegments copies f's PT_LOAD program headers.
func LoadSegments(f *elf.File) Segments {
	var segs Segments
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD {
			segs = append(segs, Segment{Vaddr: p.Vaddr, Offset: p.Off, Filesz: p.Filesz, Memsz: p.Memsz})
		}
	}
	return segs
}

// FileOffset maps a link-time vaddr to its offset in the file, the unit both
// uprobe attach points and the kernel's ref_ctr_offset (semaphores) use. The
// two differ whenever a segment's vaddr and offset differ, as the data segment
// usually does. An address in no segment, or in a segment's zero-filled tail
// (.bss, which the file does not hold), has no file offset.
func (segs Segments) FileOffset(vaddr uint64) (uint64, error) {
	for _, s := range segs {
		if vaddr < s.Vaddr || vaddr-s.Vaddr >= s.Memsz {
			continue
		}
		if vaddr-s.Vaddr >= s.Filesz {
			return 0, fmt.Errorf("usdt: vaddr %#x is in the zero-filled tail of the segment at %#x, not backed by the file", vaddr, s.Vaddr)
		}
		return s.Offset + (vaddr - s.Vaddr), nil
	}
	return 0, fmt.Errorf("usdt: vaddr %#x is in no PT_LOAD segment", vaddr)
}

// VaddrToFileOffset maps vaddr through f's PT_LOAD segments. See
// Segments.FileOffset.
func VaddrToFileOffset(f *elf.File, vaddr uint64) (uint64, error) {
	return LoadSegments(f).FileOffset(vaddr)
}
