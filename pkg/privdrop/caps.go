package privdrop

import (
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Cap is a Linux capability number (unix.CAP_*).
type Cap uint

// names are the capabilities of capability.h up to CAP_CHECKPOINT_RESTORE
// (Linux 5.9); a newer kernel's extra ones print as CAP_<n>.
var names = [...]string{
	unix.CAP_CHOWN: "CAP_CHOWN", unix.CAP_DAC_OVERRIDE: "CAP_DAC_OVERRIDE",
	unix.CAP_DAC_READ_SEARCH: "CAP_DAC_READ_SEARCH", unix.CAP_FOWNER: "CAP_FOWNER",
	unix.CAP_FSETID: "CAP_FSETID", unix.CAP_KILL: "CAP_KILL", unix.CAP_SETGID: "CAP_SETGID",
	unix.CAP_SETUID: "CAP_SETUID", unix.CAP_SETPCAP: "CAP_SETPCAP",
	unix.CAP_LINUX_IMMUTABLE: "CAP_LINUX_IMMUTABLE", unix.CAP_NET_BIND_SERVICE: "CAP_NET_BIND_SERVICE",
	unix.CAP_NET_BROADCAST: "CAP_NET_BROADCAST", unix.CAP_NET_ADMIN: "CAP_NET_ADMIN",
	unix.CAP_NET_RAW: "CAP_NET_RAW", unix.CAP_IPC_LOCK: "CAP_IPC_LOCK", unix.CAP_IPC_OWNER: "CAP_IPC_OWNER",
	unix.CAP_SYS_MODULE: "CAP_SYS_MODULE", unix.CAP_SYS_RAWIO: "CAP_SYS_RAWIO",
	unix.CAP_SYS_CHROOT: "CAP_SYS_CHROOT", unix.CAP_SYS_PTRACE: "CAP_SYS_PTRACE",
	unix.CAP_SYS_PACCT: "CAP_SYS_PACCT", unix.CAP_SYS_ADMIN: "CAP_SYS_ADMIN", unix.CAP_SYS_BOOT: "CAP_SYS_BOOT",
	unix.CAP_SYS_NICE: "CAP_SYS_NICE", unix.CAP_SYS_RESOURCE: "CAP_SYS_RESOURCE",
	unix.CAP_SYS_TIME: "CAP_SYS_TIME", unix.CAP_SYS_TTY_CONFIG: "CAP_SYS_TTY_CONFIG", unix.CAP_MKNOD: "CAP_MKNOD",
	unix.CAP_LEASE: "CAP_LEASE", unix.CAP_AUDIT_WRITE: "CAP_AUDIT_WRITE", unix.CAP_AUDIT_CONTROL: "CAP_AUDIT_CONTROL",
	unix.CAP_SETFCAP: "CAP_SETFCAP", unix.CAP_MAC_OVERRIDE: "CAP_MAC_OVERRIDE", unix.CAP_MAC_ADMIN: "CAP_MAC_ADMIN",
	unix.CAP_SYSLOG: "CAP_SYSLOG", unix.CAP_WAKE_ALARM: "CAP_WAKE_ALARM",
	unix.CAP_BLOCK_SUSPEND: "CAP_BLOCK_SUSPEND", unix.CAP_AUDIT_READ: "CAP_AUDIT_READ",
	unix.CAP_PERFMON: "CAP_PERFMON", unix.CAP_BPF: "CAP_BPF", unix.CAP_CHECKPOINT_RESTORE: "CAP_CHECKPOINT_RESTORE",
}

func (c Cap) String() string {
	if int(c) < len(names) {
		return names[c]
	}
	return "CAP_" + strconv.Itoa(int(c))
}

// Set is a set of capabilities as the kernel shows them in
// /proc/<pid>/status (CapEff…): bit n is capability n.
type Set uint64

// Of makes a set of caps.
func Of(caps ...Cap) Set {
	var s Set
	for _, c := range caps {
		s |= 1 << c
	}
	return s
}

func (s Set) Has(c Cap) bool { return c < 64 && s&(1<<c) != 0 }

// Caps lists the set in ascending order.
func (s Set) Caps() []Cap {
	var out []Cap
	for c := Cap(0); c < 64; c++ {
		if s.Has(c) {
			out = append(out, c)
		}
	}
	return out
}

// Names lists the set's names in ascending order: "CAP_DAC_READ_SEARCH".
func (s Set) Names() []string {
	out := []string{}
	for _, c := range s.Caps() {
		out = append(out, c.String())
	}
	return out
}

// String is "CAP_A, CAP_B", or "none".
func (s Set) String() string {
	if s == 0 {
		return "none"
	}
	return strings.Join(s.Names(), ", ")
}
