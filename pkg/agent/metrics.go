package agent

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tusk-php/tusk/pkg/assemble"
	"github.com/tusk-php/tusk/pkg/trace"
)

// Endpoint label values that are not endpoints.
const (
	// endpointOther collects the requests of endpoints past the
	// metrics.max_endpoints bound of their (service, pool).
	endpointOther = "other"
	// idSegment replaces a path segment that is an identifier.
	idSegment = ":id"
)

// requestDurationBuckets are the classic buckets of
// tusk_php_request_duration_seconds: 1 ms to 30 s, where PHP requests live
// (a cached page ~1 ms, a WordPress page 50–500 ms, an export tens of seconds).
var requestDurationBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}

// metrics are the agent's Prometheus metrics: its own health (events,
// drops, store) read at scrape time, and RED metrics (rate, errors,
// duration) of PHP requests per service, pool and endpoint, counted as
// traces are stored.
type metrics struct {
	reg       *prometheus.Registry
	requests  *prometheus.CounterVec
	errors    *prometheus.CounterVec
	duration  *prometheus.HistogramVec
	overflow  *prometheus.CounterVec
	endpoints *endpointLimiter
}

func newMetrics(a *Agent) *metrics {
	m := newRequestMetrics(prometheus.NewRegistry(), a.cfg.Metrics.MaxEndpoints)
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, s := range selfMetrics {
		m.reg.MustRegister(s.collector(func() float64 { return s.value(a) }))
	}
	a.registerExportMetrics(m.reg)
	return m
}

// newRequestMetrics registers the PHP request metrics in reg; maxEndpoints
// is Config.Metrics.MaxEndpoints.
func newRequestMetrics(reg *prometheus.Registry, maxEndpoints int) *metrics {
	m := &metrics{reg: reg, endpoints: newEndpointLimiter(maxEndpoints)}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tusk_php_requests_total",
		Help: "PHP requests traced, by service, pool, endpoint (\"METHOD /path\", ids as :id) and HTTP status class (2xx to 5xx, none).",
	}, []string{"service", "pool", "endpoint", "status_class"})
	m.errors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tusk_php_request_errors_total",
		Help: "PHP requests that failed (status 5xx, uncaught exception, fatal error), by service, pool and endpoint.",
	}, []string{"service", "pool", "endpoint"})
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "tusk_php_request_duration_seconds",
		Help:    "Duration of traced PHP requests, by service, pool and endpoint.",
		Buckets: requestDurationBuckets,
		// Also a native histogram for a Prometheus that asks for one
		// (protobuf scrape); the classic buckets stay for the others.
		NativeHistogramBucketFactor:     1.1,
		NativeHistogramMaxBucketNumber:  160,
		NativeHistogramMinResetDuration: time.Hour,
	}, []string{"service", "pool", "endpoint"})
	m.overflow = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tusk_php_endpoints_overflow_total",
		Help: "PHP requests counted as endpoint=\"other\" because their service and pool already had metrics.max_endpoints endpoints.",
	}, []string{"service", "pool"})
	reg.MustRegister(m.requests, m.errors, m.duration, m.overflow)
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// traceStored counts one finished request.
func (m *metrics) traceStored(t *trace.Trace) {
	service, pool := labelValue(t.Service), labelValue(t.Pool)
	endpoint, first, overflow := m.endpoints.label(service, pool, labelValue(endpointName(&t.Summary)))
	if first {
		// Present from the pool's first request on, so that an alert
		// on its increase sees the first overflow too.
		m.overflow.WithLabelValues(service, pool)
	}
	if overflow {
		m.overflow.WithLabelValues(service, pool).Inc()
	}
	m.requests.WithLabelValues(service, pool, endpoint, statusClass(t.StatusCode)).Inc()
	// The error series exists (at 0) as soon as its endpoint does, so that
	// errors/requests ratios have both sides.
	errs := m.errors.WithLabelValues(service, pool, endpoint)
	if t.Error {
		errs.Inc()
	}
	m.duration.WithLabelValues(service, pool, endpoint).Observe(max(t.Duration().Seconds(), 0))
}

