// Package tracebackend reads PHP traces back from a distributed trace store
// the agents export to (Jaeger, Tempo), so that a fleet's datasource can
// search and show traces from there in the same frames as from the agents.
// Both stores hold OTLP spans; what Tusk's search and trace view need —
// method, path, status, pool, call sites — travels as span and resource
// attributes, so a trace read back is the trace the agent stored.
package tracebackend

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tusk-php/tusk/pkg/agentapi"
	"github.com/tusk-php/tusk/pkg/trace"
)

// Kind names a trace store.
type Kind string

const (
	KindJaeger Kind = "jaeger"
	KindTempo  Kind = "tempo"
)

// Backend is a trace store queried like an agent.
type Backend interface {
	Search(ctx context.Context, q trace.Query) ([]trace.Summary, error)
	// Trace returns the trace, or an error for which agentapi.IsNotFound is
	// true when the store does not have it.
	Trace(ctx context.Context, id trace.TraceID) (*trace.Trace, error)
	// Check reaches the store and says what it found, for health checks.
	Check(ctx context.Context) (string, error)
}

// Options configure a Backend.
type Options struct {
	URL string // the query API's base URL, e.g. http://jaeger:16686 or http://tempo:3200
	// BearerToken or BasicUser/BasicPassword authenticate, when set.
	BearerToken   string
	BasicUser     string
	BasicPassword string
	// TenantID is sent as X-Scope-OrgID (multi-tenant Tempo).
	TenantID string
	HTTP     *http.Client
}

// New returns the Backend of kind k.
func New(k Kind, o Options) (Backend, error) {
	u, err := url.Parse(o.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%s URL %q: want http://host:port", k, o.URL)
	}
	o.URL = strings.TrimRight(o.URL, "/")
	if o.HTTP == nil {
		o.HTTP = &http.Client{Timeout: 30 * time.Second}
	}
	c := &client{opts: o, kind: k}
	switch k {
	case KindJaeger:
		return &Jaeger{c}, nil
	case KindTempo:
		return &Tempo{c}, nil
	}
	return nil, fmt.Errorf("trace store %q: want jaeger or tempo", k)
}

// client does the HTTP part both stores share.
type client struct {
	opts Options
	kind Kind
}

// errNotFound is what a store's 404 becomes: agentapi.IsNotFound matches it,
// as it does the agents' own 404.
var errNotFound = agentapi.ErrNotFound

// getJSON GETs path?query and decodes a 2xx answer into out. A 404 is
// errNotFound; other failures keep the store's message.
func (c *client) getJSON(ctx context.Context, path string, query url.Values, out any) error {
	u := c.opts.URL + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	switch {
	case c.opts.BearerToken != "":
		req.Header.Set("Authorization", "Bearer "+c.opts.BearerToken)
	case c.opts.BasicUser != "":
		req.SetBasicAuth(c.opts.BasicUser, c.opts.BasicPassword)
	}
	if c.opts.TenantID != "" {
		req.Header.Set("X-Scope-OrgID", c.opts.TenantID)
	}
	resp, err := c.opts.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("%s at %s: %w", c.kind, c.opts.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("%s: reading the answer: %w", c.kind, err)
	}
	if resp.StatusCode == http.StatusNotFound {
		return fmt.Errorf("%s: %w", c.kind, errNotFound)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		msg := strings.TrimSpace(string(body))
		if len(msg) > 300 {
			msg = msg[:300] + "…"
		}
		return fmt.Errorf("%s answered %d %s: %s", c.kind, resp.StatusCode, http.StatusText(resp.StatusCode), msg)
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("%s: decoding the answer of %s: %w", c.kind, path, err)
	}
	return nil
}

// summarize fills t.Summary from its request span, as the agent does: the
// span without a parent in the trace (or the earliest), its attributes
// giving method, path, status and pool.
func summarize(t *trace.Trace, service string) {
	root := rootSpan(t)
	t.Service = service
	t.SpanCount = len(t.Spans)
	if root == nil {
		return
	}
	// The request span first, as the agent stores traces.
	if i := slices.IndexFunc(t.Spans, func(s trace.Span) bool { return s.SpanID == root.SpanID }); i > 0 {
		t.Spans[0], t.Spans[i] = t.Spans[i], t.Spans[0]
		root = &t.Spans[0]
	}
	a := root.Attributes
	t.Method, _ = a[trace.AttrHTTPMethod].(string)
	t.Path, _ = a[trace.AttrURLPath].(string)
	t.Pool, _ = a[trace.AttrPHPPool].(string)
	t.Host, _ = a[trace.AttrHostName].(string)
	t.StatusCode = int(attrInt(a[trace.AttrHTTPStatusCode]))
	t.StartUnixNano, t.DurationNano = root.StartUnixNano, root.DurationNano
	if n, ok := a[trace.AttrNPlusOneGroups]; ok {
		t.NPlusOne = int(attrInt(n))
	}
	if lost := attrInt(a[trace.AttrTuskLostEvents]); lost > 0 {
		t.Incomplete = true
	}
	for _, s := range t.Spans {
		if s.Status.Code == trace.StatusError && s.SpanID == root.SpanID {
			t.Error = true
		}
	}
}

func rootSpan(t *trace.Trace) *trace.Span {
	ids := make(map[trace.SpanID]bool, len(t.Spans))
	for _, s := range t.Spans {
		ids[s.SpanID] = true
	}
	var root *trace.Span
	for i := range t.Spans {
		s := &t.Spans[i]
		if s.ParentSpanID.IsZero() || !ids[s.ParentSpanID] {
			if root == nil || s.StartUnixNano < root.StartUnixNano {
				root = s
			}
		}
	}
	return root
}

func attrInt(v any) int64 {
	switch n := v.(type) {
	case int64:
		return n
	case float64:
		return int64(n)
	case string:
		i, _ := strconv.ParseInt(n, 10, 64)
		return i
	}
	return 0
}

// finishSearch applies what a store could not filter on (path prefix,
// order) and the limit.
func finishSearch(sums []trace.Summary, q trace.Query) []trace.Summary {
	out := sums[:0]
	for _, s := range sums {
		if q.Matches(&s) {
			out = append(out, s)
		}
	}
	slices.SortStableFunc(out, func(a, b trace.Summary) int {
		if q.Order == trace.OrderSlowest {
			if c := cmp.Compare(b.DurationNano, a.DurationNano); c != 0 {
				return c
			}
		}
		return cmp.Compare(b.StartUnixNano, a.StartUnixNano)
	})
	if n := q.EffectiveLimit(); len(out) > n {
		out = out[:n]
	}
	return out
}

// IsNotFound is agentapi.IsNotFound, for callers that only import this.
func IsNotFound(err error) bool { return errors.Is(err, errNotFound) }
