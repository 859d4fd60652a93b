package trace

import (
	"bytes"
	"encoding/json"
	"time"
)

// SpanKind follows OpenTelemetry: the request span is a server span, PHP
// functions are internal spans, outgoing calls (SQL, HTTP) are client spans.
type SpanKind string

const (
	KindServer   SpanKind = "server"
	KindInternal SpanKind = "internal"
	KindClient   SpanKind = "client"
)

// StatusCode follows OpenTelemetry's span status.
type StatusCode string

const (
	StatusUnset StatusCode = "unset"
	StatusOK    StatusCode = "ok"
	StatusError StatusCode = "error"
)

type Status struct {
	Code    StatusCode `json:"code"`
	Message string     `json:"message,omitempty"`
}

// Attributes holds OpenTelemetry-style attributes. Values are string, int64,
// float64 or bool; decoding JSON keeps whole numbers as int64.
type Attributes map[string]any

func (a *Attributes) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var raw map[string]any
	if err := dec.Decode(&raw); err != nil {
		return err
	}
	for k, v := range raw {
		if n, ok := v.(json.Number); ok {
			if i, err := n.Int64(); err == nil {
				raw[k] = i
			} else if f, err := n.Float64(); err == nil {
				raw[k] = f
			}
		}
	}
	*a = raw
	return nil
}

// Event is a point in time inside a span: an exception, a PHP error.
type Event struct {
	Name         string     `json:"name"`
	TimeUnixNano int64      `json:"timeUnixNano"`
	Attributes   Attributes `json:"attributes,omitempty"`
}

// Span is one timed operation. The request span has a zero ParentSpanID
// unless the request continued a caller's trace.
type Span struct {
	SpanID        SpanID     `json:"spanId"`
	ParentSpanID  SpanID     `json:"parentSpanId,omitzero"`
	Name          string     `json:"name"`
	Kind          SpanKind   `json:"kind"`
	StartUnixNano int64      `json:"startUnixNano"`
	DurationNano  int64      `json:"durationNano"`
	Attributes    Attributes `json:"attributes,omitempty"`
	Events        []Event    `json:"events,omitempty"`
	Status        Status     `json:"status"`
}

func (s *Span) Start() time.Time        { return time.Unix(0, s.StartUnixNano) }
func (s *Span) Duration() time.Duration { return time.Duration(s.DurationNano) }
func (s *Span) End() time.Time          { return s.Start().Add(s.Duration()) }
func (s *Span) SetAttr(key string, v any) {
	if s.Attributes == nil {
		s.Attributes = Attributes{}
	}
	s.Attributes[key] = v
}

// Summary is what a search returns per trace: the indexed columns of the store.
type Summary struct {
	TraceID       TraceID `json:"traceId"`
	Service       string  `json:"service"`
	Pool          string  `json:"pool,omitempty"`
	Host          string  `json:"host,omitempty"`
	Method        string  `json:"method,omitempty"`
	Path          string  `json:"path,omitempty"`
	StatusCode    int     `json:"statusCode,omitempty"`
	StartUnixNano int64   `json:"startUnixNano"`
	DurationNano  int64   `json:"durationNano"`
	Error         bool    `json:"error"`
	// Incomplete means events were lost (ring buffer full, agent restarted
	// mid-request): the trace is shown, but it is known to miss pieces.
	Incomplete bool `json:"incomplete"`
	SpanCount  int  `json:"spanCount"`
	// NPlusOne counts the statements this request repeated from one call
	// site at least the configured number of times (0: none).
	NPlusOne int `json:"nPlusOne,omitempty"`
}

func (s *Summary) Start() time.Time        { return time.Unix(0, s.StartUnixNano) }
func (s *Summary) Duration() time.Duration { return time.Duration(s.DurationNano) }

// Name is how a trace is called in lists: "GET /wp-admin/" or, for the CLI,
// the script.
func (s *Summary) Name() string {
	switch {
	case s.Method != "" && s.Path != "":
		return s.Method + " " + s.Path
	case s.Path != "":
		return s.Path
	default:
		return s.Service
	}
}

// Trace is one PHP request with all its spans; Spans[0] is the request span.
type Trace struct {
	Summary
	Spans []Span `json:"spans"`
}

// Root returns the request span, or nil for an empty trace.
func (t *Trace) Root() *Span {
	if len(t.Spans) == 0 {
		return nil
	}
	return &t.Spans[0]
}
