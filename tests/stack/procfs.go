package stack

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// procStat is the part of /proc/<pid>/stat the harness needs.
type procStat struct {
	PID       int
	State     byte   // R, S, D, Z, …
	PPID      int    // parent
	PGRP      int    // process group (our services are session and group leaders: PGRP == leader PID)
	StartTime uint64 // clock ticks after boot; with the PID it names one process, so reused PIDs are not signalled
}

// readProcStat parses /proc/<pid>/stat. The command name (field 2) may contain spaces and parentheses,
// so fields are counted from the last ')'.
func readProcStat(pid int) (procStat, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procStat{}, err
	}
	return parseProcStat(pid, raw)
}

func parseProcStat(pid int, raw []byte) (procStat, error) {
	end := bytes.LastIndexByte(raw, ')')
	if end < 0 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: no ')' in %q", pid, raw)
	}
	// After ") ": state(3) ppid(4) pgrp(5) session(6) tty(7) tpgid(8) flags(9) minflt … starttime(22).
	fields := strings.Fields(string(raw[end+1:]))
	const startTimeIndex = 22 - 3
	if len(fields) <= startTimeIndex {
		return procStat{}, fmt.Errorf("/proc/%d/stat: only %d fields after the name", pid, len(fields))
	}
	st := procStat{PID: pid, State: fields[0][0]}
	var err error
	if st.PPID, err = strconv.Atoi(fields[1]); err != nil {
		return procStat{}, fmt.Errorf("/proc/%d/stat ppid: %w", pid, err)
	}
	if st.PGRP, err = strconv.Atoi(fields[2]); err != nil {
		return procStat{}, fmt.Errorf("/proc/%d/stat pgrp: %w", pid, err)
	}
	if st.StartTime, err = strconv.ParseUint(fields[startTimeIndex], 10, 64); err != nil {
		return procStat{}, fmt.Errorf("/proc/%d/stat starttime: %w", pid, err)
	}
	return st, nil
}

// processAlive reports whether pid is a live (not zombie) process; when startTime is not zero it must also
// be the same process that was recorded, not a later one that got the PID back.
func processAlive(pid int, startTime uint64) bool {
	if pid <= 0 {
		return false
	}
	st, err := readProcStat(pid)
	if err != nil {
		return false
	}
	if st.State == 'Z' || st.State == 'X' {
		return false
	}
	return startTime == 0 || st.StartTime == startTime
}

// processCmdline returns /proc/<pid>/cmdline with NULs as spaces, trimmed. php-fpm rewrites its argv
// area into a title padded with NULs ("php-fpm: pool www\0\0…").
func processCmdline(pid int) string {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(bytes.ReplaceAll(raw, []byte{0}, []byte{' '})))
}

// allProcStats reads the stat of every process; processes that vanish while reading are skipped.
// The kernel here has no /proc/<pid>/task/<tid>/children, so children are found by scanning.
func allProcStats() []procStat {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	stats := make([]procStat, 0, len(entries))
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, err := readProcStat(pid); err == nil {
			stats = append(stats, st)
		}
	}
	return stats
}

// childrenWithCmdline lists live children of parent whose cmdline is exactly cmdline.
func childrenWithCmdline(parent int, cmdline string) []int {
	var pids []int
	for _, st := range allProcStats() {
		if st.PPID == parent && st.State != 'Z' && processCmdline(st.PID) == cmdline {
			pids = append(pids, st.PID)
		}
	}
	return pids
}

// groupMembers lists live processes of process group pgrp started no earlier than the leader, leader
// excluded. Used after a leader exits to catch workers it left behind.
func groupMembers(pgrp int, leaderStart uint64) []procStat {
	var members []procStat
	for _, st := range allProcStats() {
		if st.PGRP == pgrp && st.PID != pgrp && st.State != 'Z' && st.StartTime >= leaderStart {
			members = append(members, st)
		}
	}
	return members
}
