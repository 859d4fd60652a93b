package agentapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tusk-php/tusk/pkg/trace"
)

// DefaultClientTimeout bounds a whole call, body included, when the client
// was made by NewClient or has no HTTP client of its own.
const DefaultClientTimeout = 10 * time.Second

// maxErrorBody bounds how much of a non-2xx body is read for the message.
const maxErrorBody = 64 << 10

var defaultHTTPClient = &http.Client{Timeout: DefaultClientTimeout}

// Client calls one agent. The CLI and the plugin backend use it; fields may
// be set directly, a nil HTTP uses a client with DefaultClientTimeout.
type Client struct {
	BaseURL string // e.g. "http://10.0.0.5:9464", with or without a path prefix
	Token   string // sent as "Authorization: Bearer <Token>" when not empty
	HTTP    *http.Client
}

// NewClient returns a client for the agent at baseURL.
func NewClient(baseURL, token string) *Client {
	return &Client{
		BaseURL: strings.TrimRight(baseURL, "/"),
		Token:   token,
		HTTP:    &http.Client{Timeout: DefaultClientTimeout},
	}
}

// Health asks the agent whether it is up; it needs no token.
func (c *Client) Health(ctx context.Context) error {
	var h HealthResponse
	if err := c.do(ctx, http.MethodGet, PathHealth, nil, nil, &h); err != nil {
		return err
	}
	if h.Status != "ok" {
		return fmt.Errorf("agent at %s reports status %q", c.BaseURL, h.Status)
	}
	return nil
}

// Search returns the summaries of the traces matching q. An invalid q is
// refused by the agent with a 400 *APIError naming the parameter.
func (c *Client) Search(ctx context.Context, q trace.Query) ([]trace.Summary, error) {
	var resp SearchResponse
	if err := c.do(ctx, http.MethodGet, PathTraces, EncodeQuery(q), nil, &resp); err != nil {
		return nil, err
	}
	return resp.Traces, nil
}

// Trace returns one trace with its spans; IsNotFound(err) when the agent
// does not have it (never had it, or it was pruned).
func (c *Client) Trace(ctx context.Context, id trace.TraceID) (*trace.Trace, error) {
	var t trace.Trace
	if err := c.do(ctx, http.MethodGet, PathTraces+"/"+id.String(), nil, nil, &t); err != nil {
		return nil, err
	}
	return &t, nil
}

// Status returns what the agent sees and does.
func (c *Client) Status(ctx context.Context) (*Status, error) {
	var s Status
	if err := c.do(ctx, http.MethodGet, PathStatus, nil, nil, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// DeepModes lists the active deep-mode grants.
func (c *Client) DeepModes(ctx context.Context) ([]DeepMode, error) {
	var resp DeepModesResponse
	if err := c.do(ctx, http.MethodGet, PathDeepModes, nil, nil, &resp); err != nil {
		return nil, err
	}
	return resp.DeepModes, nil
}

// EnableDeepMode asks for function spans; errors.Is(err, ErrBadRequest) when
// the agent refuses the request as asked.
func (c *Client) EnableDeepMode(ctx context.Context, req DeepModeRequest) (*DeepMode, error) {
	var dm DeepMode
	if err := c.do(ctx, http.MethodPost, PathDeepModes, nil, req, &dm); err != nil {
		return nil, err
	}
	return &dm, nil
}

// DisableDeepMode ends a grant before it expires; IsNotFound(err) when there
// is no such grant (it may have expired already).
func (c *Client) DisableDeepMode(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, PathDeepModes+"/"+url.PathEscape(id), nil, nil, nil)
}

// do sends one request; body, when not nil, is sent as JSON, and a 2xx
// answer is decoded into out unless out is nil.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, body, out any) error {
	u := strings.TrimRight(c.BaseURL, "/") + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var reqBody io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("%s %s: encoding request: %w", method, path, err)
		}
		reqBody = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, reqBody)
	if err != nil {
		return fmt.Errorf("agent URL %q: %w", c.BaseURL, err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "tusk-agentapi")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}

	hc := c.HTTP
	if hc == nil {
		hc = defaultHTTPClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return c.transportError(err)
	}
	defer resp.Body.Close()

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return readAPIError(resp)
	}
	if out == nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody)) // lets the connection be reused
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("%s %s: decoding the agent's answer: %w", method, path, err)
	}
	return nil
}

// transportError says "not reachable" when no connection could be made, so
// the CLI user checks the address and the agent rather than the request.
func (c *Client) transportError(err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return fmt.Errorf("%w at %s: %w", ErrUnreachable, c.BaseURL, err)
	}
	// *url.Error already names the method and URL.
	return err
}

// readAPIError builds an *APIError from a non-2xx answer, keeping the
// agent's message, or the start of a foreign body (a proxy's page).
func readAPIError(resp *http.Response) error {
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	var body Error
	if json.Unmarshal(raw, &body) == nil && body.Error != "" {
		return &APIError{StatusCode: resp.StatusCode, Message: body.Error}
	}
	msg := strings.TrimSpace(string(raw))
	if len(msg) > 200 {
		msg = strings.ToValidUTF8(msg[:200], "") + "…"
	}
	return &APIError{StatusCode: resp.StatusCode, Message: msg}
}
