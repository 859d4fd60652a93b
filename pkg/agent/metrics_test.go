package agent

import (
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/tusk-php/tusk/pkg/trace"
)

func TestNormalizePath(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", ""},
		{"/", "/"},
		{"/index.php", "/index.php"},
		{"/product/123", "/product/:id"},
		{"/product/456/", "/product/:id/"},
		{"/product/0", "/product/:id"},
		{"/2024/05/hello-world/", "/:id/:id/hello-world/"},
		{"/api/v2/users/42/orders/7", "/api/v2/users/:id/orders/:id"},
		{"/u/3f2504e0-4f89-11d3-9a0c-0305e82c3301", "/u/:id"},
		{"/u/3F2504E0-4F89-11D3-9A0C-0305E82C3301/edit", "/u/:id/edit"},
		{"/blob/da39a3ee5e6b4b0d3255bfef95601890afd80709", "/blob/:id"},                      // sha1
		{"/o/507f1f77bcf86cd799439011", "/o/:id"},                                            // Mongo ObjectId
		{"/cache/0123456789abcdef", "/cache/:id"},                                            // 16 hex digits
		{"/cache/0123456789abcde", "/cache/0123456789abcde"},                                 // 15: too short
		{"/deadbeefdeadbeefcafe", "/deadbeefdeadbeefcafe"},                                   // hex letters only: a word
		{"/u/3f2504e0-4f89-11d3-9a0c-0305e82c330", "/u/3f2504e0-4f89-11d3-9a0c-0305e82c330"}, // not a UUID
		{"/hello-world", "/hello-world"},
		{"/page-2", "/page-2"},
		{"/123abc", "/123abc"},
		{"/images/123.jpg", "/images/123.jpg"},
		{"/wp-login.php", "/wp-login.php"},
		{"/v1", "/v1"},
		{"/-1", "/-1"},
		{"/shop//12", "/shop//:id"},
		{"relative/12", "relative/:id"},
		{"12", ":id"},
	} {
		if got := normalizePath(c.in); got != c.want {
			t.Errorf("normalizePath(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestStatusClass(t *testing.T) {
	for code, want := range map[int]string{0: "none", 99: "none", 100: "1xx", 200: "2xx", 204: "2xx", 301: "3xx", 404: "4xx", 500: "5xx", 599: "5xx", 600: "none", 999: "none"} {
		if got := statusClass(code); got != want {
			t.Errorf("statusClass(%d) = %q, want %q", code, got, want)
		}
	}
}

func TestEndpointName(t *testing.T) {
	for _, c := range []struct {
		s    trace.Summary
		want string
	}{
		{trace.Summary{Service: "shop", Method: "GET", Path: "/product/12"}, "GET /product/:id"},
		{trace.Summary{Service: "shop", Method: "POST", Path: "/cart"}, "POST /cart"},
		{trace.Summary{Service: "cron", Path: "/srv/app/cron.php"}, "/srv/app/cron.php"},
		{trace.Summary{Service: "shop"}, "shop"},
	} {
		if got := endpointName(&c.s); got != c.want {
			t.Errorf("endpointName(%+v) = %q, want %q", c.s, got, c.want)
		}
	}
}

func TestMetricsConfig(t *testing.T) {
	c := DefaultConfig()
	if c.Metrics.MaxEndpoints != 100 {
		t.Errorf("default metrics.max_endpoints = %d, want 100", c.Metrics.MaxEndpoints)
	}
	if err := c.LoadConfigFile(writeFile(t, "tusk.yaml", "metrics: { max_endpoints: 0 }\n")); err != nil {
		t.Fatal(err)
	}
	if c.Metrics.MaxEndpoints != 0 || c.Validate() != nil {
		t.Errorf("max_endpoints 0 (no endpoint label) must be accepted: %d %v", c.Metrics.MaxEndpoints, c.Validate())
	}
	c.Metrics.MaxEndpoints = -1
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "metrics.max_endpoints") {
		t.Errorf("negative max_endpoints: %v", err)
	}
}

// lint is testutil.GatherAndLint (promtool check metrics) without the rest
// of testutil, whose diff dependency this module does not have.
func lint(g prometheus.Gatherer) ([]promlint.Problem, error) {
	fams, err := g.Gather()
	if err != nil {
		return nil, err
	}
	return promlint.NewWithMetricFamilies(fams).Lint()
}

type req struct {
	pool, method, path string
	status             int
	err                bool
	d                  time.Duration
}

func (r req) trace() *trace.Trace {
	return &trace.Trace{Summary: trace.Summary{
		Service: "shop", Pool: r.pool, Method: r.method, Path: r.path, StatusCode: r.status,
		Error: r.err, StartUnixNano: 1_790_000_000_000_000_000, DurationNano: int64(r.d),
	}}
}

// scrape serves GET /metrics with the agent's handler and parses the text
// exposition as Prometheus would.
func scrape(t *testing.T, m *metrics) map[string]*dto.MetricFamily {
	t.Helper()
	rec := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	r.Header.Set("Accept", "text/plain;version=0.0.4")
	m.handler().ServeHTTP(rec, r)
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/plain") {
		t.Fatalf("scrape: %d %s\n%s", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
	}
	text := rec.Body.String()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, text)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("scrape:\n%s", text)
		}
	})
	return fams
}

