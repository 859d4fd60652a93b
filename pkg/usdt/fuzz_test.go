package usdt

import (
	"debug/elf"
	"encoding/binary"
	"errors"
	"testing"
)

// Seed corpora live in testdata/fuzz/<FuzzName>/ and are written by
// TestWriteFuzzSeeds (go test -run TestWriteFuzzSeeds -update-seeds).
// Run the fuzzers with e.g. go test -run '^$' -fuzz FuzzParseNotes -fuzztime 20s.

func FuzzParseNotes(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte, is64, bigEndian, onARM64 bool) {
		addrSize, order, machine := 4, binary.ByteOrder(binary.LittleEndian), x86
		if is64 {
			addrSize = 8
		}
		if bigEndian {
			order = binary.BigEndian
		}
		if onARM64 {
			machine = arm64
		}
		probes, err := parseNotes(data, order, addrSize, machine)
		if err != nil {
			var noteErr *NoteError
			if probes != nil || !errors.As(err, &noteErr) {
				t.Fatalf("failure returned %v and a %T (%v), want nil and a *NoteError", probes, err, err)
			}
			return
		}
		for _, p := range probes {
			if p.Provider == "" || p.Name == "" {
				t.Fatalf("probe without provider or name accepted: %+v", p)
			}
			checkParsedArgs(t, p.RawArgs, machine, p.Args, p.ArgsErr)
		}
	})
}

func FuzzParseArgs(f *testing.F) {
	f.Fuzz(func(t *testing.T, spec string, onARM64 bool) {
		machine := x86
		if onARM64 {
			machine = arm64
		}
		args, err := ParseArgs(spec, machine)
		checkParsedArgs(t, spec, machine, args, err)
	})
}

// checkParsedArgs holds what must be true of any ParseArgs result: an error
// comes without args; otherwise one valid Arg per blank-separated field, each
// register pointing at its own pt_regs slot.
func checkParsedArgs(t *testing.T, spec string, machine elf.Machine, args []Arg, err error) {
	t.Helper()
	if err != nil {
		if args != nil || err.Error() == "" {
			t.Fatalf("ParseArgs(%q): args %v with error %q", spec, args, err)
		}
		return
	}
	fields, splitErr := splitArgs(spec)
	if splitErr != nil || len(fields) != len(args) {
		t.Fatalf("ParseArgs(%q) = %d args, spec has %d fields (%v)", spec, len(args), len(fields), splitErr)
	}
	offsets := x86RegOffsets
	if machine == arm64 {
		offsets = arm64RegOffsets
	}
	for _, a := range args {
		if a.Size != 1 && a.Size != 2 && a.Size != 4 && a.Size != 8 {
			t.Fatalf("ParseArgs(%q): arg %v has size %d", spec, a, a.Size)
		}
		switch a.Kind {
		case ArgConst:
			if a.Reg != "" || a.RegOffset != 0 {
				t.Fatalf("ParseArgs(%q): constant %v names a register", spec, a)
			}
		case ArgReg, ArgRegDeref:
			if off, ok := offsets[a.Reg]; !ok || off != a.RegOffset {
				t.Fatalf("ParseArgs(%q): arg %v: register not in the %v table or wrong offset", spec, a, machine)
			}
			if a.Kind == ArgReg && a.Value != 0 {
				t.Fatalf("ParseArgs(%q): register arg %v has a value", spec, a)
			}
		default:
			t.Fatalf("ParseArgs(%q): arg %v has kind %v", spec, a, a.Kind)
		}
	}
}
