package probes

import (
	"bytes"
	"fmt"
	"unsafe"

	"github.com/tusk-php/tusk/pkg/events"
)

// kindOffset is where event_header.kind sits in every record.
const kindOffset = int(unsafe.Offsetof(requestEventHeader{}.Kind))

// decodeEvent turns one ring buffer record into an event. The records are
// the C structs of bpf/headers/tusk.h, whose Go twins bpf2go generated with
// the same layout, so a length check and a cast are enough: this runs for
// every event, up to millions per second.
func (t *Tracer) decodeEvent(raw []byte) (events.Event, error) {
	if len(raw) <= kindOffset {
		return nil, fmt.Errorf("short record: %d bytes", len(raw))
	}
	switch events.Kind(raw[kindOffset]) {
	case events.KindRequestStart:
		r, err := view[requestRequestStartEvent](raw)
		if err != nil {
			return nil, err
		}
		return &events.RequestStart{
			Header:      header(&r.H),
			Binary:      r.Binary,
			Method:      probeString(r.Method[:]),
			Script:      probeString(r.Script[:]),
			URI:         probeString(r.Uri[:]),
			Query:       cString(r.Query[:]),
			RequestURI:  cString(r.Params[paramRequestURI][:]),
			Host:        cString(r.Params[paramHost][:]),
			TraceParent: cString(r.Params[paramTraceParent][:]),
			RequestID:   cString(r.Params[paramRequestID][:]),
		}, nil
	case events.KindRequestEnd:
		r, err := view[requestRequestEndEvent](raw)
		if err != nil {
			return nil, err
		}
		return &events.RequestEnd{
			Header:     header(&r.H),
			Status:     r.Status,
			Lost:       r.Lost,
			Exceptions: r.Exceptions,
			OpenFrames: r.OpenFrames,
		}, nil
	case events.KindFunction:
		r, err := view[requestFunctionEvent](raw)
		if err != nil {
			return nil, err
		}
		return &events.Function{
			Header:   header(&r.H),
			Start:    r.Start,
			ChildNs:  r.ChildNs,
			Seq:      r.Seq,
			Parent:   r.Parent,
			Depth:    r.Depth,
			Line:     r.Line,
			Flags:    r.Flags,
			Function: t.names.cString(r.Function[:]),
			Class:    t.names.cString(r.Class[:]),
			File:     t.names.cString(r.File[:]),
		}, nil
	case events.KindException:
		r, err := view[requestExceptionEvent](raw)
		if err != nil {
			return nil, err
		}
		return &events.Exception{Header: header(&r.H), Frame: r.Frame, Class: cString(r.Class[:])}, nil
	case events.KindPHPError:
		r, err := view[requestPhpErrorEvent](raw)
		if err != nil {
			return nil, err
		}
		return &events.PHPError{
			Header:  header(&r.H),
			Frame:   r.Frame,
			Line:    r.Line,
			Message: cString(r.Message[:]),
			File:    cString(r.File[:]),
		}, nil
	case events.KindSymbol:
		r, err := view[ioSymbolEvent](raw)
		if err != nil {
			return nil, err
		}
		return &events.Symbol{
			Header:    header((*requestEventHeader)(unsafe.Pointer(&r.H))),
			Func:      r.Func,
			Name:      r.Name,
			User:      r.Type == zendUserFunction,
			LineStart: r.LineStart,
			Function:  cString(r.Function[:]),
			Class:     cString(r.Class[:]),
			File:      cString(r.File[:]),
		}, nil
	case events.KindSample:
		return decodeSample(raw)
	case events.KindIO:
		r, err := view[ioIoEvent](raw)
		if err != nil {
			return nil, err
		}
		// The event and its frames (8 at most) in one allocation.
		ef := &ioEventFrames{}
		e := &ef.IO
		*e = events.IO{
			Header:   header((*requestEventHeader)(unsafe.Pointer(&r.H))),
			Hook:     t.hookName(r.Site),
			Start:    r.Start,
			Args:     r.Args,
			Ret:      r.Ret,
			Deref:    r.Deref,
			This:     r.ThisObj,
			RetObj:   r.RetObj,
			RetType:  r.RetType,
			NumArgs:  r.NumArgs,
			ArgTypes: r.ArgTypes,
			ArgVals:  r.ArgVals,
			Text:     cString(r.Text[:]),
			TextLen:  r.TextLen,
			Key:      cString(r.Key[:]),
		}
		if n := min(int(r.Nframes), len(r.Frames)); n > 0 {
			e.Frames = copyFrameRefs(ef.frames[:n:n], r.Frames[:n])
		} else {
			e.Frames = []events.FrameRef{} // as frameRefs made it: empty, not nil
		}
		return e, nil
	default:
		return nil, fmt.Errorf("unknown event kind %d", raw[kindOffset])
	}
}