func labelsOf(m *dto.Metric) map[string]string {
	l := map[string]string{}
	for _, p := range m.GetLabel() {
		l[p.GetName()] = p.GetValue()
	}
	return l
}

func labelNames(mf *dto.MetricFamily) []string {
	seen := map[string]bool{}
	for _, m := range mf.GetMetric() {
		for _, p := range m.GetLabel() {
			seen[p.GetName()] = true
		}
	}
	var names []string
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// find returns the sample of family name with exactly these labels.
func find(t *testing.T, fams map[string]*dto.MetricFamily, name string, labels map[string]string) *dto.Metric {
	t.Helper()
	mf := fams[name]
	if mf == nil {
		t.Fatalf("no family %s", name)
	}
	for _, m := range mf.GetMetric() {
		l := labelsOf(m)
		if len(l) != len(labels) {
			continue
		}
		match := true
		for k, v := range labels {
			if got, ok := l[k]; !ok || got != v {
				match = false
			}
		}
		if match {
			return m
		}
	}
	t.Fatalf("no %s%v", name, labels)
	return nil
}

func lbl(kv ...string) map[string]string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

const (
	famRequests = "tusk_php_requests_total"
	famErrors   = "tusk_php_request_errors_total"
	famDuration = "tusk_php_request_duration_seconds"
	famOverflow = "tusk_php_endpoints_overflow_total"
)

func TestMetricsScrapeREDPerEndpoint(t *testing.T) {
	m := newRequestMetrics(prometheus.NewPedanticRegistry(), 3)
	reqs := []req{
		{"www", "GET", "/index.php", 200, false, 2 * time.Millisecond},
		{"www", "GET", "/index.php", 200, false, 40 * time.Millisecond},
		{"www", "GET", "/product/123", 200, false, 20 * time.Millisecond},
		{"www", "GET", "/product/456", 301, false, 300 * time.Millisecond},
		{"www", "POST", "/cart", 500, true, 2 * time.Second},
		// www has its 3 endpoints: the next new ones are "other".
		{"www", "GET", "/about", 200, false, 10 * time.Millisecond},
		{"www", "GET", "/contact", 404, false, 5 * time.Millisecond},
		{"www", "GET", "/about", 500, true, 45 * time.Second}, // past the last bucket
		// Known endpoints keep counting, ids normalised.
		{"www", "GET", "/product/789", 200, false, time.Millisecond},
		// Another pool has its own bound.
		{"admin", "GET", "/wp-admin/", 200, false, 100 * time.Millisecond},
		// A CLI script that died: no status, an error.
		{"admin", "", "/srv/cron.php", 0, true, 3 * time.Second},
	}
	for _, r := range reqs {
		m.traceStored(r.trace())
	}
	fams := scrape(t, m)

	for name, want := range map[string]struct {
		typ    dto.MetricType
		labels []string
	}{
		famRequests: {dto.MetricType_COUNTER, []string{"endpoint", "pool", "service", "status_class"}},
		famErrors:   {dto.MetricType_COUNTER, []string{"endpoint", "pool", "service"}},
		famDuration: {dto.MetricType_HISTOGRAM, []string{"endpoint", "pool", "service"}},
		famOverflow: {dto.MetricType_COUNTER, []string{"pool", "service"}},
	} {
		mf := fams[name]
		if mf == nil {
			t.Errorf("no family %s", name)
			continue
		}
		if mf.GetType() != want.typ || mf.GetHelp() == "" || !slices.Equal(labelNames(mf), want.labels) {
			t.Errorf("%s: type %s, labels %v, help %q; want %s %v", name, mf.GetType(), labelNames(mf), mf.GetHelp(), want.typ, want.labels)
		}
	}

	counter := func(name string, l map[string]string) float64 {
		return find(t, fams, name, l).GetCounter().GetValue()
	}
	www := func(kv ...string) map[string]string {
		return lbl(append([]string{"service", "shop", "pool", "www"}, kv...)...)
	}
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{famRequests, www("endpoint", "GET /index.php", "status_class", "2xx"), 2},
		{famRequests, www("endpoint", "GET /product/:id", "status_class", "2xx"), 2},
		{famRequests, www("endpoint", "GET /product/:id", "status_class", "3xx"), 1},
		{famRequests, www("endpoint", "POST /cart", "status_class", "5xx"), 1},
		{famRequests, www("endpoint", "other", "status_class", "2xx"), 1},
		{famRequests, www("endpoint", "other", "status_class", "4xx"), 1},
		{famRequests, www("endpoint", "other", "status_class", "5xx"), 1},
		{famRequests, lbl("service", "shop", "pool", "admin", "endpoint", "GET /wp-admin/", "status_class", "2xx"), 1},
		{famRequests, lbl("service", "shop", "pool", "admin", "endpoint", "/srv/cron.php", "status_class", "none"), 1},
		{famErrors, www("endpoint", "POST /cart"), 1},
		{famErrors, www("endpoint", "other"), 1},
		{famErrors, www("endpoint", "GET /index.php"), 0}, // present at 0 for ratios
		{famErrors, www("endpoint", "GET /product/:id"), 0},
		{famErrors, lbl("service", "shop", "pool", "admin", "endpoint", "/srv/cron.php"), 1},
		{famOverflow, lbl("service", "shop", "pool", "www"), 3},
		{famOverflow, lbl("service", "shop", "pool", "admin"), 0},
	} {
		if got := counter(c.name, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}

	// The bound: 3 endpoints + "other" in www, nothing else.
	endpoints := map[string]bool{}
	for _, s := range fams[famRequests].GetMetric() {
		if l := labelsOf(s); l["pool"] == "www" {
			endpoints[l["endpoint"]] = true
		}
	}
	if len(endpoints) != 4 || !endpoints["other"] || endpoints["GET /about"] || endpoints["GET /product/123"] {
		t.Errorf("www endpoints %v, want 3 and other", endpoints)
	}

	// Histograms: classic buckets, cumulative, +Inf = count = requests,
	// sum = the durations.
	wantBounds := append(slices.Clone(requestDurationBuckets), math.Inf(1))
	requests := map[string]float64{}
	for _, s := range fams[famRequests].GetMetric() {
		l := labelsOf(s)
		requests[l["pool"]+"|"+l["endpoint"]] += s.GetCounter().GetValue()
	}
	sums := map[string]float64{}
	for _, r := range reqs {
		ep := endpointName(&r.trace().Summary)
		if r.pool == "www" && (ep == "GET /about" || ep == "GET /contact") {
			ep = "other"
		}
		sums[r.pool+"|"+ep] += r.d.Seconds()
	}
	if len(fams[famDuration].GetMetric()) != len(requests) {
		t.Errorf("%d histograms for %d request series", len(fams[famDuration].GetMetric()), len(requests))
	}
	for _, s := range fams[famDuration].GetMetric() {
		l := labelsOf(s)
		key := l["pool"] + "|" + l["endpoint"]
		h := s.GetHistogram()
		var bounds []float64
		prev := uint64(0)
		for _, b := range h.GetBucket() {
			bounds = append(bounds, b.GetUpperBound())
			if b.GetCumulativeCount() < prev {
				t.Errorf("%s: bucket le=%v count %d below the previous %d", key, b.GetUpperBound(), b.GetCumulativeCount(), prev)
			}
			prev = b.GetCumulativeCount()
		}
		if !slices.Equal(bounds, wantBounds) {
			t.Errorf("%s: bucket bounds %v, want %v", key, bounds, wantBounds)
		}
		if prev != h.GetSampleCount() || float64(h.GetSampleCount()) != requests[key] {
			t.Errorf("%s: +Inf bucket %d, _count %d, requests %v", key, prev, h.GetSampleCount(), requests[key])
		}
		if math.Abs(h.GetSampleSum()-sums[key]) > 1e-9 {
			t.Errorf("%s: _sum %v, want %v", key, h.GetSampleSum(), sums[key])
		}
	}
	// One histogram bucket by bucket: 20ms, 300ms and 1ms (le is inclusive).
	h := find(t, fams, famDuration, www("endpoint", "GET /product/:id")).GetHistogram()
	wantCum := []uint64{1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3}
	for i, b := range h.GetBucket() {
		if b.GetCumulativeCount() != wantCum[i] {
			t.Errorf("GET /product/:id le=%v: %d, want %d", b.GetUpperBound(), b.GetCumulativeCount(), wantCum[i])
		}
	}
	// 45s is only in +Inf.
	h = find(t, fams, famDuration, www("endpoint", "other")).GetHistogram()
	if b := h.GetBucket(); b[len(b)-2].GetCumulativeCount() != 2 || b[len(b)-1].GetCumulativeCount() != 3 {
		t.Errorf("other: le=30 %d, +Inf %d; want 2, 3", b[len(b)-2].GetCumulativeCount(), b[len(b)-1].GetCumulativeCount())
	}

	problems, err := lint(m.reg)
	if err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %+v", err, problems)
	}
}

