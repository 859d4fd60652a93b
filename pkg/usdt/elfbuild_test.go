package usdt

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"testing"
)

// Hand-assembled little-endian ELF files for tests: just enough header,
// program headers and sections for debug/elf to read them, so malformed and
// unusual notes can be tested without a toolchain.

type testSection struct {
	name string
	typ  elf.SectionType
	addr uint64
	data []byte
}

type testELF struct {
	class    elf.Class // ELFCLASS64 unless set
	machine  elf.Machine
	sections []testSection
	loads    []Segment // written as PT_LOAD program headers
}

func (e testELF) open(t testing.TB) *elf.File {
	t.Helper()
	f, err := elf.NewFile(bytes.NewReader(e.bytes()))
	if err != nil {
		t.Fatalf("test ELF does not parse: %v", err)
	}
	return f
}

func (e testELF) bytes() []byte {
	is64 := e.class != elf.ELFCLASS32
	ehsize, phentsize, shentsize := 52, 32, 40
	if is64 {
		ehsize, phentsize, shentsize = 64, 56, 64
	}

	// Sections: null, the test's, then .shstrtab.
	shstrtab := []byte{0}
	nameOff := make([]uint32, len(e.sections))
	for i, s := range e.sections {
		nameOff[i] = uint32(len(shstrtab))
		shstrtab = append(append(shstrtab, s.name...), 0)
	}
	shstrName := uint32(len(shstrtab))
	shstrtab = append(append(shstrtab, ".shstrtab"...), 0)

	phoff := ehsize
	off := phoff + len(e.loads)*phentsize
	dataOff := make([]int, len(e.sections))
	for i, s := range e.sections {
		dataOff[i] = off
		off += len(s.data)
	}
	shstrOff := off
	off += len(shstrtab)
	off = (off + 7) &^ 7
	shoff := off
	shnum := len(e.sections) + 2

	var buf bytes.Buffer
	le := binary.LittleEndian
	write := func(v any) { _ = binary.Write(&buf, le, v) }
	ident := [elf.EI_NIDENT]byte{0x7f, 'E', 'L', 'F', byte(elf.ELFCLASS32), byte(elf.ELFDATA2LSB), byte(elf.EV_CURRENT)}
	if is64 {
		ident[elf.EI_CLASS] = byte(elf.ELFCLASS64)
		write(elf.Header64{Ident: ident, Type: uint16(elf.ET_DYN), Machine: uint16(e.machine),
			Version: uint32(elf.EV_CURRENT), Phoff: uint64(phoff), Shoff: uint64(shoff),
			Ehsize: uint16(ehsize), Phentsize: uint16(phentsize), Phnum: uint16(len(e.loads)),
			Shentsize: uint16(shentsize), Shnum: uint16(shnum), Shstrndx: uint16(shnum - 1)})
		for _, l := range e.loads {
			write(elf.Prog64{Type: uint32(elf.PT_LOAD), Flags: uint32(elf.PF_R), Off: l.Offset,
				Vaddr: l.Vaddr, Paddr: l.Vaddr, Filesz: l.Filesz, Memsz: l.Memsz, Align: 0x1000})
		}
	} else {
		write(elf.Header32{Ident: ident, Type: uint16(elf.ET_DYN), Machine: uint16(e.machine),
			Version: uint32(elf.EV_CURRENT), Phoff: uint32(phoff), Shoff: uint32(shoff),
			Ehsize: uint16(ehsize), Phentsize: uint16(phentsize), Phnum: uint16(len(e.loads)),
			Shentsize: uint16(shentsize), Shnum: uint16(shnum), Shstrndx: uint16(shnum - 1)})
		for _, l := range e.loads {
			write(elf.Prog32{Type: uint32(elf.PT_LOAD), Off: uint32(l.Offset), Vaddr: uint32(l.Vaddr),
				Paddr: uint32(l.Vaddr), Filesz: uint32(l.Filesz), Memsz: uint32(l.Memsz),
				Flags: uint32(elf.PF_R), Align: 0x1000})
		}
	}
	for _, s := range e.sections {
		buf.Write(s.data)
	}
	buf.Write(shstrtab)
	buf.Write(make([]byte, shoff-buf.Len()))

	type shdr struct {
		name uint32
		typ  elf.SectionType
		addr uint64
		off  int
		size int
	}
	hdrs := []shdr{{}}
	for i, s := range e.sections {
		hdrs = append(hdrs, shdr{nameOff[i], s.typ, s.addr, dataOff[i], len(s.data)})
	}
	hdrs = append(hdrs, shdr{shstrName, elf.SHT_STRTAB, 0, shstrOff, len(shstrtab)})
	for _, h := range hdrs {
		if is64 {
			write(elf.Section64{Name: h.name, Type: uint32(h.typ), Addr: h.addr,
				Off: uint64(h.off), Size: uint64(h.size), Addralign: 1})
		} else {
			write(elf.Section32{Name: h.name, Type: uint32(h.typ), Addr: uint32(h.addr),
				Off: uint32(h.off), Size: uint32(h.size), Addralign: 1})
		}
	}
	return buf.Bytes()
}

// rawNote is one ELF note: header, owner name and desc, each padded to 4.
func rawNote(owner string, typ uint32, desc []byte) []byte {
	name := append([]byte(owner), 0)
	var b []byte
	b = binary.LittleEndian.AppendUint32(b, uint32(len(name)))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(desc)))
	b = binary.LittleEndian.AppendUint32(b, typ)
	b = append(b, pad4(name)...)
	return append(b, pad4(desc)...)
}

// sdtDesc is a stapsdt descriptor with addrSize-byte addresses.
func sdtDesc(addrSize int, pc, base, sem uint64, provider, name, args string) []byte {
	var b []byte
	for _, a := range []uint64{pc, base, sem} {
		if addrSize == 4 {
			b = binary.LittleEndian.AppendUint32(b, uint32(a))
		} else {
			b = binary.LittleEndian.AppendUint64(b, a)
		}
	}
	for _, s := range []string{provider, name, args} {
		b = append(append(b, s...), 0)
	}
	return b
}

func sdtNote(addrSize int, pc, base, sem uint64, provider, name, args string) []byte {
	return rawNote("stapsdt", noteTypeSDT, sdtDesc(addrSize, pc, base, sem, provider, name, args))
}

func pad4(b []byte) []byte {
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}
