package stack

import (
	"context"
	"fmt"
	"time"
)

// readiness describes one bounded wait: what we wait for, how to check it, and what can end it early.
type readiness struct {
	What    string        // "php-fpm pool fixture: 2 workers and 127.0.0.1:41234 accepting"
	Timeout time.Duration // on top of the context's own deadline
	// Check reports whether the service is ready, and otherwise what it saw (kept for the error).
	Check func(ctx context.Context) (ready bool, seen string)
	// Proc, if set, ends the wait when the service exits, and its logs are quoted on failure.
	Proc *process
}

const pollInterval = 25 * time.Millisecond

// waitReady polls Check until it succeeds. On timeout, cancellation or exit of the process it returns an
// error naming what it waited for, the last observation and the tails of the service's logs.
func waitReady(ctx context.Context, r readiness) error {
	ctx, cancel := context.WithTimeout(ctx, r.Timeout)
	defer cancel()
	started := time.Now()
	var exited <-chan struct{}
	var logs []string
	if r.Proc != nil {
		exited = r.Proc.Exited()
		logs = r.Proc.Logs
	}
	seen := "nothing checked yet"
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		var ready bool
		if ready, seen = r.Check(ctx); ready {
			return nil
		}
		select {
		case <-tick.C:
		case <-exited:
			return fmt.Errorf("%s %s after %v while waiting for %s (last seen: %s)%s",
				r.Proc.Name, r.Proc.exitReport(), time.Since(started).Round(time.Millisecond), r.What, seen, logTails(logs))
		case <-ctx.Done():
			return fmt.Errorf("gave up after %v waiting for %s (%v; last seen: %s)%s",
				time.Since(started).Round(time.Millisecond), r.What, context.Cause(ctx), seen, logTails(logs))
		}
	}
}
