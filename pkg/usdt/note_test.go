package usdt

import (
	"encoding/binary"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func parseLE64(data []byte) ([]Probe, error) {
	return parseNotes(data, binary.LittleEndian, 8, x86)
}

func TestParseNotesReadsEveryField(t *testing.T) {
	data := slices.Concat(
		sdtNote(8, 0x1000, 0x2000, 0x3000, "php", "request__startup", "8@%rax 8@%rdx"),
		sdtNote(8, 0x1010, 0x2000, 0, "php", "no__args", ""))
	got, err := parseLE64(data)
	if err != nil {
		t.Fatal(err)
	}
	want := []Probe{
		{Provider: "php", Name: "request__startup", Location: 0x1000, Base: 0x2000, Semaphore: 0x3000,
			RawArgs: "8@%rax 8@%rdx", Args: []Arg{
				{Size: 8, Kind: ArgReg, Reg: "rax", RegOffset: 80},
				{Size: 8, Kind: ArgReg, Reg: "rdx", RegOffset: 96},
			}},
		{Provider: "php", Name: "no__args", Location: 0x1010, Base: 0x2000},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

func TestParseNotesSkipsOtherOwnersAndTypes(t *testing.T) {
	data := slices.Concat(
		rawNote("GNU", 3, []byte{1, 2, 3, 4, 5}), // same type, other owner
		rawNote("stapsdtx", noteTypeSDT, []byte("garbage that is not a descriptor")),
		rawNote("stapsdt", 1, []byte{0xff}), // other type
		sdtNote(8, 1, 2, 3, "php", "error", "8@%rcx"))
	got, err := parseLE64(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Name != "error" {
		t.Errorf("got %v, want only php:error", got)
	}
}

func TestParseNotesAcceptsMissingFinalPadding(t *testing.T) {
	note := sdtNote(8, 1, 2, 3, "php", "error", "")
	desc := sdtDesc(8, 1, 2, 3, "php", "error", "")
	if len(desc)%4 == 0 {
		t.Fatal("test needs a descriptor whose length is not a multiple of 4")
	}
	unpadded := note[:len(note)-(4-len(desc)%4)]
	if got, err := parseLE64(unpadded); err != nil || len(got) != 1 {
		t.Errorf("got %v, %v; want the one probe", got, err)
	}
}

func TestParseNotes32BitAddresses(t *testing.T) {
	data := sdtNote(4, 0x8048123, 0x8049000, 0x804a010, "php", "function__entry", "-4@%eax")
	got, err := parseNotes(data, binary.LittleEndian, 4, x86)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Location != 0x8048123 || got[0].Base != 0x8049000 ||
		got[0].Semaphore != 0x804a010 || len(got[0].Args) != 1 {
		t.Errorf("got %+v", got)
	}
	// The same bytes read as a 64-bit note are too short for three addresses.
	if _, err := parseLE64(data); err == nil {
		t.Error("a 32-bit descriptor parsed as 64-bit did not fail")
	}
}

func TestParseNotesKeepsUnsupportedArgsAsProbeError(t *testing.T) {
	got, err := parseLE64(sdtNote(8, 1, 2, 3, "php", "exception__caught", "8@sym(%rip)"))
	if err != nil {
		t.Fatalf("an unsupported but well-formed spec failed the read: %v", err)
	}
	if len(got) != 1 || got[0].Args != nil || !errors.Is(got[0].ArgsErr, ErrUnsupported) {
		t.Errorf("got %+v, want the probe with nil Args and an ErrUnsupported ArgsErr", got)
	}
}

func TestParseNotesErrors(t *testing.T) {
	good := sdtNote(8, 1, 2, 3, "php", "request__startup", "8@%rax")
	header := func(namesz, descsz, typ uint32) []byte {
		var b []byte
		b = binary.LittleEndian.AppendUint32(b, namesz)
		b = binary.LittleEndian.AppendUint32(b, descsz)
		return binary.LittleEndian.AppendUint32(b, typ)
	}
	withDesc := func(desc []byte) []byte { return rawNote("stapsdt", noteTypeSDT, desc) }
	addrs := sdtDesc(8, 1, 2, 3, "", "", "")[:24]

	tests := []struct {
		name     string
		data     []byte
		index    int    // which note the error must name
		probe    string // the provider:name it must name, "" if unknown
		contains string
	}{
		{"truncated header", good[:7], 0, "", "truncated header"},
		{"truncated second header", slices.Concat(good, good[:11]), 1, "", "truncated header"},
		{"namesz beyond section", header(0xffffffff, 0, 3), 0, "", "name size 4294967295"},
		{"descsz beyond section", slices.Concat(header(8, 0x1000, 3), []byte("stapsdt\x00")), 0, "", "desc size 4096"},
		{"desc too short for addresses", withDesc(addrs[:20]), 0, "", "shorter than its three 8-byte addresses"},
		{"no NUL after provider", withDesc(slices.Concat(addrs, []byte("php"))), 0, "", "provider has no NUL"},
		{"no NUL after name", withDesc(slices.Concat(addrs, []byte("php\x00request__startup"))), 0, "php:?", "name after provider \"php\""},
		{"no NUL after args", withDesc(slices.Concat(addrs, []byte("php\x00error\x008@%rax"))), 0, "php:error", "argument string has no NUL"},
		{"empty name", withDesc(slices.Concat(addrs, []byte("php\x00\x00\x00"))), 0, "php:?", "empty provider or probe name"},
		{"bad arg spec", slices.Concat(good, sdtNote(8, 1, 2, 3, "php", "error", "8@%rcx 3@%rsi")), 1, "php:error", `arg2 "3@%rsi": size "3"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			probes, err := parseLE64(tt.data)
			if err == nil {
				t.Fatalf("got %v, want an error", probes)
			}
			var noteErr *NoteError
			if !errors.As(err, &noteErr) {
				t.Fatalf("error %q is not a *NoteError", err)
			}
			if noteErr.Index != tt.index || noteErr.Probe != tt.probe {
				t.Errorf("error names note %d (%q), want %d (%q)", noteErr.Index, noteErr.Probe, tt.index, tt.probe)
			}
			if !strings.Contains(err.Error(), tt.contains) {
				t.Errorf("error %q does not mention %q", err, tt.contains)
			}
		})
	}
}
