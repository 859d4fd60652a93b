package plugin

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/tusk-php/tusk/pkg/fleet"
	"github.com/tusk-php/tusk/pkg/frames"
	"github.com/tusk-php/tusk/pkg/trace"
	"github.com/tusk-php/tusk/pkg/tracebackend"
)

// Where search and trace queries read from (jsonData.traceSource). Flame
// graphs, function searches (which read the request profiles) and RED
// metrics always come from the agents: trace stores keep none of them.
const (
	SourceAgents = "agents"
	SourceJaeger = "jaeger"
	SourceTempo  = "tempo"
)

// Secure keys of the trace store's credentials.
const (
	secureTraceStoreToken    = "traceStore.token"
	secureTraceStorePassword = "traceStore.password"
)

type traceStoreSettings struct {
	TraceSource string `json:"traceSource"`
	TraceStore  struct {
		URL      string `json:"url"`
		User     string `json:"user"`
		TenantID string `json:"tenantId"`
	} `json:"traceStore"`
}

// parseTraceStore returns the trace store the datasource reads, or nil when
// it reads the agents.
func parseTraceStore(jsonData []byte, secure map[string]string, f *fleet.Fleet) (tracebackend.Backend, error) {
	var s traceStoreSettings
	if len(jsonData) > 0 {
		if err := json.Unmarshal(jsonData, &s); err != nil {
			return nil, fmt.Errorf("settings are not valid JSON: %w", err)
		}
	}
	switch s.TraceSource {
	case "", SourceAgents:
		return nil, nil
	case SourceJaeger, SourceTempo:
	default:
		return nil, fmt.Errorf("traceSource %q: want agents, jaeger or tempo", s.TraceSource)
	}
	b, err := tracebackend.New(tracebackend.Kind(s.TraceSource), tracebackend.Options{
		URL:           s.TraceStore.URL,
		BearerToken:   secure[secureTraceStoreToken],
		BasicUser:     s.TraceStore.User,
		BasicPassword: secure[secureTraceStorePassword],
		TenantID:      s.TraceStore.TenantID,
		HTTP:          &http.Client{Timeout: f.Timeout},
	})
	if err != nil {
		return nil, fmt.Errorf("trace store: %w", err)
	}
	return b, nil
}

// searchStore answers a search from the trace store.
func (ds *Datasource) searchStore(ctx context.Context, sq trace.Query) (data.Frames, error) {
	sums, err := ds.store.Search(ctx, sq)
	if err != nil {
		return nil, err
	}
	rows := make([]frames.SearchRow, len(sums))
	for i, s := range sums {
		rows[i] = frames.SearchRow{Summary: s}
	}
	return data.Frames{frames.Search(frames.SortSearchRows(rows, sq.Order, sq.EffectiveLimit()), ds.ref)}, nil
}

// traceFromStore answers a trace query from the trace store.
func (ds *Datasource) traceFromStore(ctx context.Context, id trace.TraceID) (data.Frames, error) {
	t, err := ds.store.Trace(ctx, id)
	if tracebackend.IsNotFound(err) {
		return nil, bad(fmt.Errorf("trace %s is not in the trace store", id))
	}
	if err != nil {
		return nil, err
	}
	f, err := frames.Trace(t, frames.InstrumentationLibrary{Name: "tusk"})
	if err != nil {
		return nil, err
	}
	return data.Frames{f}, nil
}

// checkStore adds the trace store's state to a health result.
func (ds *Datasource) checkStore(ctx context.Context, res *backend.CheckHealthResult) {
	if ds.store == nil {
		return
	}
	cctx, cancel := context.WithTimeout(ctx, ds.fleet.Timeout)
	defer cancel()
	msg, err := ds.store.Check(cctx)
	if err != nil {
		res.Status = backend.HealthStatusError
		res.Message = "trace store: FAILED, " + err.Error() + "\n" + res.Message
		return
	}
	res.Message = "trace store: OK, " + msg + "\n" + res.Message
	if len(ds.fleet.Agents) == 0 { // search and trace work; flame graphs and metrics need agents
		res.Status = backend.HealthStatusOk
		res.Message += " (flame graphs and metrics need agents)"
	}
}
