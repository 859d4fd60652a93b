package phpbin

import (
	"bytes"
	"debug/elf"
	"fmt"
	"io"
)

// readOnlyData returns the bytes where string literals live: .rodata, or,
// in a file whose section headers were stripped, every read-only,
// non-executable PT_LOAD segment.
func readOnlyData(f *elf.File) ([]byte, error) {
	if sec := f.Section(".rodata"); sec != nil && sec.Type != elf.SHT_NOBITS {
		data, err := sec.Data()
		if err != nil {
			return nil, fmt.Errorf("reading .rodata: %w", err)
		}
		return data, nil
	}
	var data []byte
	for _, p := range f.Progs {
		if p.Type != elf.PT_LOAD || p.Flags&(elf.PF_W|elf.PF_X) != 0 || p.Flags&elf.PF_R == 0 {
			continue
		}
		seg, err := io.ReadAll(p.Open())
		if err != nil {
			return nil, fmt.Errorf("reading read-only segment at %#x: %w", p.Vaddr, err)
		}
		data = append(append(data, seg...), 0)
	}
	return data, nil
}

// stringAfter returns the NUL-terminated string that follows the first
// occurrence of prefix, and whether prefix occurs with a terminator after it.
func stringAfter(data []byte, prefix string) (string, bool) {
	i := bytes.Index(data, []byte(prefix))
	if i < 0 {
		return "", false
	}
	rest := data[i+len(prefix):]
	end := bytes.IndexByte(rest, 0)
	if end < 0 {
		return "", false
	}
	return string(rest[:end]), true
}

// hasCString reports whether s occurs as a whole NUL-terminated string,
// not as part of a longer one.
func hasCString(data []byte, s string) bool {
	needle := []byte(s + "\x00")
	for off := 0; ; {
		i := bytes.Index(data[off:], needle)
		if i < 0 {
			return false
		}
		if at := off + i; at == 0 || data[at-1] == 0 {
			return true
		}
		off += i + 1
	}
}
