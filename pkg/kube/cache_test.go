package kube

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeLister answers with what next returns, counting calls.
type fakeLister struct {
	calls atomic.Int64
	next  func(call int64) ([]Pod, error)
}

func (f *fakeLister) ListPods(ctx context.Context) ([]Pod, error) {
	return f.next(f.calls.Add(1))
}

// syncLog collects slog output from the cache's goroutine.
type syncLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncLog) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncLog) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func runCache(t *testing.T, l Lister, opts CacheOptions) (*Cache, *syncLog) {
	t.Helper()
	log := &syncLog{}
	opts.Logger = slog.New(slog.NewTextHandler(log, nil))
	c := NewCache(l, opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return c, log
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestCacheFindsPodsByUIDAndStaticPodsByTheirHash(t *testing.T) {
	l := &fakeLister{next: func(int64) ([]Pod, error) {
		return []Pod{
			{UID: uidA, Name: "wordpress-1", Namespace: "shop", Containers: map[string]string{cidA: "php-fpm"}},
			{UID: "b0c9d8e7-f6a5-4b4c-93d2-e1f0a9b8c7d6", Name: "legacy-php-worker-1", Namespace: "default", MirrorOf: hashed},
		}, nil
	}}
	c, _ := runCache(t, l, CacheOptions{})
	<-c.Ready()
	if p, ok := c.Pod(uidA); !ok || p.Name != "wordpress-1" || p.ContainerName(cidA) != "php-fpm" {
		t.Fatalf("by UID: %+v %v", p, ok)
	}
	if p, ok := c.Pod(hashed); !ok || p.Name != "legacy-php-worker-1" {
		t.Fatalf("static pod by the kubelet's UID: %+v %v", p, ok)
	}
	if st := c.Status(); st.Pods != 2 || st.Refreshes != 1 || st.LastError != "" || st.LastRefresh.IsZero() {
		t.Fatalf("status %+v", st)
	}
}

// A lookup never waits for the API, even while a list hangs.
func TestCacheLookupsNeverBlock(t *testing.T) {
	release := make(chan struct{})
	l := &fakeLister{next: func(int64) ([]Pod, error) {
		<-release
		return nil, nil
	}}
	c, _ := runCache(t, l, CacheOptions{MinRefresh: time.Millisecond})
	defer close(release)
	waitFor(t, "the first list to start", func() bool { return l.calls.Load() == 1 })
	start := time.Now()
	for range 10000 {
		if _, ok := c.Pod(uidA); ok {
			t.Fatal("found a pod in an empty cache")
		}
	}
	if took := time.Since(start); took > time.Second {
		t.Fatalf("10000 lookups took %s while the API hung", took)
	}
}

// Misses ask for a refresh, at most one per MinRefresh; a pod started since
// the last list is found that way.
func TestCacheRefreshesOnAMissAtMostEveryMinRefresh(t *testing.T) {
	var appeared atomic.Bool
	l := &fakeLister{next: func(int64) ([]Pod, error) {
		pods := []Pod{{UID: uidA, Name: "old"}}
		if appeared.Load() {
			pods = append(pods, Pod{UID: "11111111-2222-4333-8444-555555555555", Name: "new"})
		}
		return pods, nil
	}}
	const minRefresh = 100 * time.Millisecond
	c, _ := runCache(t, l, CacheOptions{MinRefresh: minRefresh, Resync: time.Hour})
	<-c.Ready()
	appeared.Store(true)
	start := time.Now()
	var found *Pod
	for time.Since(start) < 2*time.Second {
		if p, ok := c.Pod("11111111-2222-4333-8444-555555555555"); ok {
			found = p
			break
		}
		time.Sleep(time.Millisecond) // a busy event loop
	}
	if found == nil || found.Name != "new" {
		t.Fatal("a new pod was never found")
	}
	// Keep missing for a while: the calls stay within one per MinRefresh.
	for time.Since(start) < 600*time.Millisecond {
		c.Pod("99999999-2222-4333-8444-555555555555")
		time.Sleep(time.Millisecond)
	}
	calls := l.calls.Load()
	max := 2 + int64(time.Since(start)/minRefresh)
	if calls > max {
		t.Fatalf("%d lists in %s with MinRefresh %s (at most %d)", calls, time.Since(start).Round(time.Millisecond), minRefresh, max)
	}
	t.Logf("%d lists in %s of constant misses", calls, time.Since(start).Round(time.Millisecond))
}

// RBAC missing: one clear log line, the old pods kept, retried after
// ErrorRetry, and a line when it works again.
func TestCacheLogsAForbiddenListOnceAndRetries(t *testing.T) {
	var allowed atomic.Bool
	var calls []time.Time
	var mu sync.Mutex
	l := &fakeLister{next: func(int64) ([]Pod, error) {
		mu.Lock()
		calls = append(calls, time.Now())
		mu.Unlock()
		if !allowed.Load() {
			return nil, &APIError{Code: http.StatusForbidden, Node: "worker-1", ServiceAccount: "the service account of namespace tusk-system",
				Message: `pods is forbidden: User "system:serviceaccount:tusk-system:tusk-agent" cannot list resource "pods" in API group "" at the cluster scope`}
		}
		return []Pod{{UID: uidA, Name: "wordpress-1"}}, nil
	}}
	const retry = 80 * time.Millisecond
	c, log := runCache(t, l, CacheOptions{MinRefresh: time.Millisecond, ErrorRetry: retry, Resync: time.Hour})
	<-c.Ready()
	for range 50 { // misses do not hammer a refusing API
		c.Pod(uidA)
		time.Sleep(5 * time.Millisecond)
	}
	waitFor(t, "three attempts", func() bool { return l.calls.Load() >= 3 })
	mu.Lock()
	for i := 1; i < len(calls); i++ {
		if gap := calls[i].Sub(calls[i-1]); gap < retry-10*time.Millisecond {
			t.Errorf("attempt %d came %s after the previous failure, ErrorRetry is %s", i+1, gap, retry)
		}
	}
	mu.Unlock()
	st := c.Status()
	if !strings.Contains(st.LastError, "403 Forbidden") || st.Failures < 3 || st.Pods != 0 {
		t.Fatalf("status %+v", st)
	}
	if n := strings.Count(log.String(), "pod attribution unavailable"); n != 1 {
		t.Fatalf("the refusal was logged %d times, want once:\n%s", n, log)
	}
	if !strings.Contains(log.String(), "level=ERROR") || !strings.Contains(log.String(), "deploy/kubernetes/rbac.yaml") {
		t.Fatalf("the log line does not say what to do:\n%s", log)
	}
	allowed.Store(true)
	waitFor(t, "recovery", func() bool { _, ok := c.Pod(uidA); return ok })
	if !strings.Contains(log.String(), "Kubernetes API reachable again") || c.Status().LastError != "" {
		t.Fatalf("recovery not reported:\n%s", log)
	}
}

// A failed refresh keeps what the last good one listed.
func TestCacheKeepsStalePodsWhenAListFails(t *testing.T) {
	l := &fakeLister{next: func(call int64) ([]Pod, error) {
		if call == 1 {
			return []Pod{{UID: uidA, Name: "wordpress-1"}}, nil
		}
		return nil, context.DeadlineExceeded
	}}
	c, log := runCache(t, l, CacheOptions{MinRefresh: time.Millisecond, ErrorRetry: time.Millisecond, Resync: 5 * time.Millisecond})
	waitFor(t, "failed refreshes", func() bool { return l.calls.Load() >= 4 })
	if p, ok := c.Pod(uidA); !ok || p.Name != "wordpress-1" {
		t.Fatal("a failed refresh dropped the pods")
	}
	if n := strings.Count(log.String(), "listing this node's pods failed"); n != 1 {
		t.Fatalf("the same failure logged %d times", n)
	}
}

// Pods gone from the list are forgotten at the next refresh.
func TestCacheForgetsDeletedPods(t *testing.T) {
	l := &fakeLister{next: func(call int64) ([]Pod, error) {
		if call == 1 {
			return []Pod{{UID: uidA, Name: "wordpress-1"}}, nil
		}
		return nil, nil
	}}
	c, _ := runCache(t, l, CacheOptions{Resync: 20 * time.Millisecond})
	<-c.Ready()
	waitFor(t, "a resync", func() bool { return l.calls.Load() >= 2 })
	waitFor(t, "the pod to be forgotten", func() bool { _, ok := c.Pod(uidA); return !ok })
}

func BenchmarkCacheLookup(b *testing.B) {
	pods := make([]Pod, 300)
	for i := range pods {
		pods[i] = Pod{UID: podUIDFor(i), Name: "p"}
	}
	c := NewCache(&fakeLister{next: func(int64) ([]Pod, error) { return pods, nil }}, CacheOptions{})
	c.refresh(context.Background())
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, ok := c.Pod(podUIDFor(i % 300)); !ok {
			b.Fatal("miss")
		}
	}
}
