// Package discover finds the PHP processes on this host, including those in
// containers (other mount namespaces), and follows them as they come and go.
// It reads /proc only; it never enters another namespace.
package discover

import "fmt"

// Process is one PHP process as seen through /proc.
type Process struct {
	PID, PPID int
	// Comm is the kernel's short name (up to 15 bytes), e.g. "php-fpm8.2".
	Comm string
	// Cmdline is the process title or arguments, NULs turned to spaces and
	// trimmed; php-fpm overwrites it with "php-fpm: pool www" and the like.
	Cmdline string
	// Exe is readlink /proc/<pid>/exe: the path as the process sees it, which
	// for a container process need not exist in the agent's mount namespace.
	// A replaced binary keeps the kernel's " (deleted)" suffix.
	Exe string
	// ExeOpenPath is a path the agent can open from its own mount namespace:
	// <ProcRoot>/<pid>/exe, which the kernel resolves to the mapped file.
	ExeOpenPath string
	// BinaryID identifies the executable file itself, so that one binary
	// shared by many processes (or containers) is probed once.
	BinaryID BinaryID
	Role     Role
	// Pool is the fpm pool name of a worker; empty for masters and CLI.
	Pool string
	// MountNS is readlink /proc/<pid>/ns/mnt, e.g. "mnt:[4026531841]".
	MountNS string
	// StartTime is field 22 of /proc/<pid>/stat (clock ticks after boot):
	// together with PID it tells a reused PID from the same process.
	StartTime uint64
	// PodUID and ContainerID come from /proc/<pid>/cgroup (Options.Cgroups):
	// the Kubernetes pod and the container the process runs in, empty when
	// it runs in neither (see kube.ParseCgroup).
	PodUID, ContainerID string
}

// BinaryID is the device and inode of an executable, from stat of
// /proc/<pid>/exe.
type BinaryID struct{ Dev, Ino uint64 }

func (id BinaryID) String() string { return fmt.Sprintf("%d:%d", id.Dev, id.Ino) }

// Role is what a PHP process does. The zero value means "not PHP".
type Role uint8

const (
	RoleFPMMaster Role = iota + 1
	RoleFPMWorker
	RoleCLI
)

func (r Role) String() string {
	switch r {
	case RoleFPMMaster:
		return "fpm-master"
	case RoleFPMWorker:
		return "fpm-worker"
	case RoleCLI:
		return "cli"
	}
	return "unknown"
}
