package tracebackend

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/tusk-php/tusk/pkg/trace"
)

// Tempo reads Tempo's HTTP API: TraceQL search (/api/search) and trace by
// id (/api/v2/traces/{id}, OTLP JSON), as documented at
// https://grafana.com/docs/tempo/latest/api_docs/. Tempo cannot run here:
// it is tested with answers in the documented shape.
type Tempo struct{ *client }

func (tp *Tempo) Check(ctx context.Context) (string, error) {
	var resp struct {
		TagNames []string `json:"tagNames"`
	}
	if err := tp.getJSON(ctx, "/api/search/tags", nil, &resp); err != nil {
		return "", err
	}
	return fmt.Sprintf("Tempo at %s: %d tags", tp.opts.URL, len(resp.TagNames)), nil
}

type tempoSearchResponse struct {
	Traces []struct {
		TraceID           string `json:"traceID"`
		RootServiceName   string `json:"rootServiceName"`
		RootTraceName     string `json:"rootTraceName"`
		StartTimeUnixNano string `json:"startTimeUnixNano"`
		DurationMs        int64  `json:"durationMs"`
	} `json:"traces"`
}

// TraceQL builds the search's TraceQL: conditions on the request span (the
// server span the agent makes per request) and on the trace's duration.
func TraceQL(q trace.Query) string {
	conds := []string{"kind = server"}
	str := func(s string) string { return strconv.Quote(s) }
	if q.Service != "" {
		conds = append(conds, "resource.service.name = "+str(q.Service))
	}
	if q.Pool != "" {
		conds = append(conds, "span."+trace.AttrPHPPool+" = "+str(q.Pool))
	}
	if q.Method != "" {
		conds = append(conds, "span."+trace.AttrHTTPMethod+" = "+str(q.Method))
	}
	if q.PathPrefix != "" {
		conds = append(conds, "span."+trace.AttrURLPath+" =~ "+str(regexp.QuoteMeta(q.PathPrefix)+".*"))
	}
	if q.StatusCode != 0 {
		conds = append(conds, "span."+trace.AttrHTTPStatusCode+" = "+strconv.Itoa(q.StatusCode))
	}
	if q.ErrorsOnly {
		conds = append(conds, "status = error")
	}
	if q.MinDuration > 0 {
		conds = append(conds, "duration >= "+q.MinDuration.String())
	}
	if q.MaxDuration > 0 {
		conds = append(conds, "duration <= "+q.MaxDuration.String())
	}
	return "{ " + strings.Join(conds, " && ") + " }"
}

// Search runs the TraceQL search over the query's range.
func (tp *Tempo) Search(ctx context.Context, q trace.Query) ([]trace.Summary, error) {
	params := url.Values{"q": {TraceQL(q)}}
	limit := q.EffectiveLimit()
	if q.Order == trace.OrderSlowest {
		limit = min(limit*4, 1500) // Tempo returns the newest: sort a wider set
	}
	params.Set("limit", strconv.Itoa(limit))
	if !q.Start.IsZero() {
		params.Set("start", strconv.FormatInt(q.Start.Unix(), 10))
	}
	if !q.End.IsZero() {
		params.Set("end", strconv.FormatInt(q.End.Unix()+1, 10)) // seconds, rounded up
	}
	var resp tempoSearchResponse
	if err := tp.getJSON(ctx, "/api/search", params, &resp); err != nil {
		return nil, err
	}
	sums := make([]trace.Summary, 0, len(resp.Traces))
	for _, r := range resp.Traces {
		id, err := trace.ParseTraceID(padHex(r.TraceID, 32))
		if err != nil {
			return nil, fmt.Errorf("tempo trace id %q: %w", r.TraceID, err)
		}
		start, _ := strconv.ParseInt(r.StartTimeUnixNano, 10, 64)
		s := trace.Summary{TraceID: id, Service: r.RootServiceName, StartUnixNano: start, DurationNano: r.DurationMs * 1e6}
		// The agent names request spans "METHOD /path".
		if m, p, ok := strings.Cut(r.RootTraceName, " "); ok && strings.HasPrefix(p, "/") {
			s.Method, s.Path = m, p
		} else {
			s.Path = r.RootTraceName
		}
		sums = append(sums, s)
	}
	// The search answer has no status or pool: filters on them were in the
	// TraceQL, so only those it does carry are applied again.
	relaxed := trace.Query{PathPrefix: q.PathPrefix, Method: q.Method, Limit: q.Limit, Order: q.Order}
	return finishSearch(sums, relaxed), nil
}

// Trace fetches one trace (OTLP JSON).
func (tp *Tempo) Trace(ctx context.Context, id trace.TraceID) (*trace.Trace, error) {
	var resp struct {
		Trace otlpTraces `json:"trace"`
	}
	if err := tp.getJSON(ctx, "/api/v2/traces/"+id.String(), nil, &resp); err != nil {
		return nil, err
	}
	t, err := resp.Trace.toTrace(id)
	if err != nil {
		return nil, fmt.Errorf("tempo trace %s: %w", id, err)
	}
	if len(t.Spans) == 0 {
		return nil, fmt.Errorf("tempo: trace %s: %w", id, errNotFound)
	}
	return t, nil
}

