// Package trace is the data model shared by the agent, its HTTP API, the CLI and
// the Grafana plugin backend: a trace is one PHP request, its spans are the
// request itself and whatever happened inside it.
package trace

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
)

// TraceID is a W3C trace id: 16 bytes, printed as 32 lower-case hex digits.
type TraceID [16]byte

// SpanID is a W3C span id: 8 bytes, printed as 16 lower-case hex digits.
type SpanID [8]byte

// NewTraceID returns a random, non-zero trace id.
func NewTraceID() TraceID {
	var id TraceID
	for id.IsZero() {
		_, _ = rand.Read(id[:])
	}
	return id
}

// NewSpanID returns a random, non-zero span id.
func NewSpanID() SpanID {
	var id SpanID
	for id.IsZero() {
		_, _ = rand.Read(id[:])
	}
	return id
}

func (id TraceID) IsZero() bool { return id == TraceID{} }
func (id SpanID) IsZero() bool  { return id == SpanID{} }

func (id TraceID) String() string { return hex.EncodeToString(id[:]) }
func (id SpanID) String() string  { return hex.EncodeToString(id[:]) }

// ParseTraceID accepts exactly 32 hex digits (either case).
func ParseTraceID(s string) (TraceID, error) {
	var id TraceID
	if err := decodeHexID(id[:], s, "trace id"); err != nil {
		return TraceID{}, err
	}
	return id, nil
}

// ParseSpanID accepts exactly 16 hex digits (either case).
func ParseSpanID(s string) (SpanID, error) {
	var id SpanID
	if err := decodeHexID(id[:], s, "span id"); err != nil {
		return SpanID{}, err
	}
	return id, nil
}

func decodeHexID(dst []byte, s, what string) error {
	if len(s) != 2*len(dst) {
		return fmt.Errorf("%s %q: want %d hex digits, got %d characters", what, s, 2*len(dst), len(s))
	}
	if _, err := hex.Decode(dst, []byte(s)); err != nil {
		return fmt.Errorf("%s %q: not hexadecimal", what, s)
	}
	return nil
}

func (id TraceID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }
func (id SpanID) MarshalText() ([]byte, error)  { return []byte(id.String()), nil }

func (id *TraceID) UnmarshalText(b []byte) error {
	v, err := ParseTraceID(string(b))
	*id = v
	return err
}

func (id *SpanID) UnmarshalText(b []byte) error {
	if len(b) == 0 { // the root span has no parent
		*id = SpanID{}
		return nil
	}
	v, err := ParseSpanID(string(b))
	*id = v
	return err
}
