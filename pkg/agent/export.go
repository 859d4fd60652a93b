package agent

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tusk-php/tusk/pkg/agentapi"
	"github.com/tusk-php/tusk/pkg/otlpexport"
)

// exportFlushTimeout bounds how long a stopping agent keeps sending queued
// traces to the OTLP backend; what is left is counted as failed.
const exportFlushTimeout = 5 * time.Second

// startExport creates the OTLP exporter when an endpoint is configured
// (a.exporter stays nil otherwise). It does not connect: a backend that is
// down is retried, counted and reported, never a reason not to start.
func (a *Agent) startExport() error {
	cfg := a.cfg.Export.OTLP
	if !cfg.Enabled() {
		return nil
	}
	e, err := otlpexport.New(cfg, otlpexport.Options{
		Info:   otlpexport.Info{Host: a.host, Version: Version},
		Logger: a.log.With("component", "otlp"),
	})
	if err != nil {
		return err
	}
	a.exporter = e
	st := e.Stats()
	a.log.Info("exporting traces over OTLP", "endpoint", st.Endpoint, "protocol", st.Protocol, "queue", cfg.QueueSize)
	return nil
}

// stopExport sends what is queued, for at most exportFlushTimeout.
func (a *Agent) stopExport() {
	if a.exporter == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), exportFlushTimeout)
	defer cancel()
	if err := a.exporter.Shutdown(ctx); err != nil {
		a.log.Warn("OTLP export at exit", "error", err)
	}
	st := a.exporter.Stats()
	a.log.Info("OTLP export stopped", "exported_traces", st.ExportedTraces, "exported_spans", st.ExportedSpans,
		"dropped_traces", st.DroppedTraces, "failed_traces", st.FailedTraces)
}

// exportStatus is the exporter's part of GET /api/v1/status (nil: off).
func (a *Agent) exportStatus() *agentapi.ExportStatus {
	if a.exporter == nil {
		return nil
	}
	s := a.exporter.Stats()
	return &agentapi.ExportStatus{
		Endpoint: s.Endpoint, Protocol: s.Protocol,
		EnqueuedTraces: s.EnqueuedTraces, EnqueuedSpans: s.EnqueuedSpans,
		QueuedTraces: s.QueuedTraces, QueuedSpans: s.QueuedSpans,
		ExportedTraces: s.ExportedTraces, ExportedSpans: s.ExportedSpans,
		DroppedTraces: s.DroppedTraces, DroppedSpans: s.DroppedSpans,
		FailedTraces: s.FailedTraces, FailedSpans: s.FailedSpans,
		Retries: s.Retries, LastError: s.LastError, LastErrorAt: s.LastErrorAt,
	}
}

// registerExportMetrics adds the exporter's counters to the agent's
// Prometheus registry when export is on.
func (a *Agent) registerExportMetrics(reg *prometheus.Registry) {
	e := a.exporter
	if e == nil {
		return
	}
	stat := func(f func(otlpexport.Stats) uint64) func() float64 {
		return func() float64 { return float64(f(e.Stats())) }
	}
	for result, f := range map[string]func(otlpexport.Stats) uint64{
		"exported":           func(s otlpexport.Stats) uint64 { return s.ExportedSpans },
		"dropped_queue_full": func(s otlpexport.Stats) uint64 { return s.DroppedSpans },
		"failed":             func(s otlpexport.Stats) uint64 { return s.FailedSpans },
	} {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name:        "tusk_export_spans_total",
			Help:        "Spans handed to the OTLP exporter, by outcome: exported, dropped_queue_full (queue full) or failed (given up after retries, or rejected).",
			ConstLabels: prometheus.Labels{"result": result},
		}, stat(f)))
	}
	reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "tusk_export_retries_total",
		Help: "OTLP export attempts repeated after a transient error.",
	}, stat(func(s otlpexport.Stats) uint64 { return s.Retries })))
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "tusk_export_queue_traces",
		Help: "Traces waiting for OTLP export (or being sent).",
	}, stat(func(s otlpexport.Stats) uint64 { return s.QueuedTraces })))
}

// stopExportAsync runs stopExport in the background; the channel is closed
// when it is done.
func (a *Agent) stopExportAsync() <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.stopExport()
	}()
	return done
}
