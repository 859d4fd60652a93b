package assemble

import (
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// WallClock converts the BPF programs' CLOCK_MONOTONIC timestamps to Unix
// nanoseconds. The offset between the clocks moves when NTP steps or slews
// the wall clock, so the agent calls Sync periodically.
type WallClock struct {
	offset atomic.Int64 // realtime - monotonic, ns
}

// NewWallClock returns a synced clock.
func NewWallClock() *WallClock {
	c := &WallClock{}
	c.Sync()
	return c
}

// Sync measures the offset. Reading both clocks is not atomic, so it keeps
// the reading whose monotonic bracket (before/after) was tightest.
func (c *WallClock) Sync() {
	best := int64(-1)
	var offset int64
	for range 5 {
		var m1, r, m2 unix.Timespec
		_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &m1)
		_ = unix.ClockGettime(unix.CLOCK_REALTIME, &r)
		_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &m2)
		width := m2.Nano() - m1.Nano()
		if best < 0 || width < best {
			best = width
			offset = r.Nano() - (m1.Nano()+m2.Nano())/2
		}
	}
	c.offset.Store(offset)
}

// SetOffset fixes the offset (tests).
func (c *WallClock) SetOffset(ns int64) { c.offset.Store(ns) }

// Wall converts a monotonic timestamp to Unix nanoseconds.
func (c *WallClock) Wall(mono uint64) int64 { return int64(mono) + c.offset.Load() }

// Time converts a monotonic timestamp to a time.Time.
func (c *WallClock) Time(mono uint64) time.Time { return time.Unix(0, c.Wall(mono)) }
