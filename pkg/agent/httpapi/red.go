package httpapi

import (
	"errors"
	"net/http"
	"time"

	"github.com/tusk-php/tusk/pkg/agentapi"
)

func (s *server) redMetrics(w http.ResponseWriter, r *http.Request) {
	params, ok := s.profileParams(w, r) // the same strict parsing
	if !ok {
		return
	}
	q, err := agentapi.DecodeREDParams(params)
	if err != nil {
		s.writeError(w, r, http.StatusBadRequest, err.Error())
		return
	}
	// Only now are From and To both known: a "from" long ago with "to"
	// left to now may still make too many steps.
	q = q.WithDefaults(time.Now())
	if err := q.Validate(); err != nil {
		s.writeError(w, r, http.StatusBadRequest, err.Error())
		return
	}
	resp, err := s.backend.RED(r.Context(), q)
	if err == nil && resp == nil {
		err = errors.New("RED metrics: the backend returned no answer")
	}
	if err != nil {
		s.backendError(w, r, err)
		return
	}
	if resp.Series == nil {
		resp.Series = []agentapi.REDSeries{} // [] rather than null for the plugin
	}
	s.writeJSON(w, r, http.StatusOK, resp)
}
