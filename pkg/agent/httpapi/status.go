package httpapi

import (
	"net/http"

	"github.com/tusk-php/tusk/pkg/agentapi"
)

// health answers without the token and without asking the backend: it says
// the agent's HTTP side is alive, for liveness probes.
func (s *server) health(w http.ResponseWriter, r *http.Request) {
	s.writeJSON(w, r, http.StatusOK, agentapi.HealthResponse{Status: "ok"})
}

func (s *server) serveMetrics(w http.ResponseWriter, r *http.Request) {
	if s.metrics == nil {
		s.writeError(w, r, http.StatusNotFound, "metrics are not enabled on this agent")
		return
	}
	s.metrics.ServeHTTP(w, r)
}

func (s *server) status(w http.ResponseWriter, r *http.Request) {
	st, err := s.backend.Status(r.Context())
	if err != nil {
		s.backendError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, st)
}
