package assemble

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tusk-php/tusk/pkg/events"
	"github.com/tusk-php/tusk/pkg/profile"
	"github.com/tusk-php/tusk/pkg/trace"
)

// wordPressPage is what the always-on agent meets per WordPress front
// page: 36 SQL calls from a dozen 8-frame stacks, as measured there, and
// samples stack samples of 24 frames.
func wordPressPage(samples int) []events.Event {
	var evs []events.Event
	evs = append(evs, start())
	for f := uint64(1); f <= 24; f++ {
		evs = append(evs, &events.Symbol{Header: hdr(reqStart), Func: f << 12, Name: f<<12 + 1, User: f > 1,
			Function: fmt.Sprintf("function_%d", f), Class: "WP_Query",
			File: fmt.Sprintf("/usr/share/wordpress/wp-includes/class-wp-query-%d.php", f)})
	}
	conn := ioEvent("mysqli_real_connect", 0, 1, "localhost", nil)
	conn.Key, conn.RetObj = "wordpress", 0xabc
	evs = append(evs, conn)
	for i := range 36 {
		stack := make([]uint64, 8)
		for j := range stack {
			stack[j] = uint64((i%12+j)%24+1) << 12
		}
		stack[0] = 1 << 12
		q := ioEvent("mysqli_query", uint64(2+i), uint64(3+i),
			fmt.Sprintf("SELECT option_name, option_value FROM wp_options WHERE autoload = 'yes' AND option_id > %d", i), frames(stack...))
		q.NumArgs, q.ArgTypes[0], q.ArgVals[0] = 2, 8, 0xabc
		evs = append(evs, q)
		if i%(36/max(samples, 1)) == 0 && samples > 0 {
			st := make([]uint64, 24)
			for j := range st {
				st[j] = uint64((i+j)%24+1) << 12
			}
			evs = append(evs, &events.Sample{Header: hdr(reqStart + uint64(3+i)*ms), Frames: frames(st...)})
		}
	}
	return append(evs, end(40*ms, 200))
}

// BenchmarkAssembleWordPressPageDecoded: as the agent meets the page, each
// I/O event's text a new string (the decoder copies it from the ring
// buffer), and ~4 stack samples a page with profiling on.
func BenchmarkAssembleWordPressPageDecoded(b *testing.B) {
	evs := wordPressPage(4)
	a := New(Options{Clock: &WallClock{}, Profile: func(*trace.Trace, []profile.Sample) {}}, func(*trace.Trace) {})
	now := time.Unix(0, 0)
	// Copies made ahead, used in turn: the copying is not what is measured.
	const copies = 64
	var pages [copies][]events.Event
	for c := range pages {
		for _, e := range evs {
			if io, ok := e.(*events.IO); ok {
				cp := *io
				cp.Text = strings.Clone(io.Text)
				e = &cp
			}
			pages[c] = append(pages[c], e)
		}
	}
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		for _, e := range pages[n%copies] {
			a.Add(e, now)
		}
		a.FlushAll()
		n++
	}
}
