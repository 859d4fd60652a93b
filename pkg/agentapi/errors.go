package agentapi

import (
	"errors"
	"fmt"
	"net/http"
)

// Sentinels shared by both ends of the API. The agent's backend wraps them
// (fmt.Errorf("deep mode %q: %w", id, ErrNotFound)) and the server turns them
// into 404 and 400; the client's *APIError matches them again, so callers on
// either side test errors.Is(err, ErrNotFound) without knowing about HTTP.
var (
	ErrNotFound   = errors.New("not found")
	ErrBadRequest = errors.New("bad request")
	// ErrUnreachable is wrapped by the client when no connection to the agent
	// could be made at all (refused, no route, unknown host, dial timeout).
	ErrUnreachable = errors.New("agent is not reachable")
)

// APIError is a non-2xx answer from the agent. Message is the server's
// agentapi.Error text, or the start of the body when it was not ours (a
// proxy's error page).
type APIError struct {
	StatusCode int
	Message    string
}

func (e *APIError) Error() string {
	text := http.StatusText(e.StatusCode)
	if e.Message == "" {
		return fmt.Sprintf("agent answered %d %s", e.StatusCode, text)
	}
	return fmt.Sprintf("agent answered %d %s: %s", e.StatusCode, text, e.Message)
}

// Is lets errors.Is(err, ErrNotFound) and errors.Is(err, ErrBadRequest) work
// on client errors just as they do on the backend's.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	case ErrBadRequest:
		return e.StatusCode == http.StatusBadRequest
	}
	return false
}

// IsNotFound tells whether err means the thing asked for does not exist,
// whether err came from the client (404) or from a backend.
func IsNotFound(err error) bool { return errors.Is(err, ErrNotFound) }
