package httpapi

import (
	"fmt"
	"net/http"
)

// withJSONFallback keeps ServeMux's routing but answers its own 404 and 405
// as agentapi.Error JSON. Requests that match no route still need the token,
// except on public paths (POST /healthz is a plain 405).
func (s *server) withJSONFallback(mux *http.ServeMux, public map[string]bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := mux.Handler(r); pattern != "" {
			mux.ServeHTTP(w, r)
			return
		}
		fallback := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			iw := &interceptErrors{ResponseWriter: w}
			mux.ServeHTTP(iw, r)
			switch iw.status {
			case http.StatusNotFound:
				s.writeError(w, r, iw.status, fmt.Sprintf("no such API path: %s", r.URL.Path))
			case http.StatusMethodNotAllowed:
				s.writeError(w, r, iw.status, fmt.Sprintf("method %s is not allowed on %s; allowed: %s", r.Method, r.URL.Path, w.Header().Get("Allow")))
			}
		})
		if public[r.URL.Path] {
			fallback.ServeHTTP(w, r)
		} else {
			s.requireToken(fallback).ServeHTTP(w, r)
		}
	})
}

// interceptErrors swallows ServeMux's plain-text 404 and 405 (keeping the
// Allow header) and lets anything else, such as its path-cleaning
// redirects, through.
type interceptErrors struct {
	http.ResponseWriter
	status int
}

func (iw *interceptErrors) WriteHeader(code int) {
	if code == http.StatusNotFound || code == http.StatusMethodNotAllowed {
		iw.status = code
		h := iw.Header()
		for _, k := range []string{"Content-Type", "X-Content-Type-Options", "Content-Length"} {
			h.Del(k)
		}
		return
	}
	iw.ResponseWriter.WriteHeader(code)
}

func (iw *interceptErrors) Write(b []byte) (int, error) {
	if iw.status != 0 {
		return len(b), nil
	}
	return iw.ResponseWriter.Write(b)
}
