package agent

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tusk-php/tusk/pkg/trace"
)

func TestExportMetricsAndStatus(t *testing.T) {
	a := &Agent{cfg: DefaultConfig(), log: slog.New(slog.DiscardHandler), host: "h"}
	if err := a.startExport(); err != nil || a.exporter != nil {
		t.Fatalf("no endpoint: exporter %v, %v", a.exporter, err)
	}
	if a.exportStatus() != nil {
		t.Fatal("status of a disabled export")
	}
	a.cfg.Export.OTLP.Endpoint = "http://127.0.0.1:1" // nothing listens: the trace waits, retried
	a.cfg.Export.OTLP.QueueSize = 1
	if err := a.startExport(); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	a.registerExportMetrics(reg)
	tr := &trace.Trace{Spans: make([]trace.Span, 3)}
	for range 4 {
		a.exporter.Enqueue(tr)
	}
	st := a.exportStatus()
	if st == nil || st.Endpoint != "http://127.0.0.1:1" || st.Protocol != "grpc" || st.EnqueuedTraces != 4 || st.EnqueuedSpans != 12 ||
		st.DroppedTraces+st.QueuedTraces != 4 || st.DroppedTraces < 2 {
		t.Fatalf("status %+v", st)
	}
	if v := gaugeValue(t, reg, "tusk_export_queue_traces"); v != float64(st.QueuedTraces) {
		t.Errorf("queue gauge %v, status %d", v, st.QueuedTraces)
	}
	for _, result := range []string{"exported", "failed"} {
		if v := seriesValue(t, reg, "tusk_export_spans_total", result); v != 0 {
			t.Errorf("%s spans %v", result, v)
		}
	}
	if v := seriesValue(t, reg, "tusk_export_spans_total", "dropped_queue_full"); v != float64(3*st.DroppedTraces) {
		t.Errorf("dropped spans metric %v", v)
	}
	if v := gaugeValue(t, reg, "tusk_export_retries_total"); v < 0 {
		t.Errorf("retries %v", v)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_ = a.exporter.Shutdown(ctx)
	if st := a.exportStatus(); st.QueuedTraces != 0 || st.FailedTraces+st.DroppedTraces != 4 {
		t.Errorf("after shutdown %+v", st)
	}
}

// gaugeValue is the value of an unlabelled gauge or counter.
func gaugeValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) == 1 {
			m := mf.GetMetric()[0]
			if m.GetGauge() != nil {
				return m.GetGauge().GetValue()
			}
			return m.GetCounter().GetValue()
		}
	}
	t.Fatalf("no %s", name)
	return 0
}

// seriesValue is the value of name{result="…"}.
func seriesValue(t *testing.T, reg *prometheus.Registry, name, result string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if mf.GetName() == name && l.GetName() == "result" && l.GetValue() == result {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	t.Fatalf("no %s{result=%q}", name, result)
	return 0
}
