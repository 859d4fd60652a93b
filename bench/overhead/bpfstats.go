package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/tusk-php/tusk/bench/internal/cleanup"
)

// BPF run-time statistics: with kernel.bpf_stats_enabled=1 the kernel adds
// up each program's run time and run count (shown by bpftool prog show).

const bpfStatsSysctl = "/proc/sys/kernel/bpf_stats_enabled"

// enableBPFStats turns the statistics on and returns what restores the
// previous setting (also run by die).
func enableBPFStats() (restore func()) {
	old, err := os.ReadFile(bpfStatsSysctl)
	check(err)
	check(os.WriteFile(bpfStatsSysctl, []byte("1"), 0o644))
	done := false
	restore = func() {
		if !done {
			done = true
			_ = os.WriteFile(bpfStatsSysctl, old, 0o644)
		}
	}
	cleanup.AtExit(restore)
	return restore
}

type progStat struct {
	id     int
	name   string
	runNs  uint64
	runCnt uint64
}

// agentProgIDs are the BPF programs the agent holds open (prog_id in the
// fdinfo of its descriptors): the programs of this agent, not of anything
// else loaded on the machine.
func agentProgIDs(pid int) map[int]bool {
	ids := map[int]bool{}
	files, _ := filepath.Glob(fmt.Sprintf("/proc/%d/fdinfo/*", pid))
	for _, f := range files {
		file, err := os.Open(f)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(file)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "prog_id:"); ok {
				if id, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
					ids[id] = true
				}
			}
		}
		file.Close()
	}
	return ids
}

// progStats reads run time and count of the programs in ids.
func progStats(ids map[int]bool) map[int]progStat {
	out, err := exec.Command("bpftool", "prog", "show", "--json").Output()
	if err != nil {
		cleanup.Die("bpftool prog show: %v", err)
	}
	var progs []struct {
		ID     int    `json:"id"`
		Name   string `json:"name"`
		RunNs  uint64 `json:"run_time_ns"`
		RunCnt uint64 `json:"run_cnt"`
	}
	check(json.Unmarshal(out, &progs))
	stats := map[int]progStat{}
	for _, p := range progs {
		if ids[p.ID] {
			stats[p.ID] = progStat{id: p.ID, name: p.Name, runNs: p.RunNs, runCnt: p.RunCnt}
		}
	}
	return stats
}

// progDelta sums after − before by program name (a name loaded twice, once
// per binary, counts once).
func progDelta(before, after map[int]progStat) map[string]progStat {
	out := map[string]progStat{}
	for id, a := range after {
		b := before[id]
		s := out[a.name]
		s.name = a.name
		s.runNs += a.runNs - b.runNs
		s.runCnt += a.runCnt - b.runCnt
		out[a.name] = s
	}
	return out
}

// cpuTimes reads the machine's busy and total CPU time from /proc/stat.
type cpuTimes struct{ busy, total time.Duration }

func machineCPU() cpuTimes {
	b, err := os.ReadFile("/proc/stat")
	check(err)
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)[1:] // user nice system idle iowait irq softirq steal guest guest_nice
	var t cpuTimes
	for i, v := range f {
		if i >= 8 { // guest time is already in user
			break
		}
		n, _ := strconv.ParseInt(v, 10, 64)
		d := time.Duration(n) * 10 * time.Millisecond
		t.total += d
		if i != 3 && i != 4 {
			t.busy += d
		}
	}
	return t
}

func (t cpuTimes) sub(o cpuTimes) cpuTimes { return cpuTimes{t.busy - o.busy, t.total - o.total} }
