package usdt

import (
	"debug/elf"
	"errors"
	"reflect"
	"strings"
	"testing"
)

const (
	x86   = elf.EM_X86_64
	arm64 = elf.EM_AARCH64
)

func TestParseArgs(t *testing.T) {
	tests := []struct {
		machine elf.Machine
		spec    string
		want    []Arg
	}{
		// x86-64: registers of every width map to the 64-bit pt_regs slot.
		{x86, "8@%rdx", []Arg{{Size: 8, Kind: ArgReg, Reg: "rdx", RegOffset: 96}}},
		{x86, "-4@%eax", []Arg{{Size: 4, Signed: true, Kind: ArgReg, Reg: "rax", RegOffset: 80}}},
		{x86, "-4@%r13d", []Arg{{Size: 4, Signed: true, Kind: ArgReg, Reg: "r13", RegOffset: 16}}},
		{x86, "2@%ax", []Arg{{Size: 2, Kind: ArgReg, Reg: "rax", RegOffset: 80}}},
		{x86, "1@%al", []Arg{{Size: 1, Kind: ArgReg, Reg: "rax", RegOffset: 80}}},
		{x86, "-1@%sil", []Arg{{Size: 1, Signed: true, Kind: ArgReg, Reg: "rsi", RegOffset: 104}}},
		{x86, "1@%r8b", []Arg{{Size: 1, Kind: ArgReg, Reg: "r8", RegOffset: 72}}},
		{x86, "2@%r15w", []Arg{{Size: 2, Kind: ArgReg, Reg: "r15", RegOffset: 0}}},
		{x86, "8@%rsp", []Arg{{Size: 8, Kind: ArgReg, Reg: "rsp", RegOffset: 152}}},
		{x86, "4@%edi", []Arg{{Size: 4, Kind: ArgReg, Reg: "rdi", RegOffset: 112}}},
		{x86, "8@-16(%rbp)", []Arg{{Size: 8, Kind: ArgRegDeref, Reg: "rbp", RegOffset: 32, Value: -16}}},
		{x86, "8@(%rsp)", []Arg{{Size: 8, Kind: ArgRegDeref, Reg: "rsp", RegOffset: 152}}},
		{x86, "8@16(%rsp)", []Arg{{Size: 8, Kind: ArgRegDeref, Reg: "rsp", RegOffset: 152, Value: 16}}},
		{x86, "8@8(%rax)", []Arg{{Size: 8, Kind: ArgRegDeref, Reg: "rax", RegOffset: 80, Value: 8}}},
		{x86, "4@0x10(%ebx)", []Arg{{Size: 4, Kind: ArgRegDeref, Reg: "rbx", RegOffset: 40, Value: 16}}},
		{x86, "-4@$5", []Arg{{Size: 4, Signed: true, Kind: ArgConst, Value: 5}}},
		{x86, "8@$-1", []Arg{{Size: 8, Kind: ArgConst, Value: -1}}},
		{x86, "8@$0", []Arg{{Size: 8, Kind: ArgConst, Value: 0}}},
		{x86, "8@$18446744073709551615", []Arg{{Size: 8, Kind: ArgConst, Value: -1}}},
		{x86, "", nil},
		{x86, "  ", nil},
		// The real function__entry of Debian's php-fpm8.2, blanks and all.
		{x86, "8@%rax 8@%r14 -4@%r13d 8@(%rsp) 8@16(%rsp)", []Arg{
			{Size: 8, Kind: ArgReg, Reg: "rax", RegOffset: 80},
			{Size: 8, Kind: ArgReg, Reg: "r14", RegOffset: 8},
			{Size: 4, Signed: true, Kind: ArgReg, Reg: "r13", RegOffset: 16},
			{Size: 8, Kind: ArgRegDeref, Reg: "rsp", RegOffset: 152},
			{Size: 8, Kind: ArgRegDeref, Reg: "rsp", RegOffset: 152, Value: 16},
		}},

		// arm64: user_pt_regs, xN at 8*N, sp at 248.
		{arm64, "-4@x0", []Arg{{Size: 4, Signed: true, Kind: ArgReg, Reg: "x0", RegOffset: 0}}},
		{arm64, "8@w1", []Arg{{Size: 8, Kind: ArgReg, Reg: "x1", RegOffset: 8}}},
		{arm64, "8@x30", []Arg{{Size: 8, Kind: ArgReg, Reg: "x30", RegOffset: 240}}},
		{arm64, "8@fp", []Arg{{Size: 8, Kind: ArgReg, Reg: "x29", RegOffset: 232}}},
		{arm64, "8@sp", []Arg{{Size: 8, Kind: ArgReg, Reg: "sp", RegOffset: 248}}},
		{arm64, "8@[sp, 16]", []Arg{{Size: 8, Kind: ArgRegDeref, Reg: "sp", RegOffset: 248, Value: 16}}},
		{arm64, "8@[x1]", []Arg{{Size: 8, Kind: ArgRegDeref, Reg: "x1", RegOffset: 8}}},
		{arm64, "8@[x2, -8]", []Arg{{Size: 8, Kind: ArgRegDeref, Reg: "x2", RegOffset: 16, Value: -8}}},
		{arm64, "4@[x19,#60]", []Arg{{Size: 4, Kind: ArgRegDeref, Reg: "x19", RegOffset: 152, Value: 60}}},
		{arm64, "-4@5", []Arg{{Size: 4, Signed: true, Kind: ArgConst, Value: 5}}},
		{arm64, "8@#-3", []Arg{{Size: 8, Kind: ArgConst, Value: -3}}},
		{arm64, "8@xzr", []Arg{{Size: 8, Kind: ArgConst, Value: 0}}},
		{arm64, "-4@x0 8@[sp, 16] 8@x1", []Arg{
			{Size: 4, Signed: true, Kind: ArgReg, Reg: "x0", RegOffset: 0},
			{Size: 8, Kind: ArgRegDeref, Reg: "sp", RegOffset: 248, Value: 16},
			{Size: 8, Kind: ArgReg, Reg: "x1", RegOffset: 8},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.machine.String()+"/"+tt.spec, func(t *testing.T) {
			got, err := ParseArgs(tt.spec, tt.machine)
			if err != nil {
				t.Fatalf("ParseArgs(%q): %v", tt.spec, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseArgs(%q)\n got %v\nwant %v", tt.spec, got, tt.want)
			}
		})
	}
}

func TestParseArgsErrors(t *testing.T) {
	tests := []struct {
		machine     elf.Machine
		spec        string
		index       int    // which arg the error must name; 0: not an *ArgError
		contains    string // part of the message
		unsupported bool   // errors.Is(err, ErrUnsupported)
	}{
		{x86, "8@sym+16(%rip)", 1, "rip-relative", true},
		{x86, "8@16(%rip)", 1, "rip-relative", true},
		{x86, "8@%rax 8@(%rax,%rbx,8)", 2, "index-register", true},
		{x86, "8@8(%rax,%rbx)", 1, "index-register", true},
		{x86, "1@%ah", 1, "high-byte", true},
		{x86, "8@%fs:16", 1, "segment", true},
		{x86, "8@%fs:16(%rax)", 1, "segment", true},
		{x86, "8@$sym", 1, "symbolic constant", true},
		{x86, "8@table(%rax)", 1, "symbolic displacement", true},
		{x86, "8@1234", 1, "absolute", true},
		{x86, "3@%rax", 1, "size \"3\"", false},
		{x86, "16@%rax", 1, "size \"16\"", false},
		{x86, "+8@%rax", 1, "size", false},
		{x86, "@%rax", 1, "size", false},
		{x86, "8%rax", 1, `no "@"`, false},
		{x86, "8@", 1, "empty operand", false},
		{x86, "8@%rzz", 1, "unknown x86-64 register", false},
		{x86, "8@$", 1, "number", false},
		{x86, "8@$0x", 1, "number", false},
		{x86, "8@$1_000", 1, "number", false},
		{x86, "8@$99999999999999999999", 1, "64-bit", false},
		{x86, "8@$-9223372036854775809", 1, "below", false},
		{x86, "8@zz(%rax", 0, "unclosed", false},
		{x86, "8@%rax)", 0, "unbalanced", false},
		{x86, "8@(rax)", 1, "not a %register", false},
		{x86, "8@-x(%rax)", 1, "displacement", false},
		{x86, "8@*%rax", 1, "neither", false},
		{arm64, "8@[x0, x1]", 1, "register offset", true},
		{arm64, "8@[x0, x1, lsl 3]", 1, "shifted", true},
		{arm64, "8@[x0, 8]!", 1, "writeback", true},
		{arm64, "8@[x0, sym]", 1, "symbolic offset", true},
		{arm64, "8@[]", 1, "missing register", false},
		{arm64, "8@[x31]", 1, "unknown arm64 register", false},
		{arm64, "8@x31", 1, "unknown arm64 register", false},
		{arm64, "8@[x0, 1x]", 1, "offset", false},
		{arm64, "4@x0 5@x1", 2, "size \"5\"", false},
		{elf.EM_RISCV, "8@a0", 0, "EM_RISCV", true},
	}
	for _, tt := range tests {
		t.Run(tt.machine.String()+"/"+tt.spec, func(t *testing.T) {
			args, err := ParseArgs(tt.spec, tt.machine)
			if err == nil {
				t.Fatalf("ParseArgs(%q) = %v, want an error", tt.spec, args)
			}
			if args != nil {
				t.Errorf("ParseArgs(%q) returned args %v with its error", tt.spec, args)
			}
			if !strings.Contains(err.Error(), tt.contains) {
				t.Errorf("error %q does not mention %q", err, tt.contains)
			}
			if got := errors.Is(err, ErrUnsupported); got != tt.unsupported {
				t.Errorf("errors.Is(%q, ErrUnsupported) = %v, want %v", err, got, tt.unsupported)
			}
			var argErr *ArgError
			switch {
			case tt.index == 0 && errors.As(err, &argErr):
				t.Errorf("error %q is an *ArgError, want a whole-spec error", err)
			case tt.index != 0 && !errors.As(err, &argErr):
				t.Errorf("error %q is not an *ArgError", err)
			case tt.index != 0 && argErr.Index != tt.index:
				t.Errorf("error %q names arg%d, want arg%d", err, argErr.Index, tt.index)
			}
		})
	}
}

// Every register the tables name must land on an 8-byte slot inside the
// pt_regs layout of its machine: the BPF verifier rejects anything else.
func TestRegisterTablesStayInsidePtRegs(t *testing.T) {
	for name, reg := range x86RegNames {
		off, ok := x86RegOffsets[reg]
		if !ok || off%8 != 0 || off > 160 {
			t.Errorf("x86 %s -> %s -> offset %d, ok=%v", name, reg, off, ok)
		}
	}
	for name, reg := range arm64RegNames {
		off, ok := arm64RegOffsets[reg]
		if !ok || off%8 != 0 || off > 264 {
			t.Errorf("arm64 %s -> %s -> offset %d, ok=%v", name, reg, off, ok)
		}
	}
	if len(x86RegOffsets) != 16 || len(arm64RegOffsets) != 32 {
		t.Errorf("want 16 x86-64 and 32 arm64 operand registers, have %d and %d", len(x86RegOffsets), len(arm64RegOffsets))
	}
}