// view reinterprets raw as a *T after checking its length.
func view[T any](raw []byte) (*T, error) {
	var zero T
	if len(raw) < int(unsafe.Sizeof(zero)) {
		return nil, fmt.Errorf("record of %d bytes is shorter than %T (%d)", len(raw), zero, unsafe.Sizeof(zero))
	}
	return (*T)(unsafe.Pointer(&raw[0])), nil
}

func header(h *requestEventHeader) events.Header {
	return events.Header{TS: h.Ts, Request: h.Request, PID: h.Pid, TID: h.Tid}
}

// cString copies a NUL-terminated C char array. Bytes after the NUL are
// whatever the ring buffer held before and are ignored.
func cString(b []int8) string {
	u := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(b))), len(b))
	if i := bytes.IndexByte(u, 0); i >= 0 {
		u = u[:i]
	}
	return string(u)
}

// probeString reads a string argument of PHP's request probes, which pass
// "-" for a missing value (SAFE_FILENAME in main/main.c): php-cli has no
// method or URI.
func probeString(b []int8) string {
	if s := cString(b); s != "-" {
		return s
	}
	return ""
}

const zendUserFunction = 2

// sampleFramesOffset is where the frames of a sample_event start; the BPF
// program sends only the frames it filled.
var sampleFramesOffset = int(unsafe.Offsetof(ioSampleEvent{}.Frames))

const frameRefSize = int(unsafe.Sizeof(ioFrameRef{}))

func decodeSample(raw []byte) (events.Event, error) {
	if len(raw) < sampleFramesOffset {
		return nil, fmt.Errorf("sample record of %d bytes is too short", len(raw))
	}
	r := (*ioSampleEvent)(unsafe.Pointer(&raw[0])) // only the fields before Frames are read from r
	n := int(r.Nframes)
	if n > len(r.Frames) || sampleFramesOffset+n*frameRefSize > len(raw) {
		return nil, fmt.Errorf("sample record of %d bytes cannot hold %d frames", len(raw), n)
	}
	var frames []ioFrameRef
	if n > 0 { // a sample outside PHP code has none, and may end right here
		frames = unsafe.Slice((*ioFrameRef)(unsafe.Pointer(&raw[sampleFramesOffset])), n)
	}
	return &events.Sample{
		Header: header((*requestEventHeader)(unsafe.Pointer(&r.H))),
		CPU:    r.Cpu,
		Frames: frameRefs(frames),
	}, nil
}

// ioEventFrames is an I/O event with room for its frames.
type ioEventFrames struct {
	events.IO
	frames [len(ioIoEvent{}.Frames)]events.FrameRef
}

func frameRefs(in []ioFrameRef) []events.FrameRef {
	return copyFrameRefs(make([]events.FrameRef, len(in)), in)
}

// copyFrameRefs copies in to out, as long, and returns out.
func copyFrameRefs(out []events.FrameRef, in []ioFrameRef) []events.FrameRef {
	for i, f := range in {
		out[i] = events.FrameRef{Func: f.Func, Name: f.Name, Line: f.Line}
	}
	return out
}