// statusClass is "2xx" for 200…299 and so on, "none" when no HTTP status
// was seen (CLI scripts, killed workers) or it is not one.
func statusClass(code int) string {
	if code < 100 || code > 599 {
		return "none"
	}
	return strconv.Itoa(code/100) + "xx"
}

// labelValue makes s a valid label value: the client refuses (panics on)
// invalid UTF-8, and paths come from the client's request line.
func labelValue(s string) string {
	return strings.ToValidUTF8(s, "\uFFFD")
}

// endpointName is the endpoint label of a request: its name as the trace
// list shows it ("GET /product/:id"), with normalizePath applied.
func endpointName(s *trace.Summary) string {
	n := trace.Summary{Service: s.Service, Method: s.Method, Path: normalizePath(s.Path)}
	return n.Name()
}

// normalizePath replaces the path segments that are obviously identifiers
// with ":id", so that /product/123 and /product/456 are one endpoint,
// "/product/:id". A segment is an identifier when it is, as a whole:
//
//   - a decimal number: "123", "2024" (/2024/05/hello-world/ → /:id/:id/hello-world/);
//   - a UUID, 8-4-4-4-12 hex digits in either case;
//   - a hex string of 16 or more digits with at least one decimal digit
//     (hashes, Mongo ObjectIds, tokens).
//
// It is conservative on purpose: slugs ("hello-world"), words, versions
// ("v2"), file names ("wp-login.php", "123.jpg") and mixed segments
// ("page-2", "123abc") are kept, since merging real endpoints would hide
// them. What it leaves variable is bounded by metrics.max_endpoints.
func normalizePath(p string) string {
	if p == "" {
		return p
	}
	segs := strings.Split(p, "/")
	changed := false
	for i, s := range segs {
		if isDecimal(s) || isUUID(s) || isLongHex(s) {
			segs[i] = idSegment
			changed = true
		}
	}
	if !changed {
		return p
	}
	return strings.Join(segs, "/")
}

func isDecimal(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isHexDigit(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch i {
		case 8, 13, 18, 23:
			if s[i] != '-' {
				return false
			}
		default:
			if !isHexDigit(s[i]) {
				return false
			}
		}
	}
	return true
}

func isLongHex(s string) bool {
	if len(s) < 16 {
		return false
	}
	digit := false
	for i := 0; i < len(s); i++ {
		if !isHexDigit(s[i]) {
			return false
		}
		digit = digit || s[i] <= '9'
	}
	return digit
}

// endpointLimiter bounds the endpoint label values per (service, pool):
// the first max endpoints seen keep their name for the agent's lifetime
// (their counters never go away), later ones are "other". With max 0 the
// endpoint label is always "".
type endpointLimiter struct {
	max  int
	mu   sync.Mutex
	seen map[[2]string]map[string]struct{}
}

func newEndpointLimiter(limit int) *endpointLimiter {
	return &endpointLimiter{max: limit, seen: map[[2]string]map[string]struct{}{}}
}

// label returns the label value for endpoint, whether this is the first
// request of (service, pool), and whether endpoint overflowed to "other".
func (l *endpointLimiter) label(service, pool, endpoint string) (label string, first, overflow bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	key := [2]string{service, pool}
	set, ok := l.seen[key]
	if !ok {
		set = map[string]struct{}{}
		l.seen[key] = set
	}
	if l.max <= 0 {
		return "", !ok, false
	}
	if _, known := set[endpoint]; known {
		return endpoint, !ok, false
	}
	if len(set) >= l.max {
		return endpointOther, !ok, true
	}
	set[endpoint] = struct{}{}
	return endpoint, !ok, false
}

