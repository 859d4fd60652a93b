package agentcli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	_ "net/http/pprof" // served only with TUSK_DEBUG_PPROF
	"os"
	"runtime"
	"strconv"
	"strings"

	"github.com/tusk-php/tusk/pkg/agent"
	"github.com/tusk-php/tusk/pkg/probes"
)

// runAgent is `tusk-agent run`: defaults < config file < TUSK_* env < flags.
func runAgent(ctx context.Context, args []string, stderr io.Writer) error {
	fs := newFlagSet("run", stderr)
	configFile := fs.String("config", "", "YAML config file (see README)")
	listen := fs.String("listen", "", "API address (default 127.0.0.1:7070)")
	tlsCert := fs.String("tls-cert", "", "serve the API over HTTPS with this certificate (PEM; with --tls-key)")
	tlsKey := fs.String("tls-key", "", "the certificate's private key (PEM)")
	db := fs.String("db", "", "trace database (default /var/lib/tusk/traces.db)")
	tokenFile := fs.String("token-file", "", "API token file, created if missing (default /var/lib/tusk/token)")
	pids := fs.String("pid", "", "trace only these PIDs, comma-separated (a php-fpm master brings its workers)")
	cli := fs.Bool("cli", false, "also trace php-cli processes")
	ring := fs.Int("ring-bytes", 0, "BPF ring buffer size in bytes, a power of two (default 8 MiB)")
	logLevel := fs.String("log-level", "", "debug, info, warn or error")
	requestProbes := fs.String("request-probes", "", "auto (USDT if PHP has them, else uprobes), usdt or uprobe")
	sampleHz := fs.Int("profile-hz", 0, "PHP stack samples per second per CPU (default 99); 0 with --no-profile")
	noProfile := fs.Bool("no-profile", false, "do not sample PHP stacks (no flame graphs)")
	noIO := fs.Bool("no-io", false, "do not time SQL/HTTP/Redis/Memcached calls")
	otlpEndpoint := fs.String("otlp-endpoint", "", "also export traces over OTLP to this endpoint (grpc: host:port or http://host:port; http: http(s)://host:port)")
	otlpProtocol := fs.String("otlp-protocol", "", "OTLP protocol: grpc (default) or http")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected arguments %q", fs.Args())
	}

	capProcessors()
	cfg := agent.DefaultConfig()
	if *configFile != "" {
		if err := cfg.LoadConfigFile(*configFile); err != nil {
			return err
		}
	}
	cfg.ApplyEnv(os.Getenv)
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if set["listen"] {
		cfg.Listen = *listen
	}
	if set["tls-cert"] {
		cfg.TLS.CertFile = *tlsCert
	}
	if set["tls-key"] {
		cfg.TLS.KeyFile = *tlsKey
	}
	if set["db"] {
		cfg.DB = *db
	}
	if set["token-file"] {
		cfg.TokenFile = *tokenFile
		cfg.Token = ""
	}
	if set["cli"] {
		cfg.CLI = *cli
	}
	if set["ring-bytes"] {
		cfg.RingBufferBytes = *ring
	}
	if set["log-level"] {
		cfg.LogLevel = *logLevel
	}
	if set["request-probes"] {
		cfg.RequestProbes = probes.RequestMode(*requestProbes)
	}
	if set["profile-hz"] {
		cfg.Profiling.Hz = *sampleHz
	}
	if set["no-profile"] {
		cfg.Profiling.Enabled = !*noProfile
	}
	if set["no-io"] {
		cfg.IO.Enabled = !*noIO
	}
	if set["otlp-endpoint"] {
		cfg.Export.OTLP.Endpoint = *otlpEndpoint
	}
	if set["otlp-protocol"] {
		cfg.Export.OTLP.Protocol = *otlpProtocol
	}
	if set["pid"] {
		list, err := parsePIDs(*pids)
		if err != nil {
			return usagef("--pid: %v", err)
		}
		cfg.PIDs = list
	}
	level, err := parseLevel(cfg.LogLevel)
	if err != nil {
		return usagef("%v", err)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	a, err := agent.New(cfg, log)
	if err != nil {
		return err
	}
	if err := agent.ApplyCPUPolicy(cfg.CPUPolicy); err != nil {
		log.Warn("could not lower the agent's CPU priority; it runs under the default policy", "error", err)
	}
	if gcPercent, memoryLimit := tuneGC(); gcPercent > 0 || memoryLimit > 0 {
		log.Debug("garbage collector tuned (GOGC / GOMEMLIMIT override)", "gcPercent", gcPercent, "memoryLimitBytes", memoryLimit)
	}
	if addr := os.Getenv("TUSK_DEBUG_PPROF"); addr != "" {
		// Profiling the agent itself: net/http/pprof on a separate,
		// unauthenticated listener, so only when asked for.
		go func() { log.Warn("pprof listener stopped", "error", http.ListenAndServe(addr, nil)) }()
		log.Info("pprof enabled", "addr", addr)
	}
	return a.Run(ctx)
}

func parsePIDs(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		pid, err := strconv.Atoi(f)
		if err != nil || pid <= 0 {
			return nil, fmt.Errorf("%q is not a process id", f)
		}
		out = append(out, pid)
	}
	if len(out) == 0 {
		return nil, errors.New("no process id given")
	}
	return out, nil
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return l, fmt.Errorf("log level %q: want debug, info, warn or error", s)
	}
	return l, nil
}

func versionString() string { return "tusk-agent " + agent.Version }

// capProcessors gives the agent's goroutines two OS threads at a time unless
// GOMAXPROCS says otherwise: its work is one event loop handing traces to one
// store writer, and more Ps than that buy nothing but idle threads woken to
// look for work at every hand-off (Go's default is one P per CPU). One P was
// cheaper still at low rates (WordPress at 13 req/s: 564 → 461 µs of agent
// CPU per page) but starved the event loop while the writer encoded deep
// mode's large traces: at ~435k events/s (bench/ingest) 6.6% of events found
// the ring buffer full; with two, and the event loop's busy pace, none did.
func capProcessors() {
	if os.Getenv("GOMAXPROCS") == "" && runtime.GOMAXPROCS(0) > 2 {
		runtime.GOMAXPROCS(2)
	}
}
