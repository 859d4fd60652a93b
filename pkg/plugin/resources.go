package plugin

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/backend/resource/httpadapter"

	"github.com/tusk-php/tusk/pkg/agentapi"
	"github.com/tusk-php/tusk/pkg/fleet"
)

// resources serves the HTTP routes Grafana proxies to the plugin under
// /api/plugins/<id>/resources/. Everything an agent answers is passed on,
// but the tokens never leave the backend.
type resources struct {
	fleet *fleet.Fleet
}

// newResources returns the routes for the app (withProbeControl) or the
// datasource: both list agents and check them; only the app changes what
// agents attach, since the app's pages are where that is confirmed.
func newResources(f *fleet.Fleet, withProbeControl bool) backend.CallResourceHandler {
	r := &resources{fleet: f}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /agents", r.listAgents)
	mux.HandleFunc("GET /agents/{name}/check", r.checkAgent)
	mux.HandleFunc("GET /fleet", r.fleetStatus)
	mux.HandleFunc("GET /options", r.options)
	if withProbeControl {
		mux.HandleFunc("GET /agents/{name}/status", r.agentStatus)
		mux.HandleFunc("GET /agents/{name}/probes/deep", r.listDeepModes)
		mux.HandleFunc("POST /agents/{name}/probes/deep", editorsOnly(r.enableDeepMode))
		mux.HandleFunc("DELETE /agents/{name}/probes/deep/{id}", editorsOnly(r.disableDeepMode))
	}
	return httpadapter.New(mux)
}

// listAgents: GET /agents → the configured agents, without their tokens.
func (r *resources) listAgents(w http.ResponseWriter, _ *http.Request) {
	agents := r.fleet.Agents
	if agents == nil {
		agents = []*fleet.Agent{}
	}
	writeJSON(w, http.StatusOK, agents)
}

// checkAgent: GET /agents/{name}/check → fleet.Check, the "test connection"
// answer. A failed check is still a 200: the check itself worked.
func (r *resources) checkAgent(w http.ResponseWriter, req *http.Request) {
	a, ok := r.agent(w, req)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(req.Context(), r.fleet.Timeout)
	defer cancel()
	writeJSON(w, http.StatusOK, fleet.CheckAgent(ctx, a))
}

// AgentState is one agent in the fleet view.
type AgentState struct {
	Name    string           `json:"name"`
	URL     string           `json:"url"`
	OK      bool             `json:"ok"`
	Error   string           `json:"error,omitempty"`
	Status  *agentapi.Status `json:"status,omitempty"`
	Latency float64          `json:"latencyMs"`
}

// fleetStatus: GET /fleet → every agent's status at once; a failed agent
// is a row with its error, not a failed answer.
func (r *resources) fleetStatus(w http.ResponseWriter, req *http.Request) {
	results := fleet.Each(req.Context(), r.fleet.Agents, r.fleet.Timeout, func(ctx context.Context, a *fleet.Agent) (*agentapi.Status, error) {
		return a.Client.Status(ctx)
	})
	out := struct {
		Agents []AgentState `json:"agents"`
	}{Agents: make([]AgentState, len(results))}
	for i, res := range results {
		s := AgentState{Name: res.Agent.Name, URL: res.Agent.URL, OK: res.Err == nil, Status: res.Value,
			Latency: float64(res.Elapsed.Microseconds()) / 1000}
		if res.Err != nil {
			s.Error = fleet.Explain(res.Agent, res.Err)
		}
		out.Agents[i] = s
	}
	writeJSON(w, http.StatusOK, out)
}

// Options are the values the query editor offers in its selects.
type Options struct {
	Agents   []string `json:"agents"`
	Services []string `json:"services"`
	Pools    []string `json:"pools"`
	// Failed lists agents that did not answer, so the editor can say why a
	// pool may be missing.
	Failed []string `json:"failed,omitempty"`
}

// options: GET /options → agents, services and pools the agents see now.
func (r *resources) options(w http.ResponseWriter, req *http.Request) {
	results := fleet.Each(req.Context(), r.fleet.Agents, r.fleet.Timeout, func(ctx context.Context, a *fleet.Agent) (*agentapi.Status, error) {
		return a.Client.Status(ctx)
	})
	o := Options{Agents: []string{}, Services: []string{}, Pools: []string{}}
	for _, res := range results {
		o.Agents = append(o.Agents, res.Agent.Name)
		if res.Err != nil {
			o.Failed = append(o.Failed, fmt.Sprintf("%s: %s", res.Agent.Name, fleet.Explain(res.Agent, res.Err)))
			continue
		}
		for _, b := range res.Value.Binaries {
			for _, p := range b.Pools {
				o.Pools = appendNew(o.Pools, p.Name)
				o.Services = appendNew(o.Services, p.Service)
			}
		}
	}
	slices.Sort(o.Pools)
	slices.Sort(o.Services)
	writeJSON(w, http.StatusOK, o)
}

