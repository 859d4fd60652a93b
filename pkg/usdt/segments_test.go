package usdt

import (
	"debug/elf"
	"strings"
	"testing"
)

func TestSegmentsFileOffset(t *testing.T) {
	// Shaped like php-fpm8.2: text mapped 1:1, data one page off, then .bss.
	f := testELF{machine: x86, loads: []Segment{
		{Vaddr: 0x0, Offset: 0x0, Filesz: 0x3f3000, Memsz: 0x3f3000},
		{Vaddr: 0x4db3e8, Offset: 0x4da3e8, Filesz: 0x8fc06, Memsz: 0xadde8},
	}}.open(t)
	tests := []struct {
		vaddr   uint64
		want    uint64
		errPart string
	}{
		{0x289d81, 0x289d81, ""},                     // a probe site in .text
		{0x56afe8, 0x569fe8, ""},                     // a semaphore in .probes: vaddr-0x1000
		{0x4db3e8, 0x4da3e8, ""},                     // first byte of the data segment
		{0x4db3e8 + 0x8fc05, 0x4da3e8 + 0x8fc05, ""}, // last file-backed byte
		{0x4db3e8 + 0x8fc06, 0, "zero-filled tail"},  // first .bss byte
		{0x4db3e8 + 0xadde7, 0, "zero-filled tail"},  // last .bss byte
		{0x4db3e8 + 0xadde8, 0, "in no PT_LOAD segment"},
		{0x3f3000, 0, "in no PT_LOAD segment"}, // the gap between segments
		{^uint64(0), 0, "in no PT_LOAD segment"},
	}
	segs := LoadSegments(f)
	if len(segs) != 2 {
		t.Fatalf("LoadSegments: %v, want 2 segments", segs)
	}
	for _, tt := range tests {
		got, err := VaddrToFileOffset(f, tt.vaddr)
		if tt.errPart == "" {
			if err != nil || got != tt.want {
				t.Errorf("FileOffset(%#x) = %#x, %v; want %#x", tt.vaddr, got, err, tt.want)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.errPart) {
			t.Errorf("FileOffset(%#x) = %#x, %v; want an error about %q", tt.vaddr, got, err, tt.errPart)
		}
	}
}

func TestSegmentsFileOffsetWithoutProgramHeaders(t *testing.T) {
	f := testELF{machine: x86, sections: []testSection{{".text", elf.SHT_PROGBITS, 0x1000, []byte{0x90}}}}.open(t)
	if _, err := VaddrToFileOffset(f, 0x1000); err == nil {
		t.Error("an ELF without PT_LOAD segments mapped an address")
	}
}
