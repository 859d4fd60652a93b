package httpapi

import (
	"context"
	"math"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/tusk-php/tusk/pkg/agentapi"
)

// nanStatus reports an event rate computed as 0/0, which JSON cannot carry.
type nanStatus struct{ *fakeBackend }

func (nanStatus) Status(context.Context) (*agentapi.Status, error) {
	return &agentapi.Status{Events: agentapi.Events{PerSecond: math.NaN()}}, nil
}

func TestUnencodableAnswerIsA500(t *testing.T) {
	h := New(Options{Backend: nanStatus{newFakeBackend()}, Token: testToken})
	req := httptest.NewRequest("GET", "/api/v1/status", nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500: %s", rec.Code, rec.Body)
	}
	if msg := errorBody(t, rec); msg != "encoding the answer failed" {
		t.Errorf("message %q", msg)
	}
}

func TestNewWithoutBackendPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("New(Options{}) did not panic")
		}
	}()
	New(Options{Token: testToken})
}