func TestMetricsWithoutEndpointLabel(t *testing.T) {
	m := newRequestMetrics(prometheus.NewRegistry(), 0)
	for i := range 50 {
		m.traceStored(req{"www", "GET", fmt.Sprintf("/post-%d", i), 200, false, time.Millisecond}.trace())
	}
	m.traceStored(req{"www", "GET", "/x", 503, true, time.Millisecond}.trace())
	fams := scrape(t, m)
	if n := len(fams[famRequests].GetMetric()); n != 2 {
		t.Errorf("%d request series, want 2 (2xx, 5xx)", n)
	}
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{famRequests, lbl("service", "shop", "pool", "www", "endpoint", "", "status_class", "2xx"), 50},
		{famRequests, lbl("service", "shop", "pool", "www", "endpoint", "", "status_class", "5xx"), 1},
		{famErrors, lbl("service", "shop", "pool", "www", "endpoint", ""), 1},
		{famOverflow, lbl("service", "shop", "pool", "www"), 0},
	} {
		// An empty label is absent for Prometheus; the text format may
		// write it or not.
		l := map[string]string{}
		for k, v := range c.labels {
			if v != "" {
				l[k] = v
			}
		}
		var s *dto.Metric
		for _, cand := range fams[c.name].GetMetric() {
			got := labelsOf(cand)
			for k, v := range got {
				if v == "" {
					delete(got, k)
				}
			}
			if fmt.Sprint(got) == fmt.Sprint(l) {
				s = cand
			}
		}
		if s == nil || s.GetCounter().GetValue() != c.want {
			t.Errorf("%s%v: %v, want %v", c.name, c.labels, s, c.want)
		}
	}
	if h := fams[famDuration].GetMetric(); len(h) != 1 || h[0].GetHistogram().GetSampleCount() != 51 {
		t.Errorf("duration: %v", h)
	}
}

