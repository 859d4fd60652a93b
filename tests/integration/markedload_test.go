//go:build integration

package integration

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tusk-php/tusk/pkg/trace"
	"github.com/tusk-php/tusk/tests/stack"
)

// A marked load sends /io/marker.php?req=ID&ms=N requests, each with its own
// ID, which the page puts into its SQL query and its curl URL: every span of
// a trace says which request it belongs to.

// markedReq is one request of a marked load, as its client saw it.
type markedReq struct {
	ID         string
	Napped     time.Duration // how long the page slept, as PHP measured it
	Sent, Done time.Time
	Status     int
	PID        int    // the worker that answered, as PHP says
	Err        string // why the client counts it failed; "" when it succeeded
}

func (r *markedReq) ok() bool { return r.Err == "" }

// markerRE finds request IDs in span attributes.
var markerRE = regexp.MustCompile(`\brq[0-9]+\b`)

// markedLoad is a bounded load: clients send their share of the requests one
// after the other, then stop.
type markedLoad struct {
	reqs  []markedReq
	done  atomic.Int64
	ended chan struct{}
	start time.Time
	took  time.Duration
}

// startMarkedLoad sends n requests from clients concurrent clients.
func startMarkedLoad(s *stack.Stack, clients, n int) *markedLoad {
	l := &markedLoad{reqs: make([]markedReq, n), ended: make(chan struct{}), start: time.Now()}
	client := &http.Client{Timeout: 10 * time.Second}
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := c; i < n; i += clients {
				l.reqs[i] = sendMarked(client, s, i)
				l.done.Add(1)
			}
		}()
	}
	go func() {
		wg.Wait()
		l.took = time.Since(l.start)
		close(l.ended)
	}()
	return l
}

func sendMarked(client *http.Client, s *stack.Stack, i int) markedReq {
	r := markedReq{ID: fmt.Sprintf("rq%d", i), Sent: time.Now()}
	resp, err := client.Get(fmt.Sprintf("%s/io/marker.php?req=%s&ms=%d", s.URL(), r.ID, i%5*5))
	if err != nil {
		r.Done, r.Err = time.Now(), err.Error()
		return r
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	r.Done, r.Status = time.Now(), resp.StatusCode
	var page struct {
		Req      string `json:"req"`
		SQL      string `json:"sql"`
		HTTP     int    `json:"http"`
		PID      int    `json:"pid"`
		NappedUS int64  `json:"napped_us"`
	}
	switch {
	case err != nil:
		r.Err = err.Error()
	case resp.StatusCode != http.StatusOK:
		r.Err = fmt.Sprintf("HTTP %d: %.200s", resp.StatusCode, body)
	case json.Unmarshal(body, &page) != nil || page.Req != r.ID || page.SQL != r.ID || page.HTTP != 200:
		r.Err = fmt.Sprintf("unexpected page: %.200s", body)
	}
	r.PID, r.Napped = page.PID, time.Duration(page.NappedUS)*time.Microsecond
	return r
}

// waitDone waits until n requests are answered or the load has ended; it
// reports whether n were reached.
func (l *markedLoad) waitDone(t *testing.T, n int64) bool {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		if l.done.Load() >= n {
			return true
		}
		select {
		case <-l.ended:
			return false
		default:
		}
	}
	t.Fatalf("load stuck at %d of %d requests", l.done.Load(), len(l.reqs))
	return false
}

// wait waits for the load to end and returns the requests and how many failed.
func (l *markedLoad) wait(t *testing.T) ([]markedReq, int) {
	t.Helper()
	select {
	case <-l.ended:
	case <-time.After(2 * time.Minute): // each request times out after 10 s
		t.Fatalf("load did not end: %d of %d requests answered", l.done.Load(), len(l.reqs))
	}
	failed := 0
	var first []string
	for i := range l.reqs {
		if !l.reqs[i].ok() {
			failed++
			if len(first) < 5 {
				first = append(first, l.reqs[i].ID+": "+l.reqs[i].Err)
			}
		}
	}
	if failed > 0 {
		t.Logf("%d of %d requests failed, first: %s", failed, len(l.reqs), strings.Join(first, "; "))
	}
	return l.reqs, failed
}