// otlpTraces is OTLP/JSON's TracesData. Tempo writes ids in base64 (its
// protobuf JSON), the OTLP/JSON spec in hex: both are read.
type otlpTraces struct {
	ResourceSpans []struct {
		Resource struct {
			Attributes []otlpKV `json:"attributes"`
		} `json:"resource"`
		ScopeSpans []struct {
			Spans []otlpSpan `json:"spans"`
		} `json:"scopeSpans"`
	} `json:"resourceSpans"`
}

type otlpSpan struct {
	TraceID           string   `json:"traceId"`
	SpanID            string   `json:"spanId"`
	ParentSpanID      string   `json:"parentSpanId"`
	Name              string   `json:"name"`
	Kind              any      `json:"kind"` // "SPAN_KIND_SERVER" or 2
	StartTimeUnixNano string   `json:"startTimeUnixNano"`
	EndTimeUnixNano   string   `json:"endTimeUnixNano"`
	Attributes        []otlpKV `json:"attributes"`
	Events            []struct {
		TimeUnixNano string   `json:"timeUnixNano"`
		Name         string   `json:"name"`
		Attributes   []otlpKV `json:"attributes"`
	} `json:"events"`
	Status struct {
		Code    any    `json:"code"` // "STATUS_CODE_ERROR" or 2
		Message string `json:"message"`
	} `json:"status"`
}

type otlpKV struct {
	Key   string `json:"key"`
	Value struct {
		StringValue *string  `json:"stringValue"`
		IntValue    any      `json:"intValue"` // a string in OTLP/JSON, a number from some writers
		DoubleValue *float64 `json:"doubleValue"`
		BoolValue   *bool    `json:"boolValue"`
	} `json:"value"`
}

func (kv otlpKV) value() any {
	v := kv.Value
	switch {
	case v.StringValue != nil:
		return *v.StringValue
	case v.IntValue != nil:
		return attrInt(v.IntValue)
	case v.DoubleValue != nil:
		return *v.DoubleValue
	case v.BoolValue != nil:
		return *v.BoolValue
	}
	return ""
}

func (ot *otlpTraces) toTrace(id trace.TraceID) (*trace.Trace, error) {
	t := &trace.Trace{}
	t.TraceID = id
	rootService := ""
	for _, rs := range ot.ResourceSpans {
		resource := trace.Attributes{}
		service := ""
		for _, kv := range rs.Resource.Attributes {
			if kv.Key == trace.AttrServiceName {
				service, _ = kv.value().(string)
			}
			if isRestoredResource(kv.Key) {
				resource[kv.Key] = kv.value()
			}
		}
		for _, ss := range rs.ScopeSpans {
			for _, os := range ss.Spans {
				s, err := os.toSpan()
				if err != nil {
					return nil, err
				}
				if s.ParentSpanID.IsZero() {
					rootService = service
					for k, v := range resource { // back on the request span, as the agent had them
						if _, ok := s.Attributes[k]; !ok {
							s.Attributes[k] = v
						}
					}
				}
				t.Spans = append(t.Spans, s)
			}
		}
	}
	summarize(t, rootService)
	return t, nil
}

func (os *otlpSpan) toSpan() (trace.Span, error) {
	s := trace.Span{Name: os.Name, Attributes: trace.Attributes{}, Kind: otlpKind(os.Kind)}
	var err error
	if s.SpanID, err = decodeSpanID(os.SpanID); err != nil {
		return s, err
	}
	if os.ParentSpanID != "" {
		if s.ParentSpanID, err = decodeSpanID(os.ParentSpanID); err != nil {
			return s, err
		}
	}
	start, _ := strconv.ParseInt(os.StartTimeUnixNano, 10, 64)
	end, _ := strconv.ParseInt(os.EndTimeUnixNano, 10, 64)
	s.StartUnixNano, s.DurationNano = start, max(end-start, 0)
	for _, kv := range os.Attributes {
		s.Attributes[kv.Key] = kv.value()
	}
	for _, e := range os.Events {
		ev := trace.Event{Name: e.Name, Attributes: trace.Attributes{}}
		ev.TimeUnixNano, _ = strconv.ParseInt(e.TimeUnixNano, 10, 64)
		for _, kv := range e.Attributes {
			ev.Attributes[kv.Key] = kv.value()
		}
		s.Events = append(s.Events, ev)
	}
	s.Status = trace.Status{Code: otlpStatus(os.Status.Code), Message: os.Status.Message}
	return s, nil
}

func otlpKind(k any) trace.SpanKind {
	switch fmt.Sprint(k) {
	case "SPAN_KIND_SERVER", "2":
		return trace.KindServer
	case "SPAN_KIND_CLIENT", "3":
		return trace.KindClient
	}
	return trace.KindInternal
}

func otlpStatus(c any) trace.StatusCode {
	switch fmt.Sprint(c) {
	case "STATUS_CODE_ERROR", "2":
		return trace.StatusError
	case "STATUS_CODE_OK", "1":
		return trace.StatusOK
	}
	return trace.StatusUnset
}

// decodeSpanID reads a span id in hex (16 digits) or base64 (8 bytes).
func decodeSpanID(s string) (trace.SpanID, error) {
	var id trace.SpanID
	if len(s) == 16 {
		if _, err := hex.Decode(id[:], []byte(s)); err == nil {
			return id, nil
		}
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b) != len(id) {
		return id, fmt.Errorf("span id %q: neither 16 hex digits nor 8 bytes in base64", s)
	}
	copy(id[:], b)
	return id, nil
}