// selfMetric is one of the agent's own metrics, read at scrape time.
type selfMetric struct {
	name, help string
	counter    bool
	value      func(a *Agent) float64
}

func (s selfMetric) collector(f func() float64) prometheus.Collector {
	if s.counter {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: s.name, Help: s.help}, f)
	}
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: s.name, Help: s.help}, f)
}

// asmStat reads one field of the event loop's last assembler statistics.
func asmStat(f func(assemble.Stats) uint64) func(a *Agent) float64 {
	return func(a *Agent) float64 {
		if st := a.loop.asmStats.Load(); st != nil {
			return float64(f(*st))
		}
		return 0
	}
}

var selfMetrics = []selfMetric{
	{"tusk_events_total", "Events read from the BPF ring buffer.", true,
		func(a *Agent) float64 { return float64(a.loop.events.Load()) }},
	{"tusk_events_undecodable_total", "Ring buffer records that could not be decoded.", true,
		func(a *Agent) float64 { return float64(a.loop.decodeErrors.Load()) }},
	{"tusk_events_lost_total", "Events the BPF programs could not queue because the ring buffer was full.", true,
		func(a *Agent) float64 {
			lost, _ := a.tracer.LostPerCPU()
			var n uint64
			for _, v := range lost {
				n += v
			}
			return float64(n)
		}},
	{"tusk_symbols_limited_total", "Function names the BPF programs held back because their process was over its budget of symbol events (sent later).", true,
		func(a *Agent) float64 { return float64(a.symbolsLimited()) }},
	{"tusk_traces_total", "Traces assembled.", true, asmStat(func(s assemble.Stats) uint64 { return s.Traces })},
	{"tusk_traces_incomplete_total", "Traces assembled with pieces known to be missing (lost events, no end).", true,
		asmStat(func(s assemble.Stats) uint64 { return s.Incomplete })},
	{"tusk_spans_stored_total", "Spans handed to the store.", true,
		func(a *Agent) float64 { return float64(a.spansStored.Load()) }},
	{"tusk_store_written_total", "Traces written to the store.", true,
		func(a *Agent) float64 { return float64(a.store.Stats().Written) }},
	{"tusk_store_dropped_total", "Traces the store could not keep (queue full or write failures).", true,
		func(a *Agent) float64 { return float64(a.store.Stats().Dropped) }},
	{"tusk_store_write_errors_total", "Failed store writes.", true,
		func(a *Agent) float64 { return float64(a.store.Stats().WriteErrors) }},
	{"tusk_store_size_bytes", "Size of the trace database and its WAL.", false,
		func(a *Agent) float64 { return float64(a.store.Stats().SizeBytes) }},
	{"tusk_store_traces", "Traces in the store.", false,
		func(a *Agent) float64 { return float64(a.store.Stats().Traces) }},
	{"tusk_open_requests", "Requests started and not yet ended.", false,
		func(a *Agent) float64 { return float64(a.loop.openRequests.Load()) }},
	{"tusk_php_processes", "PHP processes the agent follows.", false,
		func(a *Agent) float64 {
			a.mu.Lock()
			defer a.mu.Unlock()
			return float64(len(a.processes))
		}},
	{"tusk_php_process_states", "PHP processes the event assembler keeps state for (names, database and curl handles); exited ones are forgotten.", false,
		func(a *Agent) float64 { return float64(a.loop.procStates.Load()) }},
	{"tusk_deep_modes_active", "Active deep-mode grants.", false,
		func(a *Agent) float64 {
			a.mu.Lock()
			defer a.mu.Unlock()
			return float64(len(a.grants))
		}},
}

// symbolsLimited sums the per-CPU count of symbol events held back by the
// per-process budget.
func (a *Agent) symbolsLimited() uint64 {
	perCPU, _ := a.tracer.SymbolsLimitedPerCPU()
	var n uint64
	for _, v := range perCPU {
		n += v
	}
	return n
}
