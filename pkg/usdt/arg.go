package usdt

import (
	"debug/elf"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ArgKind says where a probe argument's value is when the probe fires.
type ArgKind uint8

const (
	// ArgConst: the value is Arg.Value itself (the compiler knew it).
	ArgConst ArgKind = iota + 1
	// ArgReg: the value is in register Arg.Reg.
	ArgReg
	// ArgRegDeref: the value is in memory at Arg.Reg + Arg.Value.
	ArgRegDeref
)

func (k ArgKind) String() string {
	switch k {
	case ArgConst:
		return "const"
	case ArgReg:
		return "reg"
	case ArgRegDeref:
		return "deref"
	}
	return fmt.Sprintf("ArgKind(%d)", uint8(k))
}

// Arg is one parsed probe argument.
type Arg struct {
	Size   uint8 // bytes: 1, 2, 4 or 8
	Signed bool  // the spec's size was negative: sign-extend Size bytes
	Kind   ArgKind
	// Reg is the canonical 64-bit register name ("rax", "x0", "sp"), even when
	// the spec named a sub-register ("eax", "r13d", "w1"); empty for ArgConst.
	Reg string
	// RegOffset is Reg's byte offset in the kernel's struct pt_regs for the
	// machine, which is what a uprobe BPF program gets as its context.
	RegOffset uint16
	// Value is the constant for ArgConst, the displacement for ArgRegDeref.
	Value int64
}

func (a Arg) String() string {
	sign := ""
	if a.Signed {
		sign = "-"
	}
	switch a.Kind {
	case ArgConst:
		return fmt.Sprintf("%s%d@const(%d)", sign, a.Size, a.Value)
	case ArgReg:
		return fmt.Sprintf("%s%d@%s[pt_regs+%d]", sign, a.Size, a.Reg, a.RegOffset)
	case ArgRegDeref:
		return fmt.Sprintf("%s%d@*(%s[pt_regs+%d]%+d)", sign, a.Size, a.Reg, a.RegOffset, a.Value)
	}
	return fmt.Sprintf("%s%d@%v", sign, a.Size, a.Kind)
}

// ErrUnsupported marks argument specs that are well-formed but that this
// package does not turn into an Arg: rip-relative and index-register memory
// operands, high-byte registers, machines other than x86-64 and arm64.
var ErrUnsupported = errors.New("unsupported")

// ArgError says which argument of a spec string is wrong and why.
type ArgError struct {
	Index int    // 1-based, as in SystemTap's $arg1
	Spec  string // that argument's text, e.g. "8@(%rax,%rbx,8)"
	Err   error
}

func (e *ArgError) Error() string {
	return fmt.Sprintf("arg%d %q: %v", e.Index, e.Spec, e.Err)
}

func (e *ArgError) Unwrap() error { return e.Err }

// operandParser turns the operand part of one arg spec (after "N@") into an
// Arg with Kind, Reg, RegOffset and Value set.
type operandParser func(operand string) (Arg, error)

func operandParserFor(machine elf.Machine) (operandParser, error) {
	switch machine {
	case elf.EM_X86_64:
		return parseX86Operand, nil
	case elf.EM_AARCH64:
		return parseARM64Operand, nil
	}
	return nil, fmt.Errorf("argument specs for machine %v: %w", machine, ErrUnsupported)
}

// ParseArgs parses the argument string of one probe note ("8@%rax -4@%r13d",
// "8@[sp, 16]") for the given machine. An empty string means no arguments.
// Any bad argument makes the whole call fail with an *ArgError naming it.
func ParseArgs(spec string, machine elf.Machine) ([]Arg, error) {
	fields, err := splitArgs(spec)
	if err != nil {
		return nil, err
	}
	if len(fields) == 0 {
		return nil, nil
	}
	parseOperand, err := operandParserFor(machine)
	if err != nil {
		return nil, err
	}
	args := make([]Arg, 0, len(fields))
	for i, field := range fields {
		arg, err := parseArg(field, parseOperand)
		if err != nil {
			return nil, &ArgError{Index: i + 1, Spec: field, Err: err}
		}
		args = append(args, arg)
	}
	return args, nil
}

func parseArg(field string, parseOperand operandParser) (Arg, error) {
	sizeText, operand, ok := strings.Cut(field, "@")
	if !ok {
		return Arg{}, errors.New(`no "@" between size and operand`)
	}
	size, signed, err := parseSize(sizeText)
	if err != nil {
		return Arg{}, err
	}
	if operand == "" {
		return Arg{}, errors.New(`empty operand after "@"`)
	}
	arg, err := parseOperand(operand)
	if err != nil {
		return Arg{}, err
	}
	arg.Size, arg.Signed = size, signed
	return arg, nil
}

func parseSize(text string) (size uint8, signed bool, err error) {
	switch text {
	case "1", "2", "4", "8":
		return text[0] - '0', false, nil
	case "-1", "-2", "-4", "-8":
		return text[1] - '0', true, nil
	}
	return 0, false, fmt.Errorf("size %q: want one of ±1, ±2, ±4, ±8", text)
}

// splitArgs splits on blanks outside brackets: arm64 memory operands contain
// a blank ("8@[sp, 16]"), x86 ones never do.
func splitArgs(spec string) ([]string, error) {
	var fields []string
	depth, start := 0, -1
	for i := 0; i < len(spec); i++ {
		c := spec[i]
		switch {
		case c == '[' || c == '(':
			depth++
		case c == ']' || c == ')':
			depth--
			if depth < 0 {
				return nil, fmt.Errorf("args %q: unbalanced %q at byte %d", spec, c, i)
			}
		case (c == ' ' || c == '\t') && depth == 0:
			if start >= 0 {
				fields = append(fields, spec[start:i])
				start = -1
			}
			continue
		}
		if start < 0 {
			start = i
		}
	}
	if depth != 0 {
		return nil, fmt.Errorf("args %q: unclosed bracket", spec)
	}
	if start >= 0 {
		fields = append(fields, spec[start:])
	}
	return fields, nil
}

// parseNumber reads a constant or displacement as the assembler wrote it:
// optional sign, then decimal or 0x-hex. A value that only fits as uint64
// keeps its bit pattern, as the probe would see it.
func parseNumber(text string) (int64, error) {
	neg := false
	digits := text
	if len(digits) > 0 && (digits[0] == '-' || digits[0] == '+') {
		neg = digits[0] == '-'
		digits = digits[1:]
	}
	base := 10
	if len(digits) > 2 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X') {
		base, digits = 16, digits[2:]
	}
	if digits == "" || digits[0] == '+' || digits[0] == '-' || strings.Contains(digits, "_") {
		return 0, fmt.Errorf("number %q: not a decimal or 0x-hex integer", text)
	}
	u, err := strconv.ParseUint(digits, base, 64)
	if err != nil {
		return 0, fmt.Errorf("number %q: not a 64-bit integer", text)
	}
	if neg {
		if u > 1<<63 {
			return 0, fmt.Errorf("number %q: below the 64-bit range", text)
		}
		return int64(-u), nil
	}
	return int64(u), nil
}
