package trace

import (
	"fmt"
	"time"
)

// Order is how search results are sorted.
type Order string

const (
	OrderNewest  Order = "newest"  // start time, newest first (default)
	OrderSlowest Order = "slowest" // duration, longest first
)

// DefaultLimit and MaxLimit bound how many summaries a search returns.
const (
	DefaultLimit = 100
	MaxLimit     = 5000
)

// Query selects traces. Zero fields do not filter.
type Query struct {
	Start       time.Time     `json:"start,omitzero"`
	End         time.Time     `json:"end,omitzero"`
	MinDuration time.Duration `json:"minDuration,omitempty"`
	MaxDuration time.Duration `json:"maxDuration,omitempty"`
	Service     string        `json:"service,omitempty"`
	Pool        string        `json:"pool,omitempty"`
	Method      string        `json:"method,omitempty"`
	PathPrefix  string        `json:"pathPrefix,omitempty"`
	StatusCode  int           `json:"statusCode,omitempty"`
	// ErrorsOnly keeps traces with Error set.
	ErrorsOnly bool  `json:"errorsOnly,omitempty"`
	Limit      int   `json:"limit,omitempty"`
	Order      Order `json:"order,omitempty"`
}

// Validate reports the first thing wrong with q, in words a user can act on.
func (q *Query) Validate() error {
	switch {
	case !q.Start.IsZero() && !q.End.IsZero() && q.End.Before(q.Start):
		return fmt.Errorf("end (%s) is before start (%s)", q.End.Format(time.RFC3339), q.Start.Format(time.RFC3339))
	case q.MinDuration < 0 || q.MaxDuration < 0:
		return fmt.Errorf("durations must not be negative")
	case q.MaxDuration > 0 && q.MaxDuration < q.MinDuration:
		return fmt.Errorf("maxDuration (%s) is below minDuration (%s)", q.MaxDuration, q.MinDuration)
	case q.StatusCode != 0 && (q.StatusCode < 100 || q.StatusCode > 599):
		return fmt.Errorf("status %d is not an HTTP status code", q.StatusCode)
	case q.Limit < 0 || q.Limit > MaxLimit:
		return fmt.Errorf("limit %d is out of range 1..%d", q.Limit, MaxLimit)
	case q.Order != "" && q.Order != OrderNewest && q.Order != OrderSlowest:
		return fmt.Errorf("order %q: want %q or %q", q.Order, OrderNewest, OrderSlowest)
	}
	return nil
}

// EffectiveLimit is Limit, or DefaultLimit when unset.
func (q *Query) EffectiveLimit() int {
	if q.Limit == 0 {
		return DefaultLimit
	}
	return q.Limit
}

// Matches applies the query to one summary; the store does the same in SQL,
// and tests use this as the reference.
func (q *Query) Matches(s *Summary) bool {
	start := s.Start()
	d := s.Duration()
	switch {
	case !q.Start.IsZero() && start.Before(q.Start):
	case !q.End.IsZero() && !start.Before(q.End):
	case q.MinDuration > 0 && d < q.MinDuration:
	case q.MaxDuration > 0 && d > q.MaxDuration:
	case q.Service != "" && s.Service != q.Service:
	case q.Pool != "" && s.Pool != q.Pool:
	case q.Method != "" && s.Method != q.Method:
	case q.PathPrefix != "" && (len(s.Path) < len(q.PathPrefix) || s.Path[:len(q.PathPrefix)] != q.PathPrefix):
	case q.StatusCode != 0 && s.StatusCode != q.StatusCode:
	case q.ErrorsOnly && !s.Error:
	default:
		return true
	}
	return false
}
