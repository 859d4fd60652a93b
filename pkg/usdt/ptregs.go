package usdt

import "strconv"

// Register layouts of the context a uprobe BPF program receives, and the
// assembler's register names that map onto them. This is data: adding a
// machine means adding a table here and an operand parser beside it.

// x86RegOffsets is the kernel's x86-64 struct pt_regs
// (arch/x86/include/asm/ptrace.h), 8 bytes per slot.
var x86RegOffsets = map[string]uint16{
	"r15": 0, "r14": 8, "r13": 16, "r12": 24, "rbp": 32, "rbx": 40,
	"r11": 48, "r10": 56, "r9": 64, "r8": 72, "rax": 80, "rcx": 88,
	"rdx": 96, "rsi": 104, "rdi": 112,
	// orig_ax 120, ip 128, cs 136, flags 144: never an operand register.
	"rsp": 152,
	// ss 160.
}

// x86RegNames maps every general-purpose register name GNU as accepts
// (64/32/16/8-bit) to its 64-bit register. The value sits in the low bytes of
// that slot on a little-endian machine, so reading Size bytes there is right.
// The high-byte registers ah, bh, ch, dh are left out on purpose: their value
// is byte 1 of the slot, which an offset into pt_regs cannot say.
var x86RegNames = func() map[string]string {
	names := map[string]string{}
	for _, r := range []struct{ q, d, w, b string }{
		{"rax", "eax", "ax", "al"},
		{"rbx", "ebx", "bx", "bl"},
		{"rcx", "ecx", "cx", "cl"},
		{"rdx", "edx", "dx", "dl"},
		{"rsi", "esi", "si", "sil"},
		{"rdi", "edi", "di", "dil"},
		{"rbp", "ebp", "bp", "bpl"},
		{"rsp", "esp", "sp", "spl"},
	} {
		names[r.q], names[r.d], names[r.w], names[r.b] = r.q, r.q, r.q, r.q
	}
	for n := 8; n <= 15; n++ {
		q := "r" + strconv.Itoa(n)
		names[q], names[q+"d"], names[q+"w"], names[q+"b"] = q, q, q, q
	}
	return names
}()

// arm64RegOffsets is struct user_pt_regs (arch/arm64/include/uapi/asm/ptrace.h),
// which starts the kernel's arm64 struct pt_regs: regs[31], sp, pc, pstate.
var arm64RegOffsets = func() map[string]uint16 {
	offsets := map[string]uint16{"sp": 248} // pc 256, pstate 264: never operands
	for n := 0; n <= 30; n++ {
		offsets["x"+strconv.Itoa(n)] = uint16(8 * n)
	}
	return offsets
}()

// arm64RegNames maps the assembler's names to the 64-bit register: xN and its
// 32-bit view wN, the fp/lr aliases and the stack pointer.
var arm64RegNames = func() map[string]string {
	names := map[string]string{"sp": "sp", "wsp": "sp", "fp": "x29", "lr": "x30"}
	for n := 0; n <= 30; n++ {
		x := "x" + strconv.Itoa(n)
		names[x], names["w"+strconv.Itoa(n)] = x, x
	}
	return names
}()
