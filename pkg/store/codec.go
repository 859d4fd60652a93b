package store

import (
	"bytes"
	"compress/flate"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sync"

	"github.com/tusk-php/tusk/pkg/trace"
)

// The spans column starts with one byte naming its format, so the format can
// change without rewriting old rows: a reader dispatches on it, a writer
// always writes the newest.
const (
	// spansDeflateJSON is the []trace.Span as JSON, raw DEFLATE compressed.
	// JSON because the model already defines it (the API speaks it) and it
	// decodes without a schema; DEFLATE because it is in the standard library
	// and span JSON, full of repeated keys and file paths, shrinks ~5-10x.
	spansDeflateJSON byte = 1
	// spansJSON is the []trace.Span as plain JSON, for small traces: a
	// request span alone is a few hundred bytes, which DEFLATE shrinks by
	// less than half while costing more CPU than the JSON encoding itself.
	spansJSON byte = 2
)

// compressFrom is the JSON size from which spans are compressed.
const compressFrom = 1024

// compressionLevel trades agent CPU for disk: BestSpeed compresses span JSON
// nearly as well as the default level at a fraction of the cost.
const compressionLevel = flate.BestSpeed

// flate writers allocate ~600 KB each; reuse them across batches.
var flateWriters = sync.Pool{New: func() any {
	w, _ := flate.NewWriter(nil, compressionLevel) // level is valid: cannot fail
	return w
}}

var flateReaders sync.Pool

// encodeSpans returns the spans column for spans.
func encodeSpans(spans []trace.Span) ([]byte, error) {
	raw, err := json.Marshal(spans)
	if err != nil {
		// An attribute JSON cannot carry (NaN, +Inf, an unexpected type) must
		// not cost the whole trace: store it as text instead.
		raw, err = json.Marshal(sanitizedSpans(spans))
		if err != nil {
			return nil, fmt.Errorf("encode spans: %w", err)
		}
	}
	if len(raw) < compressFrom {
		return append([]byte{spansJSON}, raw...), nil
	}
	var buf bytes.Buffer
	buf.Grow(len(raw)/4 + 16)
	buf.WriteByte(spansDeflateJSON)
	zw := flateWriters.Get().(*flate.Writer)
	defer flateWriters.Put(zw)
	zw.Reset(&buf)
	if _, err := zw.Write(raw); err != nil {
		return nil, fmt.Errorf("compress spans: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("compress spans: %w", err)
	}
	return buf.Bytes(), nil
}

// decodeSpans reads a spans column written by any version of encodeSpans.
func decodeSpans(blob []byte) ([]trace.Span, error) {
	if len(blob) == 0 {
		return nil, errors.New("decode spans: empty column")
	}
	switch blob[0] {
	case spansJSON:
		var spans []trace.Span
		if err := json.Unmarshal(blob[1:], &spans); err != nil {
			return nil, fmt.Errorf("decode spans: %w", err)
		}
		return spans, nil
	case spansDeflateJSON:
		raw, err := inflate(blob[1:])
		if err != nil {
			return nil, fmt.Errorf("decode spans: %w", err)
		}
		var spans []trace.Span
		if err := json.Unmarshal(raw, &spans); err != nil {
			return nil, fmt.Errorf("decode spans: %w", err)
		}
		return spans, nil
	default:
		return nil, fmt.Errorf("decode spans: unknown format %d (written by a newer version?)", blob[0])
	}
}

func inflate(compressed []byte) ([]byte, error) {
	src := bytes.NewReader(compressed)
	zr, _ := flateReaders.Get().(io.ReadCloser)
	if zr == nil {
		zr = flate.NewReader(src)
	} else if err := zr.(flate.Resetter).Reset(src, nil); err != nil {
		return nil, err
	}
	defer flateReaders.Put(zr)
	return io.ReadAll(zr)
}

// sanitizedSpans returns a copy of spans whose attribute values all encode as
// JSON: non-finite floats and unknown types become their text form.
func sanitizedSpans(spans []trace.Span) []trace.Span {
	out := make([]trace.Span, len(spans))
	for i, s := range spans {
		s.Attributes = sanitizedAttributes(s.Attributes)
		if s.Events != nil {
			events := make([]trace.Event, len(s.Events))
			for j, e := range s.Events {
				e.Attributes = sanitizedAttributes(e.Attributes)
				events[j] = e
			}
			s.Events = events
		}
		out[i] = s
	}
	return out
}

func sanitizedAttributes(attrs trace.Attributes) trace.Attributes {
	if attrs == nil {
		return nil
	}
	out := make(trace.Attributes, len(attrs))
	for k, v := range attrs {
		switch v := v.(type) {
		case string, bool, int64, nil:
			out[k] = v
		case float64:
			if math.IsNaN(v) || math.IsInf(v, 0) {
				out[k] = fmt.Sprint(v)
			} else {
				out[k] = v
			}
		default:
			if _, err := json.Marshal(v); err == nil {
				out[k] = v
			} else {
				out[k] = fmt.Sprint(v)
			}
		}
	}
	return out
}
