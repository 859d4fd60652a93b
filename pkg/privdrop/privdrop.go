// Package privdrop gives up the capabilities a process no longer needs: it
// lowers the effective, permitted, inheritable and bounding sets to the
// ones kept, and sets no_new_privs, on every thread of the process.
//
// Capabilities belong to threads, not to the process, and the Go runtime
// runs many threads; changing them on one thread would leave the others
// (and the threads they later clone) as they were. Drop therefore uses
// syscall.AllThreadsSyscall, which the runtime runs on each of its threads.
// It refuses binaries built with cgo, whose C code could own threads the
// runtime does not know: Drop then changes nothing and returns
// ErrUnsupported (the agent is built with CGO_ENABLED=0).
package privdrop

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ErrUnsupported means the binary uses cgo: nothing was changed.
var ErrUnsupported = errors.New("capabilities cannot be changed on every thread of a binary built with cgo " +
	"(build it with CGO_ENABLED=0)")

// Result says what Drop did.
type Result struct {
	// Kept are the capabilities still effective and permitted.
	Kept Set
	// Dropped were permitted before and are not any more.
	Dropped Set
	// Bounding is the bounding set afterwards. Reducing it needs
	// CAP_SETPCAP; without it (a container runtime already narrowed it) it
	// stays as it was, and no_new_privs keeps execve from using it.
	Bounding Set
	// NoNewPrivs: execve can no longer grant privileges (setuid, file
	// capabilities).
	NoNewPrivs bool
}

// state is one thread's capability sets.
type state struct {
	effective, permitted, inheritable, bounding Set
}

// Drop keeps the capabilities in keep that the process has and gives up
// every other one on all threads. It fails without changing anything when
// the threads cannot all be changed (ErrUnsupported); a failure half-way
// (not expected: lowering is always allowed) is returned as is.
func Drop(keep Set) (Result, error) {
	before, err := current()
	if err != nil {
		return Result{}, err
	}
	// First, as it also tells whether every thread can be reached.
	if err := allThreads(unix.SYS_PRCTL, unix.PR_SET_NO_NEW_PRIVS, 1, 0); err != nil {
		if errors.Is(err, syscall.ENOTSUP) {
			return Result{}, ErrUnsupported
		}
		return Result{}, fmt.Errorf("prctl(PR_SET_NO_NEW_PRIVS): %w", err)
	}
	if before.effective.Has(unix.CAP_SETPCAP) {
		for _, c := range (before.bounding &^ keep).Caps() {
			if err := allThreads(unix.SYS_PRCTL, unix.PR_CAPBSET_DROP, uintptr(c), 0); err != nil {
				return Result{}, fmt.Errorf("prctl(PR_CAPBSET_DROP, %s): %w", c, err)
			}
		}
	}
	// Effective and permitted: what is kept; inheritable: nothing (the
	// kernel then clears the ambient set too).
	kept := keep & before.permitted
	hdr := &unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	data := &[2]unix.CapUserData{
		{Effective: uint32(kept), Permitted: uint32(kept)},
		{Effective: uint32(kept >> 32), Permitted: uint32(kept >> 32)},
	}
	if err := allThreads(unix.SYS_CAPSET, uintptr(unsafe.Pointer(hdr)), uintptr(unsafe.Pointer(&data[0])), 0); err != nil {
		return Result{}, fmt.Errorf("capset: %w", err)
	}
	after, err := current()
	if err != nil {
		return Result{}, err
	}
	nnp, err := unix.PrctlRetInt(unix.PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0)
	if err != nil {
		return Result{}, fmt.Errorf("prctl(PR_GET_NO_NEW_PRIVS): %w", err)
	}
	return Result{
		Kept:       after.permitted,
		Dropped:    before.permitted &^ after.permitted,
		Bounding:   after.bounding,
		NoNewPrivs: nnp == 1,
	}, nil
}

// allThreads runs a syscall on every thread of the Go runtime (see the
// package comment). Its //go:uintptrescapes keeps the pointers passed as
// uintptr alive and in place.
func allThreads(trap, a1, a2, a3 uintptr) error {
	if _, _, errno := syscall.AllThreadsSyscall(trap, a1, a2, a3); errno != 0 {
		return errno
	}
	return nil
}

// current reads the calling thread's sets; after Drop every thread has the
// same ones.
func current() (state, error) {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return state{}, fmt.Errorf("capget: %w", err)
	}
	join := func(lo, hi uint32) Set { return Set(lo) | Set(hi)<<32 }
	s := state{
		effective:   join(data[0].Effective, data[1].Effective),
		permitted:   join(data[0].Permitted, data[1].Permitted),
		inheritable: join(data[0].Inheritable, data[1].Inheritable),
	}
	for c := Cap(0); c <= lastCap(); c++ {
		in, err := unix.PrctlRetInt(unix.PR_CAPBSET_READ, uintptr(c), 0, 0, 0)
		if err != nil {
			break // past the kernel's last capability (EINVAL)
		}
		if in == 1 {
			s.bounding |= 1 << c
		}
	}
	return s, nil
}

// lastCap is the kernel's highest capability number.
func lastCap() Cap {
	b, err := os.ReadFile("/proc/sys/kernel/cap_last_cap")
	if err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && n >= 0 && n < 64 {
			return Cap(n)
		}
	}
	return 63 // PR_CAPBSET_READ answers EINVAL past the last one
}
