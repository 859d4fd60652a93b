package agentapi

import (
	"errors"
	"fmt"
	"testing"
)

func TestAPIErrorText(t *testing.T) {
	for _, tc := range []struct {
		err  *APIError
		want string
	}{
		{&APIError{StatusCode: 404, Message: "trace x: not found"}, "agent answered 404 Not Found: trace x: not found"},
		{&APIError{StatusCode: 503}, "agent answered 503 Service Unavailable"},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("Error() = %q, want %q", got, tc.want)
		}
	}
}

// The sentinels match the same way on both ends: a backend's wrapped error
// and the client's *APIError.
func TestSentinelsMatchBothEnds(t *testing.T) {
	for _, tc := range []struct {
		err                  error
		notFound, badRequest bool
	}{
		{fmt.Errorf("deep mode %q: %w", "dm-1", ErrNotFound), true, false},
		{fmt.Errorf("%w: pool and pids both set", ErrBadRequest), false, true},
		{&APIError{StatusCode: 404}, true, false},
		{fmt.Errorf("fetching: %w", &APIError{StatusCode: 400}), false, true},
		{&APIError{StatusCode: 500}, false, false},
		{&APIError{StatusCode: 401}, false, false},
		{errors.New("not found"), false, false}, // same text is not the sentinel
	} {
		if got := IsNotFound(tc.err); got != tc.notFound {
			t.Errorf("IsNotFound(%v) = %v", tc.err, got)
		}
		if got := errors.Is(tc.err, ErrBadRequest); got != tc.badRequest {
			t.Errorf("errors.Is(%v, ErrBadRequest) = %v", tc.err, got)
		}
	}
}
