package httpapi

import (
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"
)

// limitBody caps every request body; handlers see *http.MaxBytesError past
// the limit.
func limitBody(next http.Handler, limit int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		next.ServeHTTP(w, r)
	})
}

// observe logs every request at debug level and turns a handler panic into
// a 500, so one bad trace cannot take the agent (and its probes) down.
func (s *server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &recorder{ResponseWriter: w}
		defer func() {
			p := recover()
			if p != nil && p != http.ErrAbortHandler {
				s.log.LogAttrs(r.Context(), slog.LevelError, "panic in API handler", append(requestAttrs(r),
					slog.String("panic", fmt.Sprint(p)),
					slog.String("stack", string(debug.Stack())))...)
				if rec.status == 0 {
					s.writeError(rec, r, http.StatusInternalServerError, "internal error in the agent; see its log")
					p = nil
				}
			}
			status := rec.status
			if status == 0 { // nothing written: net/http sends 200
				status = http.StatusOK
			}
			s.log.LogAttrs(r.Context(), slog.LevelDebug, "API request", append(requestAttrs(r),
				slog.Int("status", status),
				slog.Duration("duration", time.Since(start)),
				slog.Int64("bytes", rec.bytes))...)
			if p != nil {
				// Half an answer is out: abort the connection so the client
				// sees a failure, not a truncated body that looks complete.
				panic(http.ErrAbortHandler)
			}
		}()
		next.ServeHTTP(rec, r)
	})
}

func requestAttrs(r *http.Request) []slog.Attr {
	// The path only: the query is not needed to follow a request, and the
	// token is never logged because headers are not.
	return []slog.Attr{slog.String("method", r.Method), slog.String("path", r.URL.Path)}
}

// recorder remembers the status and size of an answer for the log line.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (rec *recorder) WriteHeader(code int) {
	if rec.status == 0 {
		rec.status = code
	}
	rec.ResponseWriter.WriteHeader(code)
}

func (rec *recorder) Write(b []byte) (int, error) {
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	n, err := rec.ResponseWriter.Write(b)
	rec.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach Flush and deadlines, which a
// streaming metrics handler may use.
func (rec *recorder) Unwrap() http.ResponseWriter { return rec.ResponseWriter }
