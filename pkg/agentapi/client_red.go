package agentapi

import (
	"context"
	"net/http"
)

// RED returns the request rate, errors and duration histograms per step of
// the traces matching q. Zero fields take the agent's defaults
// (REDQuery.WithDefaults): the hour before now by minute, per endpoint, the
// DefaultREDLimit busiest. A query the agent refuses is a 400 *APIError
// naming the parameter.
func (c *Client) RED(ctx context.Context, q REDQuery) (*REDResponse, error) {
	var resp REDResponse
	if err := c.do(ctx, http.MethodGet, PathREDMetrics, EncodeREDQuery(q), nil, &resp); err != nil {
		return nil, err
	}
	return &resp, nil
}
