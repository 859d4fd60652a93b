package kube

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"
)

// Lister lists the pods of this node; *Client is one.
type Lister interface {
	ListPods(ctx context.Context) ([]Pod, error)
}

// CacheOptions tune a Cache; zero values take the defaults.
type CacheOptions struct {
	// MinRefresh is the shortest time between two refreshes asked for by
	// lookups of unknown pods (default 5s): a pod started since the last
	// list is found within that, and a burst of misses costs one call.
	MinRefresh time.Duration
	// ErrorRetry is the shortest time before trying again after a failed
	// list (default 30s).
	ErrorRetry time.Duration
	// Resync is how often the list is refreshed anyway (default 1m): pods
	// gone are forgotten, changed labels seen.
	Resync time.Duration
	Logger *slog.Logger
}

// CacheStatus is the state of the cache, for the agent's status.
type CacheStatus struct {
	Pods        int
	LastRefresh time.Time // last successful list
	LastError   string    // of the last attempt, "" when it succeeded
	Refreshes   uint64
	Failures    uint64
}

// Cache keeps the pods of this node by UID. Lookups never wait for the API:
// they read the last list, and a miss asks the background loop (Run) for a
// refresh, which it makes at most once per MinRefresh.
type Cache struct {
	lister Lister
	opts   CacheOptions
	log    *slog.Logger
	kick   chan struct{}

	mu     sync.RWMutex
	byUID  map[string]*Pod
	status CacheStatus
	ready  chan struct{} // closed after the first attempt, failed or not
}

// NewCache returns a cache that fills itself once Run is running.
func NewCache(l Lister, opts CacheOptions) *Cache {
	if opts.MinRefresh <= 0 {
		opts.MinRefresh = 5 * time.Second
	}
	if opts.ErrorRetry <= 0 {
		opts.ErrorRetry = 30 * time.Second
	}
	if opts.Resync <= 0 {
		opts.Resync = time.Minute
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Cache{lister: l, opts: opts, log: log, kick: make(chan struct{}, 1),
		byUID: map[string]*Pod{}, ready: make(chan struct{})}
}

// Pod returns the pod with the given UID (or, for a static pod, the
// kubelet's UID of it), without waiting. On a miss it asks for a refresh.
func (c *Cache) Pod(uid string) (*Pod, bool) {
	c.mu.RLock()
	p, ok := c.byUID[uid]
	c.mu.RUnlock()
	if !ok {
		c.Refresh()
	}
	return p, ok
}

// Refresh asks the background loop to list the pods again soon; it never
// blocks.
func (c *Cache) Refresh() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// Status returns counters and the last error.
func (c *Cache) Status() CacheStatus {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.status
}

// Ready is closed once the first list was tried, successful or not.
func (c *Cache) Ready() <-chan struct{} { return c.ready }

// Run lists the pods at once, then on Refresh and every Resync, until ctx
// ends.
func (c *Cache) Run(ctx context.Context) {
	var lastAttempt time.Time
	failed := false
	pending := true // the first list
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.kick:
			pending = true
		case <-timer.C:
		}
		now := time.Now()
		gap := c.opts.Resync
		if pending {
			gap = c.opts.MinRefresh
		}
		if failed {
			gap = max(gap, c.opts.ErrorRetry)
		}
		if next := lastAttempt.Add(gap); now.Before(next) {
			timer.Reset(next.Sub(now)) // Go ≥ 1.23 timers: no stale tick survives Reset
			continue
		}
		lastAttempt, pending = now, false
		failed = !c.refresh(ctx)
		if failed {
			timer.Reset(c.opts.ErrorRetry)
		} else {
			timer.Reset(c.opts.Resync)
		}
	}
}

// refresh lists the pods and swaps the map; on failure the old map stays
// (stale names are better than none) and the error is logged once until it
// changes or goes away.
func (c *Cache) refresh(ctx context.Context) bool {
	pods, err := c.lister.ListPods(ctx)
	if ctx.Err() != nil {
		return true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	defer func() {
		select {
		case <-c.ready:
		default:
			close(c.ready)
		}
	}()
	if err != nil {
		c.status.Failures++
		if msg := err.Error(); msg != c.status.LastError {
			var apiErr *APIError
			if errors.As(err, &apiErr) && apiErr.Forbidden() {
				c.log.Error("pod attribution unavailable", "error", msg)
			} else {
				c.log.Warn("listing this node's pods failed", "error", msg)
			}
			c.status.LastError = msg
		}
		return false
	}
	if c.status.LastError != "" {
		c.log.Info("Kubernetes API reachable again", "pods", len(pods))
	}
	byUID := make(map[string]*Pod, len(pods))
	for i := range pods {
		p := &pods[i]
		byUID[p.UID] = p
		if p.MirrorOf != "" {
			byUID[p.MirrorOf] = p
		}
	}
	c.byUID = byUID
	c.status.Pods = len(pods)
	c.status.LastRefresh = time.Now()
	c.status.LastError = ""
	c.status.Refreshes++
	return true
}
