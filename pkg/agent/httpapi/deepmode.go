package httpapi

import (
	"errors"
	"net/http"

	"github.com/tusk-php/tusk/pkg/agentapi"
)

func (s *server) listDeepModes(w http.ResponseWriter, r *http.Request) {
	modes, err := s.backend.DeepModes(r.Context())
	if err != nil {
		s.backendError(w, r, err)
		return
	}
	if modes == nil {
		modes = []agentapi.DeepMode{}
	}
	s.writeJSON(w, r, http.StatusOK, agentapi.DeepModesResponse{DeepModes: modes})
}

// enableDeepMode only decodes; checking the request (pool or PIDs, limits)
// is the backend's, which knows the pools.
func (s *server) enableDeepMode(w http.ResponseWriter, r *http.Request) {
	var req agentapi.DeepModeRequest
	if !s.decodeBody(w, r, &req) {
		return
	}
	dm, err := s.backend.EnableDeepMode(r.Context(), req)
	if err == nil && dm == nil {
		err = errors.New("backend granted deep mode but returned nothing")
	}
	if err != nil {
		s.backendError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusCreated, dm)
}

func (s *server) disableDeepMode(w http.ResponseWriter, r *http.Request) {
	if err := s.backend.DisableDeepMode(r.Context(), r.PathValue("id")); err != nil {
		s.backendError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
