package fleet

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/tusk-php/tusk/pkg/agentapi"
)

// Agent is one configured agent. Client carries the token: it must not be
// marshalled to the browser; Agent's JSON form leaves it out.
type Agent struct {
	Name      string           `json:"name"`
	URL       string           `json:"url"`
	HasToken  bool             `json:"hasToken"`
	HasCACert bool             `json:"hasCACert"`
	Client    *agentapi.Client `json:"-"`
}

// Fleet is the configured agents.
type Fleet struct {
	Agents  []*Agent
	Timeout time.Duration // per call to one agent
}

// Agent returns the agent called name.
func (f *Fleet) Agent(name string) (*Agent, bool) {
	for _, a := range f.Agents {
		if a.Name == name {
			return a, true
		}
	}
	return nil, false
}

// Select returns the agents a query is for: all of them, or the one named
// only. An unknown name is an error a user can act on.
func (f *Fleet) Select(only string) ([]*Agent, error) {
	if len(f.Agents) == 0 {
		return nil, fmt.Errorf("no Tusk agent is configured: add one in the data source settings")
	}
	if only == "" {
		return f.Agents, nil
	}
	if a, ok := f.Agent(only); ok {
		return []*Agent{a}, nil
	}
	return nil, fmt.Errorf("no agent is called %q (configured: %s)", only, f.names())
}

func (f *Fleet) names() string {
	s := ""
	for i, a := range f.Agents {
		if i > 0 {
			s += ", "
		}
		s += a.Name
	}
	return s
}

// Result is one agent's answer to a fanned-out call.
type Result[T any] struct {
	Agent   *Agent
	Value   T
	Err     error
	Elapsed time.Duration
}

// Each calls call for every agent concurrently, each bounded by timeout,
// and returns the results in the order of agents. It waits for all of them:
// the timeout is what bounds it.
func Each[T any](ctx context.Context, agents []*Agent, timeout time.Duration, call func(context.Context, *Agent) (T, error)) []Result[T] {
	results := make([]Result[T], len(agents))
	var wg sync.WaitGroup
	for i, a := range agents {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			start := time.Now()
			v, err := call(cctx, a)
			if err != nil && cctx.Err() == context.DeadlineExceeded && ctx.Err() == nil {
				err = fmt.Errorf("no answer within %s: %w", timeout, err)
			}
			results[i] = Result[T]{Agent: a, Value: v, Err: err, Elapsed: time.Since(start)}
		}()
	}
	wg.Wait()
	return results
}

// Failures describes the failed results, one "agent NAME: advice" each,
// for frame notices.
func Failures[T any](results []Result[T]) []string {
	var out []string
	for _, r := range results {
		if r.Err != nil {
			out = append(out, fmt.Sprintf("agent %s: %s", r.Agent.Name, Explain(r.Agent, r.Err)))
		}
	}
	return out
}
