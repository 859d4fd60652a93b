package jaegertest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Client reads Jaeger's HTTP query API (the one its UI uses, /api/...).
type Client struct {
	URL  string
	HTTP *http.Client
}

// Trace is a trace as the query API returns it.
type Trace struct {
	TraceID   string             `json:"traceID"`
	Spans     []Span             `json:"spans"`
	Processes map[string]Process `json:"processes"`
	Warnings  []string           `json:"warnings"`
}

// Span is one span; times are in microseconds.
type Span struct {
	TraceID       string      `json:"traceID"`
	SpanID        string      `json:"spanID"`
	OperationName string      `json:"operationName"`
	References    []Reference `json:"references"`
	StartTime     int64       `json:"startTime"`
	Duration      int64       `json:"duration"`
	Tags          []KeyValue  `json:"tags"`
	Logs          []Log       `json:"logs"`
	ProcessID     string      `json:"processID"`
	Warnings      []string    `json:"warnings"`
}

// Reference links a span to its parent (CHILD_OF) or another span.
type Reference struct {
	RefType string `json:"refType"`
	TraceID string `json:"traceID"`
	SpanID  string `json:"spanID"`
}

// KeyValue is a tag; Type is "string", "int64", "float64", "bool" or
// "binary". JSON numbers decode as float64.
type KeyValue struct {
	Key   string `json:"key"`
	Type  string `json:"type"`
	Value any    `json:"value"`
}

// Log is a span event.
type Log struct {
	Timestamp int64      `json:"timestamp"`
	Fields    []KeyValue `json:"fields"`
}

// Process is the resource a span came from: its service and tags.
type Process struct {
	ServiceName string     `json:"serviceName"`
	Tags        []KeyValue `json:"tags"`
}

// Tag returns the value of a tag.
func Tag(kvs []KeyValue, key string) (any, bool) {
	for _, kv := range kvs {
		if kv.Key == key {
			return kv.Value, true
		}
	}
	return nil, false
}

// Tag returns the value of one of the span's tags.
func (s *Span) Tag(key string) (any, bool) { return Tag(s.Tags, key) }

// ParentSpanID is the span id of its CHILD_OF reference ("" for a root).
func (s *Span) ParentSpanID() string {
	for _, r := range s.References {
		if r.RefType == "CHILD_OF" {
			return r.SpanID
		}
	}
	return ""
}

// Span returns the span with this id, or nil.
func (t *Trace) Span(id string) *Span {
	for i := range t.Spans {
		if t.Spans[i].SpanID == id {
			return &t.Spans[i]
		}
	}
	return nil
}

// Service is the service name of a span's process.
func (t *Trace) Service(s *Span) string { return t.Processes[s.ProcessID].ServiceName }

// NormalizeID pads a trace id Jaeger printed without its leading zeros.
func NormalizeID(id string) string {
	id = strings.ToLower(id)
	if len(id) < 32 {
		id = strings.Repeat("0", 32-len(id)) + id
	}
	return id
}

type apiError struct {
	Code int    `json:"code"`
	Msg  string `json:"msg"`
}

type envelope[T any] struct {
	Data   T          `json:"data"`
	Errors []apiError `json:"errors"`
}

func get[T any](ctx context.Context, c *Client, path string, q url.Values) (T, error) {
	var zero T
	u := strings.TrimRight(c.URL, "/") + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return zero, err
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return zero, err
	}
	defer resp.Body.Close()
	body, err := readBody(resp.Body)
	if err != nil {
		return zero, err
	}
	if resp.StatusCode == http.StatusNotFound {
		return zero, ErrNotFound
	}
	var env envelope[T]
	if err := json.Unmarshal(body, &env); err != nil {
		return zero, fmt.Errorf("jaeger %s: HTTP %d, undecodable answer: %v", path, resp.StatusCode, err)
	}
	if resp.StatusCode != http.StatusOK || len(env.Errors) > 0 {
		return zero, fmt.Errorf("jaeger %s: HTTP %d %+v", path, resp.StatusCode, env.Errors)
	}
	return env.Data, nil
}

// Services lists the service names Jaeger has spans of (GET /api/services).
func (c *Client) Services(ctx context.Context) ([]string, error) {
	return get[[]string](ctx, c, "/api/services", nil)
}

// Trace returns one trace (GET /api/traces/{id}), or ErrNotFound.
func (c *Client) Trace(ctx context.Context, traceID string) (*Trace, error) {
	list, err := get[[]Trace](ctx, c, "/api/traces/"+url.PathEscape(traceID), nil)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, ErrNotFound
	}
	return &list[0], nil
}

// Query is a trace search; Service is required.
type Query struct {
	Service    string
	Operation  string
	Start, End time.Time // default: the last hour
	Limit      int       // default 20
}

// FindTraces searches traces (GET /api/traces?service=…&start=…&end=…&limit=…).
func (c *Client) FindTraces(ctx context.Context, q Query) ([]Trace, error) {
	end, start := q.End, q.Start
	if end.IsZero() {
		end = time.Now().Add(time.Minute)
	}
	if start.IsZero() {
		start = end.Add(-time.Hour)
	}
	v := url.Values{
		"service": {q.Service},
		"start":   {strconv.FormatInt(start.UnixMicro(), 10)},
		"end":     {strconv.FormatInt(end.UnixMicro(), 10)},
	}
	if q.Operation != "" {
		v.Set("operation", q.Operation)
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	return get[[]Trace](ctx, c, "/api/traces", v)
}

// WaitTrace polls until Jaeger has the trace with at least minSpans spans
// (it stores what it receives after a short batching delay).
func (c *Client) WaitTrace(ctx context.Context, traceID string, minSpans int) (*Trace, error) {
	for {
		t, err := c.Trace(ctx, traceID)
		if err == nil && len(t.Spans) >= minSpans {
			return t, nil
		}
		select {
		case <-ctx.Done():
			if err == nil {
				err = fmt.Errorf("%d spans, want %d", len(t.Spans), minSpans)
			}
			return t, fmt.Errorf("jaeger trace %s: %w (%v)", traceID, err, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}
