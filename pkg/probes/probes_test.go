package probes

import (
	"debug/elf"
	"errors"
	"strings"
	"testing"
	"unsafe"

	"github.com/tusk-php/tusk/pkg/events"
	"github.com/tusk-php/tusk/pkg/usdt"
)

func TestFCGIHashMatchesPHP(t *testing.T) {
	// FCGI_HASH_FUNC by hand: 'U'<<2 + 'R'<<4 + 'I'<<2 + 11 = 1955, bucket 35
	// (shared/notes/fastcgi-params.md, verified in BPF against php-fpm).
	if got := fcgiHash("REQUEST_URI"); got != 1955 || got&127 != 35 {
		t.Fatalf("REQUEST_URI hash %d (bucket %d), want 1955 (35)", got, got&127)
	}
	if got := fcgiHash("AB"); got != 2 { // short names hash to their length
		t.Fatalf("short name hash %d", got)
	}
	table := fcgiParamTable()
	for i, name := range fcgiParamNames {
		if table[i].Len != uint32(len(name)) || cString(table[i].Name[:]) != name {
			t.Fatalf("param %d: %+v", i, table[i])
		}
	}
}

func TestEncodeSite(t *testing.T) {
	p := usdt.Probe{Provider: "php", Name: "function__entry", Location: 0x2e12ff, Args: []usdt.Arg{
		{Size: 8, Kind: usdt.ArgReg, Reg: "rax", RegOffset: 80},
		{Size: 4, Signed: true, Kind: usdt.ArgReg, Reg: "r13", RegOffset: 16},
		{Size: 8, Kind: usdt.ArgRegDeref, Reg: "rsp", RegOffset: 152, Value: 16},
		{Size: 8, Kind: usdt.ArgConst, Value: -1},
	}}
	site, err := encodeSite(p, 3, elf.EM_X86_64)
	if err != nil {
		t.Fatal(err)
	}
	if site.Nargs != 4 || site.Binary != 3 || site.Vaddr != 0x2e12ff || site.IpOff != 128 {
		t.Fatalf("site %+v", site)
	}
	want := []requestUsdtArg{
		{RegOff: 80, Kind: 1, Size: 8},
		{RegOff: 16, Kind: 1, Size: 4, IsSigned: 1},
		{Value: 16, RegOff: 152, Kind: 2, Size: 8},
		{Value: -1, Kind: 0, Size: 8},
	}
	for i, w := range want {
		if site.Args[i] != w {
			t.Errorf("arg %d: %+v, want %+v", i, site.Args[i], w)
		}
	}
	arm, err := encodeSite(usdt.Probe{}, 0, elf.EM_AARCH64)
	if err != nil || arm.IpOff != 256 {
		t.Fatalf("arm64 ip offset %d, %v", arm.IpOff, err)
	}
}

func TestEncodeSiteRefusesWhatBPFCannotRead(t *testing.T) {
	tooMany := usdt.Probe{Provider: "php", Name: "x", Args: make([]usdt.Arg, 7)}
	if _, err := encodeSite(tooMany, 0, elf.EM_X86_64); err == nil || !strings.Contains(err.Error(), "7 arguments") {
		t.Fatalf("7 args: %v", err)
	}
	unsupported := usdt.Probe{Provider: "php", Name: "y", ArgsErr: usdt.ErrUnsupported}
	if _, err := encodeSite(unsupported, 0, elf.EM_X86_64); !errors.Is(err, usdt.ErrUnsupported) {
		t.Fatalf("unsupported args: %v", err)
	}
	if _, err := encodeSite(usdt.Probe{}, 0, elf.EM_386); err == nil {
		t.Fatal("i386 accepted")
	}
}