func TestMetricsLabelValuesAreValidUTF8(t *testing.T) {
	m := newRequestMetrics(prometheus.NewRegistry(), 10)
	m.traceStored(req{"www", "GET", "/caf\xe9/12", 200, false, time.Millisecond}.trace()) // must not panic
	fams := scrape(t, m)
	find(t, fams, famRequests, lbl("service", "shop", "pool", "www", "endpoint", "GET /caf\uFFFD/:id", "status_class", "2xx"))
}

func TestMetricsNativeHistogramKeepsClassicBuckets(t *testing.T) {
	m := newRequestMetrics(prometheus.NewRegistry(), 10)
	m.traceStored(req{"www", "GET", "/", 200, false, 7 * time.Millisecond}.trace())
	fams, err := m.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range fams {
		if mf.GetName() != famDuration {
			continue
		}
		h := mf.GetMetric()[0].GetHistogram()
		if h.Schema == nil || len(h.GetPositiveSpan()) == 0 || len(h.GetBucket()) != len(requestDurationBuckets) {
			t.Errorf("want native (schema %v, spans %v) and %d classic buckets, got %d", h.Schema, h.GetPositiveSpan(), len(requestDurationBuckets), len(h.GetBucket()))
		}
		return
	}
	t.Fatal("no duration histogram gathered")
}

func TestMetricsConcurrentTraces(t *testing.T) {
	m := newRequestMetrics(prometheus.NewRegistry(), 5)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 100 {
				m.traceStored(req{"www", "GET", fmt.Sprintf("/p%d", (g*100+i)%20), 200, false, time.Millisecond}.trace())
			}
		})
	}
	wg.Wait()
	fams := scrape(t, m)
	var total float64
	endpoints := map[string]bool{}
	for _, s := range fams[famRequests].GetMetric() {
		total += s.GetCounter().GetValue()
		endpoints[labelsOf(s)["endpoint"]] = true
	}
	if total != 800 || len(endpoints) != 6 || !endpoints["other"] {
		t.Errorf("total %v over endpoints %v, want 800 over 5 + other", total, endpoints)
	}
	if got := find(t, fams, famOverflow, lbl("service", "shop", "pool", "www")).GetCounter().GetValue(); got != 800-5*40 {
		t.Errorf("overflow %v, want %d", got, 800-5*40)
	}
}

// The agent's own metrics follow the naming conventions (promlint: _total
// on counters, base units, snake_case, help).
func TestSelfMetricsLint(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	names := map[string]bool{}
	for _, s := range selfMetrics {
		if names[s.name] {
			t.Errorf("%s twice", s.name)
		}
		names[s.name] = true
		reg.MustRegister(s.collector(func() float64 { return 1 }))
	}
	problems, err := lint(reg)
	if err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %+v", err, problems)
	}
	// The request metrics with their Go and process neighbours in one
	// registry: no name clashes.
	m := newRequestMetrics(prometheus.NewRegistry(), 1)
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, s := range selfMetrics {
		m.reg.MustRegister(s.collector(func() float64 { return 0 }))
	}
}
