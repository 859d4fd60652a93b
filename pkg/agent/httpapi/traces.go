package httpapi

import (
	"fmt"
	"net/http"
	"net/url"

	"github.com/tusk-php/tusk/pkg/agentapi"
	"github.com/tusk-php/tusk/pkg/trace"
)

func (s *server) search(w http.ResponseWriter, r *http.Request) {
	// ParseQuery rather than r.URL.Query(): the latter drops malformed
	// pairs, and a dropped filter would widen the search unnoticed.
	params, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		s.writeError(w, r, http.StatusBadRequest, "query string: "+err.Error())
		return
	}
	q, err := agentapi.DecodeQuery(params)
	if err != nil {
		s.writeError(w, r, http.StatusBadRequest, err.Error())
		return
	}
	found, err := s.backend.Search(r.Context(), q)
	if err != nil {
		s.backendError(w, r, err)
		return
	}
	if found == nil {
		found = []trace.Summary{} // [] rather than null for the plugin
	}
	s.writeJSON(w, r, http.StatusOK, agentapi.SearchResponse{Traces: found})
}

func (s *server) getTrace(w http.ResponseWriter, r *http.Request) {
	id, err := trace.ParseTraceID(r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, http.StatusBadRequest, err.Error())
		return
	}
	t, err := s.backend.Trace(r.Context(), id)
	if err == nil && t == nil {
		err = fmt.Errorf("trace %s: %w", id, agentapi.ErrNotFound)
	}
	if err != nil {
		s.backendError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, t)
}