func appendNew(list []string, s string) []string {
	if s == "" || slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

// agentStatus: GET /agents/{name}/status → that agent's full status.
func (r *resources) agentStatus(w http.ResponseWriter, req *http.Request) {
	r.proxy(w, req, http.StatusOK, func(ctx context.Context, a *fleet.Agent) (any, error) {
		return a.Client.Status(ctx)
	})
}

// listDeepModes: GET /agents/{name}/probes/deep → {"deepModes": [...]}.
func (r *resources) listDeepModes(w http.ResponseWriter, req *http.Request) {
	r.proxy(w, req, http.StatusOK, func(ctx context.Context, a *fleet.Agent) (any, error) {
		dms, err := a.Client.DeepModes(ctx)
		if dms == nil {
			dms = []agentapi.DeepMode{}
		}
		return agentapi.DeepModesResponse{DeepModes: dms}, err
	})
}

// maxBody bounds what a browser may post to a resource.
const maxBody = 64 << 10

// enableDeepMode: POST /agents/{name}/probes/deep with an
// agentapi.DeepModeRequest → 201 and the grant.
func (r *resources) enableDeepMode(w http.ResponseWriter, req *http.Request) {
	var dm agentapi.DeepModeRequest
	body := req.Body
	if body == nil { // the SDK's adapter makes an empty body a nil one
		body = http.NoBody
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&dm); err != nil {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("deep mode request: %v", err))
		return
	}
	r.proxy(w, req, http.StatusCreated, func(ctx context.Context, a *fleet.Agent) (any, error) {
		return a.Client.EnableDeepMode(ctx, dm)
	})
}

// disableDeepMode: DELETE /agents/{name}/probes/deep/{id} → 204.
func (r *resources) disableDeepMode(w http.ResponseWriter, req *http.Request) {
	id := req.PathValue("id")
	r.proxy(w, req, http.StatusNoContent, func(ctx context.Context, a *fleet.Agent) (any, error) {
		return nil, a.Client.DisableDeepMode(ctx, id)
	})
}

// editorsOnly lets a Grafana Editor or Admin through: deep mode costs the
// PHP application CPU, which a Viewer must not be able to spend. Grafana
// names the signed-in user in every resource call; a call without one did
// not come through Grafana and is refused too.
func editorsOnly(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, req *http.Request) {
		user := backend.PluginConfigFromContext(req.Context()).User
		if user == nil || (user.Role != "Editor" && user.Role != "Admin") {
			role := "no user"
			if user != nil {
				role = fmt.Sprintf("%s is a %s", user.Login, cmp.Or(user.Role, "user without a role"))
			}
			writeError(w, http.StatusForbidden, "changing probes needs the Editor or Admin role in Grafana ("+role+")")
			return
		}
		next(w, req)
	}
}

// agent finds the agent named in the path, or answers 404.
func (r *resources) agent(w http.ResponseWriter, req *http.Request) (*fleet.Agent, bool) {
	name := req.PathValue("name")
	a, ok := r.fleet.Agent(name)
	if !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no agent is called %q in the settings", name))
	}
	return a, ok
}

// proxy calls the agent named in the path and answers with what it
// returned. The agent's 400 and 404 are passed on with its message; any
// other failure is a 502, never a 401, which Grafana would take for the
// user's own session having expired.
func (r *resources) proxy(w http.ResponseWriter, req *http.Request, okStatus int, call func(context.Context, *fleet.Agent) (any, error)) {
	a, ok := r.agent(w, req)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(req.Context(), r.fleet.Timeout)
	defer cancel()
	v, err := call(ctx, a)
	var apiErr *agentapi.APIError
	switch {
	case err == nil && okStatus == http.StatusNoContent:
		w.WriteHeader(okStatus)
	case err == nil:
		writeJSON(w, okStatus, v)
	case errors.As(err, &apiErr) && (apiErr.StatusCode == http.StatusBadRequest || apiErr.StatusCode == http.StatusNotFound):
		writeError(w, apiErr.StatusCode, fmt.Sprintf("agent %s: %s", a.Name, apiErr.Message))
	default:
		writeError(w, http.StatusBadGateway, fmt.Sprintf("agent %s: %s", a.Name, fleet.Explain(a, err)))
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, agentapi.Error{Error: msg})
}
