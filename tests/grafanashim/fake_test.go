package grafanashim

import (
	"context"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
)

// fakePlugin records what the shim sends and answers what it is told: for
// the exact shape of requests, which the real plugin does not show.
type fakePlugin struct {
	mu        sync.Mutex
	queries   []*backend.QueryDataRequest
	resources []*backend.CallResourceRequest
	health    []*backend.CheckHealthRequest

	queryErr    error
	resource    *backend.CallResourceResponse
	healthReply *backend.CheckHealthResult
}

func (f *fakePlugin) QueryData(_ context.Context, req *backend.QueryDataRequest) (*backend.QueryDataResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queries = append(f.queries, req)
	if f.queryErr != nil {
		return nil, f.queryErr
	}
	resp := backend.NewQueryDataResponse()
	for _, q := range req.Queries {
		resp.Responses[q.RefID] = backend.DataResponse{}
	}
	return resp, nil
}

func (f *fakePlugin) CheckHealth(_ context.Context, req *backend.CheckHealthRequest) (*backend.CheckHealthResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.health = append(f.health, req)
	if f.healthReply != nil {
		return f.healthReply, nil
	}
	return &backend.CheckHealthResult{Status: backend.HealthStatusOk, Message: "fine"}, nil
}

func (f *fakePlugin) CallResource(_ context.Context, req *backend.CallResourceRequest) (*backend.CallResourceResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.resources = append(f.resources, req)
	if f.resource != nil {
		return f.resource, nil
	}
	return &backend.CallResourceResponse{Status: 200, Body: []byte(`{}`)}, nil
}

// startFakeShim serves the shim over f, with the app and datasources "tusk"
// (id 1) and "other" (id 2) configured.
func startFakeShim(t *testing.T, f *fakePlugin, staticDir string) *shim {
	t.Helper()
	s := agentSettings("web-1", "http://127.0.0.1:1")
	h, err := newHandler(f, Options{
		App: s,
		Datasources: []Datasource{
			{UID: "tusk", Name: "Tusk", JSONData: s.JSONData, Secure: s.Secure},
			{UID: "other", Name: "Other", JSONData: s.JSONData, Secure: s.Secure},
		},
		StaticDir: staticDir,
		Logf:      t.Logf,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &shim{t: t, url: srv.URL}
}
