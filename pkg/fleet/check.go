package fleet

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/tusk-php/tusk/pkg/agentapi"
)

// Check is the outcome of a connection test to one agent: what the "test
// connection" button and CheckHealth report.
type Check struct {
	Name      string  `json:"name"`
	OK        bool    `json:"ok"`
	Message   string  `json:"message"`
	Version   string  `json:"version,omitempty"`
	Host      string  `json:"host,omitempty"`
	LatencyMs float64 `json:"latencyMs,omitempty"`
	// Status is the agent's full status when it answered.
	Status *agentapi.Status `json:"-"`
}

// CheckAgent asks an agent for its status, which needs the token, so a
// wrong token fails here as it would on every query.
func CheckAgent(ctx context.Context, a *Agent) Check {
	start := time.Now()
	st, err := a.Client.Status(ctx)
	c := Check{Name: a.Name, LatencyMs: float64(time.Since(start).Microseconds()) / 1000}
	if err != nil {
		c.Message = Explain(a, err)
		return c
	}
	c.OK, c.Status, c.Version, c.Host = true, st, st.Version, st.Host
	c.Message = describeStatus(st)
	return c
}

// CheckAll checks every agent at once.
func (f *Fleet) CheckAll(ctx context.Context) []Check {
	results := Each(ctx, f.Agents, f.Timeout, func(ctx context.Context, a *Agent) (Check, error) {
		return CheckAgent(ctx, a), nil
	})
	out := make([]Check, len(results))
	for i, r := range results {
		out[i] = r.Value
	}
	return out
}

// Explain turns a call's error into advice: a wrong token and a dead agent
// need different fixes.
func Explain(a *Agent, err error) string {
	var apiErr *agentapi.APIError
	switch {
	case errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusUnauthorized:
		if !a.HasToken {
			return fmt.Sprintf("the agent at %s wants a token and none is set: enter the agent's API token", a.URL)
		}
		return fmt.Sprintf("the agent at %s refused the token: enter the token from the agent's config (api.token)", a.URL)
	case errors.Is(err, agentapi.ErrUnreachable):
		return fmt.Sprintf("no connection to %s: is tusk-agent running and listening there? (%v)", a.URL, err)
	}
	return err.Error()
}

// describeStatus sums up what an agent traces, for a health message.
func describeStatus(st *agentapi.Status) string {
	pools, workers := 0, 0
	var modes []string
	for _, b := range st.Binaries {
		pools += len(b.Pools)
		for _, p := range b.Pools {
			workers += len(p.WorkerPIDs)
		}
		modes = append(modes, fmt.Sprintf("PHP %s %s", b.Version, b.Mode))
	}
	msg := fmt.Sprintf("agent %s on %s: %d PHP binaries, %d pools, %d workers", st.Version, st.Host, len(st.Binaries), pools, workers)
	if len(modes) > 0 {
		msg += " (" + strings.Join(modes, ", ") + ")"
	}
	if st.Events.Lost > 0 {
		msg += fmt.Sprintf("; %d events lost", st.Events.Lost)
	}
	if st.Store.LastError != "" {
		msg += "; store error: " + st.Store.LastError
	}
	return msg
}

// Summarize makes one health message of many checks and says whether all
// passed.
func Summarize(checks []Check) (string, bool) {
	if len(checks) == 0 {
		return "no Tusk agent is configured: add one (name, URL, token) in the settings", false
	}
	ok := 0
	lines := make([]string, len(checks))
	for i, c := range checks {
		state := "FAILED"
		if c.OK {
			ok++
			state = "OK"
		}
		lines[i] = fmt.Sprintf("%s: %s, %s", c.Name, state, c.Message)
	}
	head := fmt.Sprintf("%d of %d agents answered", ok, len(checks))
	return head + "\n" + strings.Join(lines, "\n"), ok == len(checks)
}
