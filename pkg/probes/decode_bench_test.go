package probes

import (
	"testing"
	"unsafe"

	"github.com/tusk-php/tusk/pkg/events"
)

// BenchmarkDecodeIOEvent: a WordPress query as the I/O hook sends it, an
// 8-frame stack and ~100 bytes of SQL.
func BenchmarkDecodeIOEvent(b *testing.B) {
	var r ioIoEvent
	r.H.Kind = uint8(events.KindIO)
	r.H.Pid, r.H.Tid, r.H.Request, r.H.Ts = 7, 8, 100, 200
	r.Site, r.NumArgs, r.ArgTypes[0], r.ArgVals[0] = 1, 2, 8, 0xabc
	r.Nframes = 8
	for i := range r.Frames {
		r.Frames[i] = ioFrameRef{Func: uint64(i+1) << 12, Name: uint64(i+1)<<12 + 1, Line: uint32(10 * i)}
	}
	sql := "SELECT option_name, option_value FROM wp_options WHERE autoload = 'yes' AND option_id > 7"
	setString(r.Text[:], sql)
	r.TextLen = uint32(len(sql))
	raw := unsafe.Slice((*byte)(unsafe.Pointer(&r)), unsafe.Sizeof(r))
	tr := &Tracer{names: &interner{}}
	tr.hookNames[1] = "mysqli_query"
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tr.decodeEvent(raw); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeSampleEvent: a stack sample of 24 frames, cut after its
// last frame as the sampler sends it.
func BenchmarkDecodeSampleEvent(b *testing.B) {
	const n = 24
	raw := make([]byte, sampleFramesOffset+n*frameRefSize)
	r := (*ioSampleEvent)(unsafe.Pointer(&raw[0]))
	r.H.Kind = uint8(events.KindSample)
	r.H.Pid, r.H.Tid, r.H.Request, r.H.Ts = 7, 8, 100, 200
	r.Nframes = n
	frames := unsafe.Slice((*ioFrameRef)(unsafe.Pointer(&raw[sampleFramesOffset])), n)
	for i := range frames {
		frames[i] = ioFrameRef{Func: uint64(i+1) << 12, Name: uint64(i+1)<<12 + 1, Line: uint32(10 * i)}
	}
	tr := &Tracer{names: &interner{}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tr.decodeEvent(raw); err != nil {
			b.Fatal(err)
		}
	}
}
