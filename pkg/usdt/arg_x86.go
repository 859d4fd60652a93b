package usdt

import (
	"errors"
	"fmt"
	"strings"
)

// parseX86Operand reads one AT&T-syntax operand as GNU as prints it into an
// SDT note on x86-64: "%eax", "$5", "-16(%rbp)", "(%rsp)".
func parseX86Operand(op string) (Arg, error) {
	switch {
	case strings.HasPrefix(op, "$"):
		return parseX86Immediate(op[1:])
	case strings.HasSuffix(op, ")"):
		return parseX86Memory(op)
	case strings.HasPrefix(op, "%"):
		if strings.Contains(op, ":") {
			return Arg{}, fmt.Errorf("segment-prefixed operand: %w", ErrUnsupported)
		}
		reg, offset, err := x86Register(op[1:])
		if err != nil {
			return Arg{}, err
		}
		return Arg{Kind: ArgReg, Reg: reg, RegOffset: offset}, nil
	case startsSymbol(op) || startsNumber(op):
		return Arg{}, fmt.Errorf("absolute memory operand: %w", ErrUnsupported)
	}
	return Arg{}, errors.New("operand is neither $constant, %register nor disp(%register)")
}

func parseX86Immediate(text string) (Arg, error) {
	if startsSymbol(text) {
		return Arg{}, fmt.Errorf("symbolic constant %q (needs relocation): %w", text, ErrUnsupported)
	}
	v, err := parseNumber(text)
	if err != nil {
		return Arg{}, err
	}
	return Arg{Kind: ArgConst, Value: v}, nil
}

// parseX86Memory handles disp(base) and rejects disp(base,index,scale),
// rip-relative and symbolic displacements, none of which a uprobe program can
// evaluate from pt_regs alone.
func parseX86Memory(op string) (Arg, error) {
	open := strings.LastIndexByte(op, '(')
	if open < 0 {
		return Arg{}, errors.New(`")" without "("`)
	}
	disp, inner := op[:open], op[open+1:len(op)-1]
	if strings.Contains(inner, ",") {
		return Arg{}, fmt.Errorf("index-register addressing: %w", ErrUnsupported)
	}
	if !strings.HasPrefix(inner, "%") {
		return Arg{}, fmt.Errorf("base %q is not a %%register", inner)
	}
	if name := inner[1:]; name == "rip" || name == "eip" {
		return Arg{}, fmt.Errorf("rip-relative operand (a global, needs the load address): %w", ErrUnsupported)
	}
	if strings.Contains(disp, ":") {
		return Arg{}, fmt.Errorf("segment-prefixed operand: %w", ErrUnsupported)
	}
	reg, offset, err := x86Register(inner[1:])
	if err != nil {
		return Arg{}, err
	}
	var v int64
	if disp != "" {
		if startsSymbol(disp) {
			return Arg{}, fmt.Errorf("symbolic displacement %q: %w", disp, ErrUnsupported)
		}
		if v, err = parseNumber(disp); err != nil {
			return Arg{}, fmt.Errorf("displacement: %w", err)
		}
	}
	return Arg{Kind: ArgRegDeref, Reg: reg, RegOffset: offset, Value: v}, nil
}

func x86Register(name string) (reg string, offset uint16, err error) {
	switch name {
	case "ah", "bh", "ch", "dh":
		return "", 0, fmt.Errorf("high-byte register %%%s: %w", name, ErrUnsupported)
	}
	reg, ok := x86RegNames[name]
	if !ok {
		return "", 0, fmt.Errorf("unknown x86-64 register %%%s", name)
	}
	return reg, x86RegOffsets[reg], nil
}

// startsSymbol: assembler symbols start with a letter, '_' or '.'.
func startsSymbol(s string) bool {
	if s == "" {
		return false
	}
	c := s[0]
	return c == '_' || c == '.' || (c|0x20 >= 'a' && c|0x20 <= 'z')
}

func startsNumber(s string) bool {
	if s != "" && (s[0] == '-' || s[0] == '+') {
		s = s[1:]
	}
	return s != "" && s[0] >= '0' && s[0] <= '9'
}
