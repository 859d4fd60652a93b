package agent

import (
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tusk-php/tusk/pkg/assemble"
	"github.com/tusk-php/tusk/pkg/trace"
)

// metrics are the agent's Prometheus metrics: its own health (events,
// drops, store) read at scrape time, and PHP request counts and durations
// per pool as traces are stored.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newMetrics(a *Agent) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tusk_php_requests_total",
		Help: "PHP requests traced, by service, pool, method and status class.",
	}, []string{"service", "pool", "method", "status_class", "error"})
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "tusk_php_request_duration_seconds",
		Help:    "Duration of traced PHP requests.",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
	}, []string{"service", "pool"})
	m.reg.MustRegister(m.requests, m.duration, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	gaugeFunc := func(name, help string, f func() float64) {
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f))
	}
	counterFunc := func(name, help string, f func() float64) {
		m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, f))
	}
	counterFunc("tusk_events_total", "Events read from the BPF ring buffer.", func() float64 { return float64(a.loop.events.Load()) })
	counterFunc("tusk_events_undecodable_total", "Ring buffer records that could not be decoded.", func() float64 { return float64(a.loop.decodeErrors.Load()) })
	counterFunc("tusk_events_lost_total", "Events the BPF programs could not queue because the ring buffer was full.", func() float64 {
		lost, _ := a.tracer.LostPerCPU()
		var n uint64
		for _, v := range lost {
			n += v
		}
		return float64(n)
	})
	asm := func(f func(assemble.Stats) uint64) func() float64 {
		return func() float64 {
			if st := a.loop.asmStats.Load(); st != nil {
				return float64(f(*st))
			}
			return 0
		}
	}
	counterFunc("tusk_traces_total", "Traces assembled.", asm(func(s assemble.Stats) uint64 { return s.Traces }))
	counterFunc("tusk_traces_incomplete_total", "Traces assembled with pieces known to be missing (lost events, no end).",
		asm(func(s assemble.Stats) uint64 { return s.Incomplete }))
	counterFunc("tusk_spans_stored_total", "Spans handed to the store.", func() float64 { return float64(a.spansStored.Load()) })
	counterFunc("tusk_store_written_total", "Traces written to the store.", func() float64 { return float64(a.store.Stats().Written) })
	counterFunc("tusk_store_dropped_total", "Traces the store could not keep (queue full or write failures).", func() float64 { return float64(a.store.Stats().Dropped) })
	counterFunc("tusk_store_write_errors_total", "Failed store writes.", func() float64 { return float64(a.store.Stats().WriteErrors) })
	gaugeFunc("tusk_store_size_bytes", "Size of the trace database and its WAL.", func() float64 { return float64(a.store.Stats().SizeBytes) })
	gaugeFunc("tusk_store_traces", "Traces in the store.", func() float64 { return float64(a.store.Stats().Traces) })
	gaugeFunc("tusk_open_requests", "Requests started and not yet ended.", func() float64 { return float64(a.loop.openRequests.Load()) })
	gaugeFunc("tusk_php_processes", "PHP processes the agent follows.", func() float64 {
		a.mu.Lock()
		defer a.mu.Unlock()
		return float64(len(a.processes))
	})
	gaugeFunc("tusk_deep_modes_active", "Active deep-mode grants.", func() float64 {
		a.mu.Lock()
		defer a.mu.Unlock()
		return float64(len(a.grants))
	})
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// traceStored counts one finished request.
func (m *metrics) traceStored(t *trace.Trace) {
	class := "none"
	if t.StatusCode > 0 {
		class = strconv.Itoa(t.StatusCode/100) + "xx"
	}
	m.requests.WithLabelValues(t.Service, t.Pool, t.Method, class, strconv.FormatBool(t.Error)).Inc()
	m.duration.WithLabelValues(t.Service, t.Pool).Observe(t.Duration().Seconds())
}
