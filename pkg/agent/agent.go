// Package agent is the Tusk node agent: it finds PHP processes, attaches the
// BPF probes to their binaries, assembles the events into traces, stores
// them and serves them over the HTTP API.
package agent

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tusk-php/tusk/pkg/agent/httpapi"
	"github.com/tusk-php/tusk/pkg/agentapi"
	"github.com/tusk-php/tusk/pkg/assemble"
	"github.com/tusk-php/tusk/pkg/discover"
	"github.com/tusk-php/tusk/pkg/otlpexport"
	"github.com/tusk-php/tusk/pkg/probes"
	"github.com/tusk-php/tusk/pkg/profile"
	"github.com/tusk-php/tusk/pkg/store"
	"github.com/tusk-php/tusk/pkg/trace"
)

// Version is set at build time (-ldflags -X).
var Version = "dev"

// ErrNothingToTrace is returned by Run when the agent was pointed at
// processes (Config.PIDs) none of which can be traced.
var ErrNothingToTrace = errors.New("nothing to trace")

// Agent ties the pieces together. Create it with New, then Run.
type Agent struct {
	cfg       Config
	log       *slog.Logger
	token     string
	host      string
	startedAt time.Time
	procRoot  string

	tracer  *probes.Tracer
	store   *store.Store
	clock   *assemble.WallClock
	watcher *discover.Watcher
	metrics *metrics
	loop    *eventLoop
	// sampler is nil when profiling is off or could not start (samplerErr).
	sampler    *probes.Sampler
	samplerErr string
	profiles   *profile.Aggregator
	// exporter sends traces over OTLP too; nil when export is off.
	exporter *otlpexport.Exporter
	// kube names the pods of PHP processes and filters them; nil when off.
	kube *kubeAttribution
	// caps is what dropCapabilities did; nil before Run.
	caps *agentapi.Capabilities
	// nice raises deep-mode processes' nice values and puts them back.
	nice *niceKeeper

	spansStored atomic.Uint64

	mu        sync.Mutex // guards the fields below
	processes map[int]discover.Process
	unscanned map[int]discover.Process // seen in events before a scan found them
	binaries  map[discover.BinaryID]*binaryState
	byIndex   map[uint32]*binaryState // BPF binary index → state
	grants    map[string]*grant
	nextGrant int
	excluded  map[int]discover.Excluded // PHP processes the kubernetes filter keeps from tracing
}

// New loads the BPF programs and opens the store. It fails with a message
// that says what to do when the agent lacks privileges.
func New(cfg Config, log *slog.Logger) (*Agent, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	host := cfg.Host
	if host == "" {
		host, _ = os.Hostname()
	}
	kubeAttr, kerr := newKubeAttribution(cfg.Kubernetes, os.Getenv, log)
	if kerr != nil {
		return nil, kerr
	}
	if kubeAttr != nil && cfg.Host == "" {
		host = kubeAttr.node // in a pod, the hostname is the pod's name
	}
	a := &Agent{
		cfg:       cfg,
		log:       log,
		host:      host,
		startedAt: time.Now(),
		procRoot:  "/proc",
		clock:     assemble.NewWallClock(),
		processes: map[int]discover.Process{},
		unscanned: map[int]discover.Process{},
		binaries:  map[discover.BinaryID]*binaryState{},
		byIndex:   map[uint32]*binaryState{},
		grants:    map[string]*grant{},
	}
	a.nice = newNiceKeeper(cfg.DB+".reniced.json", a.procRoot, log)
	// Cheap checks first, so that a wrong PID or missing privileges give
	// one clear message before anything is created.
	if len(cfg.PIDs) > 0 {
		if err := a.checkPIDs(); err != nil {
			return nil, err
		}
	}
	var err error
	a.tracer, err = probes.Load(probes.Options{
		RingBytes:     cfg.RingBufferBytes,
		DeepThreshold: cfg.Deep.Threshold,
		DeepMaxDepth:  cfg.Deep.MaxDepth,
	})
	if err != nil {
		return nil, err
	}
	token, generated, err := cfg.ResolveToken()
	if err != nil {
		a.tracer.Close()
		return nil, err
	}
	if generated {
		log.Info("generated an API token", "file", cfg.TokenFile)
	}
	a.token = token
	a.store, err = store.Open(cfg.DB, store.Options{
		MaxAge:   cfg.Retention.MaxAge,
		MaxBytes: cfg.Retention.MaxBytes,
		Logger:   log,
	})
	if err != nil {
		a.tracer.Close()
		return nil, err
	}
	if cfg.Profiling.Enabled {
		a.sampler, err = a.tracer.StartSampler(cfg.Profiling.Hz)
		if err != nil {
			// Traces do not need it: say so and go on.
			a.samplerErr = err.Error()
			log.Warn("PHP stack sampler not started: no flame graphs", "error", err)
		}
	}
	a.profiles = profile.NewAggregator(a.store.AddProfile, profile.AggregatorOptions{})
	a.kube, a.excluded = kubeAttr, map[int]discover.Excluded{}
	a.watcher = discover.NewWatcher(a.discoverOptions(), cfg.ScanInterval)
	if err := a.startExport(); err != nil {
		if a.sampler != nil {
			a.sampler.Close()
		}
		a.store.Close()
		a.tracer.Close()
		return nil, err
	}
	a.metrics = newMetrics(a)
	a.loop = newEventLoop(a)
	return a, nil
}

