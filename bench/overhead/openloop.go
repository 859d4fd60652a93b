package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
	"sync"
	"time"
)

// openResult is one fixed-rate run: latencies are measured from each
// request's scheduled send time, so a stall delays (and is charged to) every
// request scheduled during it instead of pausing the load (no coordinated
// omission).
type openResult struct {
	rate          float64 // asked for, req/s
	sent, errors  int
	p50, p90, p99 time.Duration
	max           time.Duration
	lateStart     time.Duration // p99 of how late the generator sent, a check on the generator itself
}

// openLoop sends GET url at a fixed rate for d, each request in its own
// goroutine (at most maxInFlight at a time; one scheduled past that waits for
// a slot, and that wait counts in its latency).
func openLoop(url string, rate float64, d time.Duration) openResult {
	const maxInFlight = 512
	tr := &http.Transport{MaxIdleConnsPerHost: maxInFlight, DisableCompression: true, IdleConnTimeout: time.Minute}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	n := int(rate * d.Seconds())
	lat := make([]time.Duration, n)
	late := make([]time.Duration, n)
	failed := make([]bool, n)
	sem := make(chan struct{}, maxInFlight)
	var wg sync.WaitGroup
	interval := float64(time.Second) / rate
	start := time.Now().Add(20 * time.Millisecond)
	for i := 0; i < n; i++ {
		at := start.Add(time.Duration(float64(i) * interval))
		if w := time.Until(at); w > 0 {
			time.Sleep(w)
		}
		sem <- struct{}{}
		wg.Add(1)
		go func(i int, at time.Time) {
			defer func() { <-sem; wg.Done() }()
			late[i] = time.Since(at)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
			resp, err := client.Do(req)
			if err == nil {
				_, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if err == nil && resp.StatusCode != http.StatusOK {
					err = fmt.Errorf("HTTP %d", resp.StatusCode)
				}
			}
			lat[i] = time.Since(at)
			failed[i] = err != nil
		}(i, at)
	}
	wg.Wait()
	r := openResult{rate: rate, sent: n}
	ok := lat[:0:0]
	for i, l := range lat {
		if failed[i] {
			r.errors++
			continue
		}
		ok = append(ok, l)
	}
	sort.Slice(ok, func(i, j int) bool { return ok[i] < ok[j] })
	sort.Slice(late, func(i, j int) bool { return late[i] < late[j] })
	r.p50, r.p90, r.p99 = pct(ok, 50), pct(ok, 90), pct(ok, 99)
	if len(ok) > 0 {
		r.max = ok[len(ok)-1]
	}
	r.lateStart = pct(late, 99)
	return r
}

// pct is the p-th percentile of sorted v (nearest rank).
func pct(v []time.Duration, p int) time.Duration {
	if len(v) == 0 {
		return 0
	}
	i := (len(v)*p + 99) / 100
	if i < 1 {
		i = 1
	}
	return v[i-1]
}