// waitSettled waits until the agent has assembled at least traces traces
// and has nothing in flight: no open request, and every assembled trace
// written to (or dropped by) the store.
func (a *agentProc) waitSettled(t *testing.T, traces int) {
	t.Helper()
	var text string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		text = scrapeMetrics(t, a)
		assembled := metric(text, "tusk_traces_total")
		if assembled >= float64(traces) && metric(text, "tusk_open_requests") == 0 &&
			assembled == metric(text, "tusk_store_written_total")+metric(text, "tusk_store_dropped_total") {
			return
		}
	}
	t.Errorf("the agent did not settle with %d traces within 20s:\n%s", traces, grepLines(text, "tusk_open_requests", "tusk_traces_total", "tusk_store_"))
}

// metric reads an unlabelled sample from a Prometheus text exposition; -1
// when it is absent.
func metric(text, name string) float64 {
	for line := range strings.SplitSeq(text, "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err == nil {
				return f
			}
		}
	}
	return -1
}

// grepLines keeps the lines of text that contain one of subs.
func grepLines(text string, subs ...string) string {
	var out []string
	for line := range strings.SplitSeq(text, "\n") {
		for _, s := range subs {
			if strings.Contains(line, s) {
				out = append(out, line)
				break
			}
		}
	}
	return strings.Join(out, "\n")
}

