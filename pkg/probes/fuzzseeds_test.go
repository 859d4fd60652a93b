package probes

import (
	"flag"
	"testing"
	"unsafe"

	"github.com/tusk-php/tusk/pkg/events"
	"github.com/tusk-php/tusk/pkg/internal/fuzzseed"
)

var updateSeeds = flag.Bool("update-seeds", false, "rewrite testdata/fuzz seed corpora")

// decodeSeeds are ring buffer records as the BPF programs write them, with
// what PHP memory can put in their strings (no NUL in the whole array,
// invalid UTF-8) and counts that lie.
func decodeSeeds() map[string][]byte {
	var start requestRequestStartEvent
	start.H.Kind = uint8(events.KindRequestStart)
	setString(start.Method[:], "GET")
	setString(start.Uri[:], "/index.php")
	setString(start.Params[paramRequestURI][:], "/caf\xe9/\xff\xfe?x=1")
	for i := range start.Params[paramHost] {
		start.Params[paramHost][i] = 'h' // no NUL: the value filled the array
	}

	var fn requestFunctionEvent
	fn.H.Kind = uint8(events.KindFunction)
	fn.Depth, fn.Parent, fn.Seq = 1<<31, 1<<31, ^uint32(0)
	setString(fn.Function[:], "\x80\x81")

	var sym ioSymbolEvent
	sym.H.Kind = uint8(events.KindSymbol)
	sym.Func, sym.Name, sym.Type = 0x7f0000001000, 0x7f0000002000, 2
	setString(sym.Function[:], "wp_\xc3")
	setString(sym.File[:], "/srv/index.php")

	var io ioIoEvent
	io.H.Kind = uint8(events.KindIO)
	io.Site, io.Nframes, io.NumArgs, io.TextLen = maxSites+7, 200, 1<<30, ^uint32(0)
	setString(io.Text[:], "SELECT '\xff'")

	sample := make([]byte, sampleFramesOffset+3*frameRefSize)
	sample[kindOffset] = byte(events.KindSample)
	*(*uint32)(unsafe.Pointer(&sample[unsafe.Offsetof(ioSampleEvent{}.Nframes)])) = 3
	lying := append([]byte(nil), sample...)
	*(*uint32)(unsafe.Pointer(&lying[unsafe.Offsetof(ioSampleEvent{}.Nframes)])) = 1 << 31

	return map[string][]byte{
		"request-start":        record(&start),
		"function-huge-ids":    record(&fn),
		"symbol":               record(&sym),
		"io-site-out-of-range": record(&io),
		"sample-3-frames":      sample,
		"sample-lying-count":   lying,
		"empty":                {},
		"kind-only":            make([]byte, kindOffset+1),
	}
}

// TestWriteFuzzSeeds writes the committed seed corpora. It only runs with
// -update-seeds.
func TestWriteFuzzSeeds(t *testing.T) {
	if !*updateSeeds {
		t.Skip("run with -update-seeds to rewrite testdata/fuzz")
	}
	seeds := map[string][]any{}
	for name, raw := range decodeSeeds() {
		seeds[name] = []any{raw}
	}
	fuzzseed.Write(t, "FuzzDecodeEvent", seeds)
}
