package usdt

import (
	"errors"
	"fmt"
	"strings"
)

// parseARM64Operand reads one operand as GCC/GNU as print it into an SDT note
// on arm64: "x0", "w1", "5", "[sp, 16]", "[x1]", "[x2, -8]".
func parseARM64Operand(op string) (Arg, error) {
	switch {
	case strings.HasPrefix(op, "["):
		return parseARM64Memory(op)
	case op == "xzr" || op == "wzr":
		// The zero register is how a constant 0 can appear in a register slot.
		return Arg{Kind: ArgConst, Value: 0}, nil
	case strings.HasPrefix(op, "#") || startsNumber(op):
		v, err := parseNumber(strings.TrimPrefix(op, "#"))
		if err != nil {
			return Arg{}, err
		}
		return Arg{Kind: ArgConst, Value: v}, nil
	}
	reg, offset, err := arm64Register(op)
	if err != nil {
		return Arg{}, err
	}
	return Arg{Kind: ArgReg, Reg: reg, RegOffset: offset}, nil
}

// parseARM64Memory handles [base] and [base, #imm]; register-offset,
// extended and writeback forms are rejected.
func parseARM64Memory(op string) (Arg, error) {
	if !strings.HasSuffix(op, "]") {
		return Arg{}, fmt.Errorf("memory operand with writeback or trailing text: %w", ErrUnsupported)
	}
	parts := strings.Split(op[1:len(op)-1], ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	if len(parts) > 2 {
		return Arg{}, fmt.Errorf("extended/shifted register offset: %w", ErrUnsupported)
	}
	reg, offset, err := arm64Register(parts[0])
	if err != nil {
		return Arg{}, fmt.Errorf("base: %w", err)
	}
	arg := Arg{Kind: ArgRegDeref, Reg: reg, RegOffset: offset}
	if len(parts) == 1 {
		return arg, nil
	}
	disp := strings.TrimPrefix(parts[1], "#")
	if _, _, err := arm64Register(disp); err == nil {
		return Arg{}, fmt.Errorf("register offset %q: %w", disp, ErrUnsupported)
	}
	if startsSymbol(disp) {
		return Arg{}, fmt.Errorf("symbolic offset %q: %w", disp, ErrUnsupported)
	}
	if arg.Value, err = parseNumber(disp); err != nil {
		return Arg{}, fmt.Errorf("offset: %w", err)
	}
	return arg, nil
}

func arm64Register(name string) (reg string, offset uint16, err error) {
	if name == "" {
		return "", 0, errors.New("missing register")
	}
	reg, ok := arm64RegNames[name]
	if !ok {
		return "", 0, fmt.Errorf("unknown arm64 register %q", name)
	}
	return reg, arm64RegOffsets[reg], nil
}
