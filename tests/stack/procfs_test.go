package stack

import (
	"os"
	"testing"
)

func TestParseProcStatNameWithSpacesAndParens(t *testing.T) {
	raw := []byte("4242 (php-fpm: pool (x) y) S 4000 4000 4000 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 987654 0 0\n")
	st, err := parseProcStat(4242, raw)
	if err != nil {
		t.Fatal(err)
	}
	want := procStat{PID: 4242, State: 'S', PPID: 4000, PGRP: 4000, StartTime: 987654}
	if st != want {
		t.Errorf("parseProcStat = %+v, want %+v", st, want)
	}
}

func TestParseProcStatRejectsTruncated(t *testing.T) {
	if _, err := parseProcStat(1, []byte("1 (init) S 0 1")); err == nil {
		t.Error("want an error for a stat line without starttime")
	}
}

func TestProcessAliveChecksStartTime(t *testing.T) {
	self, err := readProcStat(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if !processAlive(os.Getpid(), self.StartTime) {
		t.Error("this process should be alive with its own start time")
	}
	if processAlive(os.Getpid(), self.StartTime+1) {
		t.Error("a different start time must count as another process")
	}
	if processAlive(0, 0) || processAlive(-1, 0) {
		t.Error("PIDs <= 0 are never alive")
	}
}
