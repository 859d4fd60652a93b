package agentapi

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/tusk-php/tusk/pkg/trace"
)

// maxPprofBytes bounds a downloaded pprof profile.
const maxPprofBytes = 256 << 20

// Flamegraph returns the profile matching q as a flame graph of at most
// maxNodes nodes (0: the agent's default). Zero From/To mean the agent's
// defaults: the hour before now.
func (c *Client) Flamegraph(ctx context.Context, q ProfileQuery, maxNodes int) (*Flamegraph, error) {
	v := EncodeProfileQuery(q)
	if maxNodes > 0 {
		v.Set(ParamMaxNodes, strconv.Itoa(maxNodes))
	}
	var fg Flamegraph
	if err := c.do(ctx, http.MethodGet, PathProfileFlamegraph, v, nil, &fg); err != nil {
		return nil, err
	}
	return &fg, nil
}

// TopFunctions returns the functions of the profile matching q by self
// samples, at most limit of them (0: the agent's default).
func (c *Client) TopFunctions(ctx context.Context, q ProfileQuery, limit int) (*TopFunctionsResponse, error) {
	v := EncodeProfileQuery(q)
	if limit > 0 {
		v.Set(ParamLimit, strconv.Itoa(limit))
	}
	var resp TopFunctionsResponse
	if err := c.do(ctx, http.MethodGet, PathProfileTop, v, nil, &resp); err != nil {
		return nil, err
	}
	return &resp, nil
}

// TraceProfile returns one request's samples as a flame graph;
// IsNotFound(err) when no sample was taken while it ran.
func (c *Client) TraceProfile(ctx context.Context, id trace.TraceID, maxNodes int) (*Flamegraph, error) {
	v := url.Values{}
	if maxNodes > 0 {
		v.Set(ParamMaxNodes, strconv.Itoa(maxNodes))
	}
	var fg Flamegraph
	if err := c.do(ctx, http.MethodGet, PathTraces+"/"+id.String()+PathTraceProfileSuffix, v, nil, &fg); err != nil {
		return nil, err
	}
	return &fg, nil
}

// Pprof returns the profile matching q as a gzipped pprof protobuf, ready
// to be written to a file for `go tool pprof`.
func (c *Client) Pprof(ctx context.Context, q ProfileQuery) ([]byte, error) {
	u := strings.TrimRight(c.BaseURL, "/") + PathProfilePprof
	if v := EncodeProfileQuery(q); len(v) > 0 {
		u += "?" + v.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("agent URL %q: %w", c.BaseURL, err)
	}
	req.Header.Set("Accept", "application/octet-stream, application/json")
	req.Header.Set("User-Agent", "tusk-agentapi")
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	hc := c.HTTP
	if hc == nil {
		hc = defaultHTTPClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, c.transportError(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, readAPIError(resp)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxPprofBytes+1))
	if err != nil {
		return nil, fmt.Errorf("GET %s: reading the profile: %w", PathProfilePprof, err)
	}
	if len(b) > maxPprofBytes {
		return nil, fmt.Errorf("GET %s: profile larger than %d bytes", PathProfilePprof, maxPprofBytes)
	}
	return b, nil
}

// FunctionTraces returns the requests whose samples contain q.Function,
// hottest first. Zero Start/End of q.Traces mean the agent's defaults: the
// hour before now. A query the agent refuses is a 400 *APIError naming the
// parameter.
func (c *Client) FunctionTraces(ctx context.Context, q FunctionTracesQuery) (*FunctionTracesResponse, error) {
	var resp FunctionTracesResponse
	if err := c.do(ctx, http.MethodGet, PathProfileTraces, EncodeFunctionTracesQuery(q), nil, &resp); err != nil {
		return nil, err
	}
	return &resp, nil
}
