package phpbin

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
)

// fakePHP writes a minimal little-endian ELF64 file with a .symtab defining
// the given symbols and a .rodata holding the given bytes: enough to drive
// Inspect through builds no machine here has (ZTS, no DTrace, no section
// but .symtab). It has no program headers and no .note.stapsdt.
func fakePHP(t *testing.T, symbols map[string]uint64, rodata []byte) string {
	t.Helper()
	le := binary.LittleEndian

	strtab := []byte{0}
	var symtab bytes.Buffer
	_ = binary.Write(&symtab, le, elf.Sym64{}) // index 0: the null symbol
	for name, value := range symbols {
		_ = binary.Write(&symtab, le, elf.Sym64{
			Name:  uint32(len(strtab)),
			Info:  elf.ST_INFO(elf.STB_GLOBAL, elf.STT_OBJECT),
			Shndx: 3, // .rodata: any defined section will do
			Value: value,
			Size:  8,
		})
		strtab = append(append(strtab, name...), 0)
	}

	// Section indexes: 0 null, 1 .strtab, 2 .symtab, 3 .rodata, 4 .shstrtab.
	type section struct {
		name          string
		typ           elf.SectionType
		link, entsize uint32
		data          []byte
	}
	sections := []section{
		{".strtab", elf.SHT_STRTAB, 0, 0, strtab},
		{".symtab", elf.SHT_SYMTAB, 1, 24, symtab.Bytes()},
		{".rodata", elf.SHT_PROGBITS, 0, 0, rodata},
	}
	shstrtab := []byte{0}
	names := map[string]uint32{}
	for _, s := range append(sections, section{name: ".shstrtab"}) {
		names[s.name] = uint32(len(shstrtab))
		shstrtab = append(append(shstrtab, s.name...), 0)
	}
	sections = append(sections, section{".shstrtab", elf.SHT_STRTAB, 0, 0, shstrtab})

	var body bytes.Buffer
	offsets := make([]uint64, len(sections))
	for i, s := range sections {
		offsets[i] = 64 + uint64(body.Len())
		body.Write(s.data)
		for body.Len()%8 != 0 {
			body.WriteByte(0)
		}
	}
	var out bytes.Buffer
	_ = binary.Write(&out, le, elf.Header64{
		Ident:   [elf.EI_NIDENT]byte{0x7f, 'E', 'L', 'F', byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), byte(elf.EV_CURRENT)},
		Type:    uint16(elf.ET_DYN),
		Machine: uint16(elf.EM_X86_64),
		Version: uint32(elf.EV_CURRENT),
		Shoff:   64 + uint64(body.Len()),
		Ehsize:  64, Phentsize: 56, Shentsize: 64,
		Shnum:    uint16(len(sections) + 1),
		Shstrndx: uint16(len(sections)),
	})
	out.Write(body.Bytes())
	_ = binary.Write(&out, le, elf.Section64{})
	for i, s := range sections {
		_ = binary.Write(&out, le, elf.Section64{
			Name: names[s.name], Type: uint32(s.typ), Off: offsets[i], Size: uint64(len(s.data)),
			Link: s.link, Addralign: 1, Entsize: uint64(s.entsize),
		})
	}
	path := filepath.Join(t.TempDir(), "php-fake")
	if err := os.WriteFile(path, out.Bytes(), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}
