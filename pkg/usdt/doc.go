// Package usdt reads SystemTap SDT (USDT) probe descriptions from an ELF file:
// where each probe instruction is, its semaphore, and where each of its
// arguments lives when the probe fires, expressed as an offset into the
// struct pt_regs a uprobe BPF program receives as its context.
//
// It only parses. Attaching is the caller's job, with cilium/ebpf, which has
// no USDT support of its own: the uprobe goes at the file offset of
// Probe.Location and the semaphore, if any, is the kernel's ref_ctr_offset at
// the file offset of Probe.Semaphore (see Segments.FileOffset).
//
// The format, as <sys/sdt.h> emits it: each probe is one ELF note in the
// section .note.stapsdt, owner "stapsdt", type 3, whose descriptor holds three
// addresses of the ELF class's size (probe pc, the address of .stapsdt.base at
// link time, semaphore or 0) followed by three NUL-terminated strings:
// provider, name, and the argument specs ("8@%rax -4@-16(%rbp)").
//
// Supported argument machines are x86-64 (including x32) and arm64; other
// machines, rip-relative and index-register operands are reported as
// ErrUnsupported rather than guessed at.
package usdt