// checkMarkedTraces matches the agent's traces to the requests of a load on
// pool. Every request the client saw succeed has exactly one trace, which
// passes markedTraceProblems, and no two traces of a worker overlap. It
// returns the traces per worker PID.
func checkMarkedTraces(t *testing.T, a *agentProc, pool string, reqs []markedReq) map[int]int {
	t.Helper()
	byID := map[string]*markedReq{}
	succeeded := 0
	for i := range reqs {
		byID[reqs[i].ID] = &reqs[i]
		if reqs[i].ok() {
			succeeded++
		}
	}
	a.waitSettled(t, succeeded)
	sums, err := a.client.Search(t.Context(), trace.Query{Limit: trace.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	var problems []string
	type workerSpan struct {
		id         string
		start, end int64
	}
	spans := map[int][]workerSpan{}
	seen := map[string]int{}
	perPID := map[int]int{}
	for _, sum := range sums {
		tr := a.fetch(t, sum.TraceID)
		root := tr.Root()
		q, _ := url.ParseQuery(attrString(*root, trace.AttrURLQuery))
		r := byID[q.Get("req")]
		if sum.Path != "/io/marker.php" || r == nil {
			problems = append(problems, fmt.Sprintf("a trace of no request of the load: %s %s?%s pool %q status %d",
				sum.Method, sum.Path, attrString(*root, trace.AttrURLQuery), sum.Pool, sum.StatusCode))
			continue
		}
		seen[r.ID]++
		pid, _ := root.Attributes[trace.AttrProcessPID].(int64)
		perPID[int(pid)]++
		if r.ok() { // else the client gave up on it, and its trace may say anything
			problems = append(problems, markedTraceProblems(tr, r, pool)...)
			spans[int(pid)] = append(spans[int(pid)], workerSpan{r.ID, tr.StartUnixNano, tr.StartUnixNano + tr.DurationNano})
		}
	}
	// A worker serves one request at a time: its traces must not overlap,
	// as a request's end taken for another's would make them.
	for pid, list := range spans {
		slices.SortFunc(list, func(x, y workerSpan) int { return cmp.Compare(x.start, y.start) })
		for i := 1; i < len(list); i++ {
			if list[i].start < list[i-1].end {
				problems = append(problems, fmt.Sprintf("worker %d: %s overlaps %s, the next request it served", pid, list[i-1].id, list[i].id))
			}
		}
	}
	for i := range reqs {
		r := &reqs[i]
		switch n := seen[r.ID]; {
		case r.ok() && n != 1:
			problems = append(problems, fmt.Sprintf("%s (worker %d): %d traces, want exactly 1", r.ID, r.PID, n))
		case !r.ok() && n > 1:
			problems = append(problems, fmt.Sprintf("%s (failed: %s): %d traces", r.ID, r.Err, n))
		}
	}
	if len(problems) > 0 {
		t.Errorf("%d problems with the traces of %d requests (%d succeeded, %d traces), first:\n%s",
			len(problems), len(reqs), succeeded, len(sums), strings.Join(problems[:min(len(problems), 15)], "\n"))
	}
	return perPID
}

// markedTraceProblems checks the trace of a request that succeeded: on the
// worker that answered, in pool, status 200, started while the client
// waited, at least as long as the page's nap and about the client's wait at
// most; one SQL and one HTTP span with the request's marker and the right
// call sites, every I/O span within the request, no other request's marker.
func markedTraceProblems(tr *trace.Trace, r *markedReq, pool string) []string {
	const slack = 20 * time.Millisecond // clock conversion and scheduling
	// The trace may end after the client has its answer: PHP fires
	// request__shutdown at the very end of php_request_shutdown, after the
	// SAPI has finished the response, and on a busy machine the worker may
	// wait for a CPU in between.
	const teardown = 250 * time.Millisecond
	var problems []string
	problem := func(format string, args ...any) {
		problems = append(problems, r.ID+": "+fmt.Sprintf(format, args...))
	}
	root := tr.Root()
	pid, _ := root.Attributes[trace.AttrProcessPID].(int64)
	start := time.Unix(0, tr.StartUnixNano)
	switch {
	case tr.StatusCode != 200 || tr.Incomplete || tr.Error:
		problem("status %d incomplete %v error %v", tr.StatusCode, tr.Incomplete, tr.Error)
	case tr.Pool != pool || tr.Service != pool:
		problem("pool %q service %q, want %q", tr.Pool, tr.Service, pool)
	case int(pid) != r.PID:
		problem("trace on pid %d, answered by worker %d", pid, r.PID)
	case tr.Duration() < r.Napped:
		problem("lasted %s, shorter than its %s nap", tr.Duration(), r.Napped)
	case tr.Duration() > r.Done.Sub(r.Sent)+teardown:
		problem("lasted %s, the client waited %s", tr.Duration(), r.Done.Sub(r.Sent))
	case start.Before(r.Sent.Add(-slack)) || start.After(r.Done.Add(slack)):
		problem("started at %s, outside the client's [%s, %s]",
			start.Format("15:04:05.000000"), r.Sent.Format("15:04:05.000000"), r.Done.Format("15:04:05.000000"))
	}
	sqlSpans, httpSpans := 0, 0
	for _, sp := range tr.Spans {
		for k, v := range sp.Attributes {
			str, _ := v.(string)
			for _, m := range markerRE.FindAllString(str, -1) {
				if m != r.ID {
					problem("span %q has %s = %q, another request's marker", sp.Name, k, str)
				}
			}
		}
		if sp.Kind != trace.KindClient {
			continue
		}
		if sp.StartUnixNano < root.StartUnixNano || sp.StartUnixNano+sp.DurationNano > root.StartUnixNano+root.DurationNano {
			problem("span %q [%d+%d] is not within its request [%d+%d]", sp.Name, sp.StartUnixNano, sp.DurationNano, root.StartUnixNano, root.DurationNano)
		}
		fn, line := sp.Attributes[trace.AttrCodeFunction], sp.Attributes[trace.AttrCodeLineNumber]
		switch {
		case attrString(sp, trace.AttrDBQueryText) == "SELECT '"+r.ID+"' AS req":
			sqlSpans++
			if fn != "marker_sql" || line != int64(13) {
				problem("SQL span call site %v:%v, want marker_sql:13", fn, line)
			}
		case strings.HasSuffix(attrString(sp, trace.AttrURLFull), "/upstream/ok?req="+r.ID):
			httpSpans++
			if fn != "marker_http" || line != int64(21) {
				problem("HTTP span call site %v:%v, want marker_http:21", fn, line)
			}
		}
	}
	if sqlSpans != 1 || httpSpans != 1 {
		problem("%d SQL and %d HTTP spans with its marker, want 1 and 1 (%d spans)", sqlSpans, httpSpans, len(tr.Spans))
	}
	return problems
}

// fpmLogProblems returns the lines of php-fpm's error log that speak of PHP
// errors or of workers that crashed.
func fpmLogProblems(t *testing.T, s *stack.Stack) []string {
	t.Helper()
	b, err := os.ReadFile(s.FPM.ErrorLog)
	if err != nil {
		t.Fatal(err)
	}
	var bad []string
	for line := range strings.SplitSeq(string(b), "\n") {
		for _, sign := range []string{"PHP Warning", "PHP Fatal", "PHP Notice", "PHP Deprecated", "exited on signal", "core dumped", "WARNING:", "ERROR:", "ALERT:"} {
			if strings.Contains(line, sign) {
				bad = append(bad, line)
				break
			}
		}
	}
	return bad
}

// sortedPIDs returns the keys of a per-PID count, sorted.
func sortedPIDs(m map[int]int) []int {
	pids := make([]int, 0, len(m))
	for pid := range m {
		pids = append(pids, pid)
	}
	slices.Sort(pids)
	return pids
}
