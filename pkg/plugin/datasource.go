package plugin

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/backend/instancemgmt"
	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/tusk-php/tusk/pkg/agentapi"
	"github.com/tusk-php/tusk/pkg/fleet"
	"github.com/tusk-php/tusk/pkg/frames"
	"github.com/tusk-php/tusk/pkg/tracebackend"
)

// Datasource is the nested tracing datasource: every query goes to all its
// agents at once (or the one the query names), and their answers are
// combined into one frame.
type Datasource struct {
	fleet *fleet.Fleet
	ref   frames.DatasourceRef
	// handlers has one entry per query type.
	handlers  map[string]queryHandler
	resources backend.CallResourceHandler
	versions  sync.Map // agent name → agent version, for the trace view's library version
	// store, when set, answers search and trace queries instead of the
	// agents (jsonData.traceSource jaeger or tempo).
	store tracebackend.Backend
}

// queryHandler answers one query; the error, if any, becomes that query's
// error response and the other queries of the request are still answered.
type queryHandler func(ctx context.Context, q Query, dq backend.DataQuery) (data.Frames, error)

var (
	_ backend.QueryDataHandler      = (*Datasource)(nil)
	_ backend.CheckHealthHandler    = (*Datasource)(nil)
	_ backend.CallResourceHandler   = (*Datasource)(nil)
	_ instancemgmt.InstanceDisposer = (*Datasource)(nil)
)

// NewDatasource makes the instance for one configured datasource.
func NewDatasource(_ context.Context, s backend.DataSourceInstanceSettings) (instancemgmt.Instance, error) {
	f, err := fleet.Parse(s.JSONData, s.DecryptedSecureJSONData)
	if err != nil {
		return nil, fmt.Errorf("datasource %q: %w", s.Name, err)
	}
	store, err := parseTraceStore(s.JSONData, s.DecryptedSecureJSONData, f)
	if err != nil {
		return nil, fmt.Errorf("datasource %q: %w", s.Name, err)
	}
	ds := &Datasource{fleet: f, ref: frames.DatasourceRef{UID: s.UID, Name: s.Name}, store: store}
	ds.handlers = map[string]queryHandler{
		QueryTypeSearch:     ds.search,
		QueryTypeTrace:      ds.trace,
		QueryTypeFlamegraph: ds.flamegraph,
		QueryTypeMetrics:    ds.metrics,
	}
	ds.resources = newResources(f, false)
	return ds, nil
}

// Dispose is called when the settings change and a new instance replaces
// this one; agent connections are plain HTTP and need no cleanup.
func (ds *Datasource) Dispose() {}

// QueryData answers each query concurrently; each gets its own frames or
// error.
func (ds *Datasource) QueryData(ctx context.Context, req *backend.QueryDataRequest) (*backend.QueryDataResponse, error) {
	resp := backend.NewQueryDataResponse()
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, dq := range req.Queries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dr := ds.query(ctx, dq)
			mu.Lock()
			resp.Responses[dq.RefID] = dr
			mu.Unlock()
		}()
	}
	wg.Wait()
	return resp, nil
}

func (ds *Datasource) query(ctx context.Context, dq backend.DataQuery) backend.DataResponse {
	q, err := parseQuery(dq)
	if err != nil {
		return badQuery(err)
	}
	handle, ok := ds.handlers[q.QueryType]
	if !ok {
		return badQuery(fmt.Errorf("unknown query type %q: want search, trace, flamegraph or metrics", q.QueryType))
	}
	fs, err := handle(ctx, q, dq)
	if err != nil {
		var bad *badQueryError
		if errors.As(err, &bad) {
			return badQuery(bad.err)
		}
		return backend.ErrDataResponseWithSource(backend.StatusBadGateway, backend.ErrorSourceDownstream, err.Error())
	}
	for _, f := range fs {
		f.RefID = dq.RefID
	}
	return backend.DataResponse{Frames: fs}
}

// badQueryError marks an error in the query itself (400, fix the query)
// rather than in the agents (502, fix the agents).
type badQueryError struct{ err error }

func (e *badQueryError) Error() string { return e.err.Error() }

func bad(err error) error {
	if err == nil {
		return nil
	}
	return &badQueryError{err}
}

func badQuery(err error) backend.DataResponse {
	return backend.ErrDataResponseWithSource(backend.StatusBadRequest, backend.ErrorSourceDownstream, err.Error())
}

// agentsFor selects the agents a query goes to.
func (ds *Datasource) agentsFor(q Query) ([]*fleet.Agent, error) {
	agents, err := ds.fleet.Select(q.Agent)
	return agents, bad(err)
}

// partial turns a fan-out's failures into an error when no agent answered,
// and into notices for the first frame when some did.
func partial[T any](results []fleet.Result[T]) (notices []data.Notice, err error) {
	failures := fleet.Failures(results)
	if len(failures) == len(results) && len(results) > 0 {
		return nil, explainAll(results)
	}
	for _, f := range failures {
		notices = append(notices, data.Notice{Severity: data.NoticeSeverityWarning, Text: f + " (results are from the other agents)"})
	}
	return notices, nil
}

// explainAll is the error when every agent failed, with advice per agent.
func explainAll[T any](results []fleet.Result[T]) error {
	msgs := make([]string, len(results))
	for i, r := range results {
		msgs[i] = fmt.Sprintf("%s: %s", r.Agent.Name, fleet.Explain(r.Agent, r.Err))
	}
	if len(msgs) == 1 {
		return errors.New(msgs[0])
	}
	return fmt.Errorf("no agent answered: %s", strings.Join(msgs, "; "))
}

func withNotices(f *data.Frame, notices []data.Notice) *data.Frame {
	if len(notices) > 0 {
		f.AppendNotices(notices...)
	}
	return f
}

// CheckHealth reaches every agent with its token and reports each one.
func (ds *Datasource) CheckHealth(ctx context.Context, _ *backend.CheckHealthRequest) (*backend.CheckHealthResult, error) {
	res := checkFleet(ctx, ds.fleet, &ds.versions)
	ds.checkStore(ctx, res)
	return res, nil
}

// CallResource serves what the query editor lists (agents, pools).
func (ds *Datasource) CallResource(ctx context.Context, req *backend.CallResourceRequest, sender backend.CallResourceResponseSender) error {
	return ds.resources.CallResource(ctx, req, sender)
}

// checkFleet is the health check of the app and the datasource alike.
func checkFleet(ctx context.Context, f *fleet.Fleet, versions *sync.Map) *backend.CheckHealthResult {
	checks := f.CheckAll(ctx)
	for _, c := range checks {
		if c.OK {
			versions.Store(c.Name, c.Version)
		}
	}
	msg, ok := fleet.Summarize(checks)
	status := backend.HealthStatusOk
	if !ok {
		status = backend.HealthStatusError
	}
	return &backend.CheckHealthResult{Status: status, Message: msg}
}

// agentVersion is the agent's version once a health check or a status call
// has seen it, else "".
func (ds *Datasource) agentVersion(name string) string {
	if v, ok := ds.versions.Load(name); ok {
		return v.(string)
	}
	return ""
}

// statusOf asks an agent for its status and remembers its version.
func (ds *Datasource) statusOf(ctx context.Context, a *fleet.Agent) (*agentapi.Status, error) {
	st, err := a.Client.Status(ctx)
	if err == nil {
		ds.versions.Store(a.Name, st.Version)
	}
	return st, err
}