// Run traces until ctx is cancelled, then detaches everything and flushes
// the store. With Config.PIDs set and nothing traceable among them it
// returns an error wrapping ErrNothingToTrace.
func (a *Agent) Run(ctx context.Context) error {
	defer a.close()

	ln, err := net.Listen("tcp", a.cfg.Listen)
	if err != nil {
		return fmt.Errorf("API listen %s: %w", a.cfg.Listen, err)
	}
	scheme := "http"
	if a.cfg.TLS.CertFile != "" {
		certs, err := newCertReloader(a.cfg.TLS.CertFile, a.cfg.TLS.KeyFile)
		if err != nil {
			ln.Close()
			return err
		}
		ln, scheme = tls.NewListener(ln, certs.tlsConfig()), "https"
	}
	// An agent killed while deep mode was on left its workers reniced.
	a.nice.recover()
	// BPF objects loaded, store open, API listening: from here on only
	// what attaching to more PHP processes needs.
	a.dropCapabilities()
	srv := &http.Server{
		Handler: httpapi.New(httpapi.Options{
			Backend: a,
			Token:   a.token,
			Metrics: a.metrics.handler(),
			Logger:  a.log.With("component", "api"),
		}),
		ReadHeaderTimeout: 5 * time.Second,
		IdleTimeout:       60 * time.Second,
	}
	a.log.Info("tusk agent started", "version", Version, "api", scheme+"://"+ln.Addr().String(), "db", a.cfg.DB, "cpuPolicy", a.cfg.CPUPolicy)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errc := make(chan error, 3)
	wg.Add(3)
	if a.kube != nil {
		wg.Add(1)
		go func() { defer wg.Done(); a.kube.run(ctx) }()
	}
	go func() { defer wg.Done(); a.loop.run(ctx) }()
	go func() {
		defer wg.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("API server: %w", err)
			cancel()
		}
	}()
	go func() {
		defer wg.Done()
		if err := a.discoverLoop(ctx); err != nil {
			errc <- err
			cancel()
		}
	}()

	<-ctx.Done()
	shutdownCtx, stop := context.WithTimeout(context.Background(), 5*time.Second)
	defer stop()
	_ = srv.Shutdown(shutdownCtx)
	a.tracer.SetReadDeadline(time.Now()) // wake the event loop
	wg.Wait()
	select {
	case err := <-errc:
		return err
	default:
		return nil
	}
}

// checkPIDs refuses to start when none of the configured PIDs is a PHP
// process: there would be nothing to trace.
func (a *Agent) checkPIDs() error {
	var problems []error
	ok := 0
	for _, pid := range a.cfg.PIDs {
		if _, err := discover.Lookup(discover.Options{ProcRoot: a.procRoot, CLI: a.cfg.CLI}, pid); err != nil {
			problems = append(problems, err)
			continue
		}
		ok++
	}
	if ok == 0 {
		return fmt.Errorf("%w: %w", ErrNothingToTrace, errors.Join(problems...))
	}
	for _, p := range problems {
		a.log.Warn("not tracing", "reason", p)
	}
	return nil
}

// close detaches every probe, then drains what is left and closes the store.
func (a *Agent) close() {
	a.mu.Lock()
	for _, g := range a.grants {
		_ = probes.CloseDeep(g.takeAll())
	}
	a.nice.restoreAll()
	if a.sampler != nil {
		a.sampler.Close()
	}
	for _, b := range a.binaries {
		if b.io != nil {
			b.io.Close()
		}
		if b.attachment != nil {
			b.attachment.Close()
		}
	}
	a.mu.Unlock()
	a.loop.drain()
	exportStopped := a.stopExportAsync() // alongside the store's flush
	a.profiles.FlushAll()
	a.tracer.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.store.Flush(ctx); err != nil {
		a.log.Warn("store flush at exit", "error", err)
	}
	if err := a.store.FlushProfiles(ctx); err != nil {
		a.log.Warn("profile flush at exit", "error", err)
	}
	a.store.Close()
	<-exportStopped
	a.log.Info("tusk agent stopped: every probe detached")
}

// storeTrace hands a finished trace to the store, never blocking.
func (a *Agent) storeTrace(t *trace.Trace) {
	a.metrics.traceStored(t)
	a.spansStored.Add(uint64(len(t.Spans)))
	a.store.Add(t)
	if a.exporter != nil {
		a.exporter.Enqueue(t) // never blocks: when its queue is full the trace is dropped and counted
	}
}
