package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/tusk-php/tusk/pkg/agentapi"
)

// writeJSON encodes before writing so that an encoding failure can still be
// a clean 500 rather than a 200 with half a body.
func (s *server) writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		s.log.ErrorContext(r.Context(), "encoding API answer", "path", r.URL.Path, "err", err)
		status = http.StatusInternalServerError
		b, _ = json.Marshal(agentapi.Error{Error: "encoding the answer failed"})
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

func (s *server) writeError(w http.ResponseWriter, r *http.Request, status int, msg string) {
	s.writeJSON(w, r, status, agentapi.Error{Error: msg})
}

// backendError answers a Backend failure: the sentinels pick 404 or 400,
// anything else is the agent's fault and is logged.
func (s *server) backendError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, agentapi.ErrNotFound):
		s.writeError(w, r, http.StatusNotFound, err.Error())
	case errors.Is(err, agentapi.ErrBadRequest):
		s.writeError(w, r, http.StatusBadRequest, err.Error())
	case r.Context().Err() != nil:
		// The caller went away; nobody reads this answer.
		s.log.DebugContext(r.Context(), "API request cancelled", "path", r.URL.Path, "err", err)
		s.writeError(w, r, http.StatusServiceUnavailable, err.Error())
	default:
		s.log.ErrorContext(r.Context(), "API request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		s.writeError(w, r, http.StatusInternalServerError, err.Error())
	}
}

// decodeBody reads one JSON value into dst, refusing unknown fields (a
// misspelt "treshold" must not silently become the default) and trailing
// data. It answers the request itself and returns false on failure.
func (s *server) decodeBody(w http.ResponseWriter, r *http.Request, dst any) bool {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(dst)
	if err == nil && dec.Decode(new(json.RawMessage)) != io.EOF {
		err = errors.New("more than one JSON value")
	}
	var tooLarge *http.MaxBytesError
	switch {
	case err == nil:
		return true
	case errors.As(err, &tooLarge):
		s.writeError(w, r, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body is larger than %d bytes", tooLarge.Limit))
	case errors.Is(err, io.EOF):
		s.writeError(w, r, http.StatusBadRequest, "request body: want a JSON object, got nothing")
	default:
		s.writeError(w, r, http.StatusBadRequest, "request body: "+err.Error())
	}
	return false
}