func TestSlotTableReusesFreedSlots(t *testing.T) {
	s := slotTable{what: "site", max: maxSites}
	a, _ := s.alloc()
	b, _ := s.alloc()
	s.release(a)
	c, _ := s.alloc()
	if a != 0 || b != 1 || c != a {
		t.Fatalf("a=%d b=%d c=%d", a, b, c)
	}
	for i := 2; i < maxSites; i++ {
		if _, err := s.alloc(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.alloc(); err == nil {
		t.Fatal("allocated past the BPF map size")
	}
}

// record lays out a Go value as the ring buffer would deliver it.
func record[T any](v *T) []byte {
	return append([]byte(nil), unsafe.Slice((*byte)(unsafe.Pointer(v)), unsafe.Sizeof(*v))...)
}

func setString(dst []int8, s string) {
	for i := range dst {
		dst[i] = 0x55 // leftovers of an earlier record after the NUL
	}
	for i := 0; i < len(s); i++ {
		dst[i] = int8(s[i])
	}
	dst[len(s)] = 0
}

func TestDecodeRequestStart(t *testing.T) {
	var r requestRequestStartEvent
	r.H = requestEventHeader{Ts: 10, Request: 10, Pid: 7, Tid: 8, Kind: uint8(events.KindRequestStart)}
	r.Binary = 2
	setString(r.Method[:], "GET")
	setString(r.Script[:], "/srv/index.php")
	setString(r.Uri[:], "/index.php")
	setString(r.Query[:], "")
	setString(r.Params[paramRequestURI][:], "/cart?id=1")
	setString(r.Params[paramHost][:], "shop:8080")
	setString(r.Params[paramTraceParent][:], "")
	setString(r.Params[paramRequestID][:], "abc")
	ev, err := (&Tracer{}).decodeEvent(record(&r))
	if err != nil {
		t.Fatal(err)
	}
	got := ev.(*events.RequestStart)
	want := events.RequestStart{Header: events.Header{TS: 10, Request: 10, PID: 7, TID: 8}, Binary: 2, Method: "GET",
		Script: "/srv/index.php", URI: "/index.php", RequestURI: "/cart?id=1", Host: "shop:8080", RequestID: "abc"}
	if *got != want {
		t.Fatalf("decoded %+v\nwant    %+v", *got, want)
	}
}

func TestDecodeMapsPHPsDashToEmpty(t *testing.T) {
	var r requestRequestStartEvent
	r.H.Kind = uint8(events.KindRequestStart)
	setString(r.Method[:], "-") // php-cli: SAFE_FILENAME(NULL)
	setString(r.Uri[:], "-")
	ev, err := (&Tracer{}).decodeEvent(record(&r))
	if err != nil {
		t.Fatal(err)
	}
	if s := ev.(*events.RequestStart); s.Method != "" || s.URI != "" {
		t.Fatalf("method %q uri %q", s.Method, s.URI)
	}
}

func TestDecodeFunctionAndErrors(t *testing.T) {
	var f requestFunctionEvent
	f.H.Kind = uint8(events.KindFunction)
	f.Seq, f.Parent, f.Depth, f.Line, f.Flags = 5, 4, 3, 44, uint32(events.FrameThrew)
	setString(f.Function[:], "get_posts")
	setString(f.Class[:], "WP_Query")
	setString(f.File[:], "/wp/class-wp-query.php")
	ev, err := (&Tracer{}).decodeEvent(record(&f))
	if err != nil {
		t.Fatal(err)
	}
	if g := ev.(*events.Function); g.Function != "get_posts" || g.Class != "WP_Query" || g.Seq != 5 || g.Parent != 4 || g.Line != 44 {
		t.Fatalf("%+v", g)
	}

	raw := record(&f)
	if _, err := (&Tracer{}).decodeEvent(raw[:100]); err == nil {
		t.Fatal("a truncated record decoded")
	}
	raw[kindOffset] = 99
	if _, err := (&Tracer{}).decodeEvent(raw); err == nil || !strings.Contains(err.Error(), "unknown event kind 99") {
		t.Fatalf("unknown kind: %v", err)
	}
	if _, err := (&Tracer{}).decodeEvent(nil); err == nil {
		t.Fatal("empty record decoded")
	}
}

// TestDecodeSampleRecords covers what the sampler sends: a record cut after
// its last frame, with no frames at all (a thread between PHP calls), and
// records that lie about their frame count.
func TestDecodeSampleRecords(t *testing.T) {
	record := func(n uint32, frames int) []byte {
		raw := make([]byte, sampleFramesOffset+frames*frameRefSize)
		raw[kindOffset] = byte(events.KindSample)
		*(*uint32)(unsafe.Pointer(&raw[unsafe.Offsetof(ioSampleEvent{}.Nframes)])) = n
		for i := range frames {
			*(*uint64)(unsafe.Pointer(&raw[sampleFramesOffset+i*frameRefSize])) = uint64(0x1000 + i)
		}
		return raw
	}
	tr := &Tracer{}
	for _, c := range []struct {
		n, frames int
		ok        bool
	}{{0, 0, true}, {3, 3, true}, {128, 128, true}, {4, 3, false}, {129, 129, false}} {
		ev, err := tr.decodeEvent(record(uint32(c.n), c.frames))
		if (err == nil) != c.ok {
			t.Errorf("%d frames in %d: err %v", c.n, c.frames, err)
			continue
		}
		if err != nil {
			continue
		}
		s := ev.(*events.Sample)
		if len(s.Frames) != c.n || (c.n > 0 && s.Frames[c.n-1].Func != uint64(0x1000+c.n-1)) {
			t.Errorf("decoded %+v", s.Frames)
		}
	}
	if _, err := tr.decodeEvent(record(0, 0)[:sampleFramesOffset-1]); err == nil {
		t.Error("a truncated header decoded")
	}
}

// FuzzDecodeEvent: whatever the ring buffer holds, decoding returns an
// event or an error; it never panics (the agent reads millions of records),
// and what it returns is no larger than the record's arrays.
func FuzzDecodeEvent(f *testing.F) {
	for k := events.KindRequestStart; k <= events.KindIO; k++ {
		seed := make([]byte, sampleFramesOffset+2*frameRefSize)
		seed[kindOffset] = byte(k)
		f.Add(seed)
	}
	tr := &Tracer{}
	f.Fuzz(func(t *testing.T, raw []byte) {
		ev, err := tr.decodeEvent(raw)
		if err != nil {
			return
		}
		switch e := ev.(type) {
		case *events.Sample:
			if len(e.Frames) > len(ioSampleEvent{}.Frames) {
				t.Fatalf("%d frames", len(e.Frames))
			}
		case *events.IO:
			if len(e.Frames) > len(ioIoEvent{}.Frames) || len(e.Text) > len(ioIoEvent{}.Text) || len(e.Key) > len(ioIoEvent{}.Key) {
				t.Fatalf("%d frames, text %d, key %d bytes", len(e.Frames), len(e.Text), len(e.Key))
			}
		case *events.RequestStart:
			if len(e.RequestURI) > len(requestRequestStartEvent{}.Params[0]) {
				t.Fatalf("request URI of %d bytes", len(e.RequestURI))
			}
		}
	})
}
