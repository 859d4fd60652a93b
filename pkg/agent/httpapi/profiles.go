package httpapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/tusk-php/tusk/pkg/agentapi"
	"github.com/tusk-php/tusk/pkg/profile"
	"github.com/tusk-php/tusk/pkg/trace"
)

// ProfileBackend serves the continuous-profile routes. The agent provides
// it through Options.Profiles, or by having its Backend implement it too;
// without one those routes answer 404.
type ProfileBackend interface {
	// Profile returns the samples matching q merged into one profile: an
	// empty profile, not an error, when nothing matches. q comes with From
	// and To set (defaults applied) unless TraceID is set.
	Profile(ctx context.Context, q agentapi.ProfileQuery) (*profile.Profile, error)
	// FunctionTraces lists the requests whose samples contain
	// q.Function, hottest first; q comes valid, with the range's defaults
	// applied. An empty answer has no traces, not a nil response.
	FunctionTraces(ctx context.Context, q agentapi.FunctionTracesQuery) (*agentapi.FunctionTracesResponse, error)
}

// profilesDisabled is the 404 message when the agent has no ProfileBackend.
const profilesDisabled = "continuous profiling is not enabled on this agent"

// profileParams parses the query string strictly (see search).
func (s *server) profileParams(w http.ResponseWriter, r *http.Request) (url.Values, bool) {
	params, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		s.writeError(w, r, http.StatusBadRequest, "query string: "+err.Error())
		return nil, false
	}
	return params, true
}

// fetchProfile asks the backend, answering the request itself on failure.
func (s *server) fetchProfile(w http.ResponseWriter, r *http.Request, q agentapi.ProfileQuery) (*profile.Profile, bool) {
	if s.profiles == nil {
		s.writeError(w, r, http.StatusNotFound, profilesDisabled)
		return nil, false
	}
	p, err := s.profiles.Profile(r.Context(), q)
	if err != nil {
		s.backendError(w, r, err)
		return nil, false
	}
	if p == nil {
		p = profile.NewProfile(0)
	}
	return p, true
}

// withDefaults fills in the time range of a range query.
func withDefaults(q agentapi.ProfileQuery) agentapi.ProfileQuery {
	if !q.TraceID.IsZero() {
		return q
	}
	return q.WithDefaults(time.Now())
}

func (s *server) profileFlamegraph(w http.ResponseWriter, r *http.Request) {
	params, ok := s.profileParams(w, r)
	if !ok {
		return
	}
	q, maxNodes, err := agentapi.DecodeFlamegraphParams(params)
	if err != nil {
		s.writeError(w, r, http.StatusBadRequest, err.Error())
		return
	}
	p, ok := s.fetchProfile(w, r, withDefaults(q))
	if !ok {
		return
	}
	s.writeJSON(w, r, http.StatusOK, profile.Flamegraph(p, maxNodes))
}

func (s *server) profileTop(w http.ResponseWriter, r *http.Request) {
	params, ok := s.profileParams(w, r)
	if !ok {
		return
	}
	q, limit, err := agentapi.DecodeTopParams(params)
	if err != nil {
		s.writeError(w, r, http.StatusBadRequest, err.Error())
		return
	}
	p, ok := s.fetchProfile(w, r, withDefaults(q))
	if !ok {
		return
	}
	s.writeJSON(w, r, http.StatusOK, profile.TopFunctions(p, limit))
}

func (s *server) profilePprof(w http.ResponseWriter, r *http.Request) {
	params, ok := s.profileParams(w, r)
	if !ok {
		return
	}
	q, err := agentapi.DecodePprofParams(params)
	if err != nil {
		s.writeError(w, r, http.StatusBadRequest, err.Error())
		return
	}
	q = withDefaults(q)
	p, ok := s.fetchProfile(w, r, q)
	if !ok {
		return
	}
	// Encoded whole before anything is sent, so a failure is still a clean 500.
	var buf bytes.Buffer
	if err := profile.WritePprof(&buf, p, q.From, q.To.Sub(q.From)); err != nil {
		s.backendError(w, r, fmt.Errorf("encoding the pprof profile: %w", err))
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Disposition", `attachment; filename="php.pb.gz"`)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
}

func (s *server) traceProfile(w http.ResponseWriter, r *http.Request) {
	id, err := trace.ParseTraceID(r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, http.StatusBadRequest, err.Error())
		return
	}
	params, ok := s.profileParams(w, r)
	if !ok {
		return
	}
	maxNodes, err := agentapi.DecodeTraceProfileParams(params)
	if err != nil {
		s.writeError(w, r, http.StatusBadRequest, err.Error())
		return
	}
	p, ok := s.fetchProfile(w, r, agentapi.ProfileQuery{TraceID: id})
	if !ok {
		return
	}
	if p.Empty() {
		s.backendError(w, r, fmt.Errorf("profile of trace %s: %w (no stack samples were taken while it ran)", id, agentapi.ErrNotFound))
		return
	}
	s.writeJSON(w, r, http.StatusOK, profile.Flamegraph(p, maxNodes))
}

func (s *server) profileTraces(w http.ResponseWriter, r *http.Request) {
	params, ok := s.profileParams(w, r)
	if !ok {
		return
	}
	q, err := agentapi.DecodeFunctionTracesParams(params)
	if err != nil {
		s.writeError(w, r, http.StatusBadRequest, err.Error())
		return
	}
	if s.profiles == nil {
		s.writeError(w, r, http.StatusNotFound, profilesDisabled)
		return
	}
	// Only now are both ends known: a "from" after now with "to" left out.
	q = q.WithDefaults(time.Now())
	if err := q.Validate(); err != nil {
		s.writeError(w, r, http.StatusBadRequest, err.Error())
		return
	}
	resp, err := s.profiles.FunctionTraces(r.Context(), q)
	if err == nil && resp == nil {
		err = errors.New("function traces: the backend returned no answer")
	}
	if err != nil {
		s.backendError(w, r, err)
		return
	}
	if resp.Traces == nil {
		resp.Traces = []agentapi.FunctionTrace{} // [] rather than null for the plugin
	}
	s.writeJSON(w, r, http.StatusOK, resp)
}
