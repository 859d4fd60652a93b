// Package otlpexport sends the agent's traces to any OpenTelemetry (OTLP)
// backend — an OpenTelemetry Collector, Jaeger, Tempo, a vendor — over gRPC
// or HTTP/protobuf, in addition to the local store.
//
// Enqueue never blocks: traces go into a bounded queue, and when it is full
// they are dropped and counted. One worker batches them, sends, and retries
// what the backend could not take for now (unavailable, overloaded, timed
// out) with exponential backoff and jitter, for at most RetryMaxElapsed;
// then the batch is given up and counted as failed. Counters let a caller
// check that every trace is accounted for:
//
//	enqueued = exported + dropped (queue full) + failed + queued
package otlpexport

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Protocols.
const (
	ProtocolGRPC = "grpc"
	ProtocolHTTP = "http" // HTTP/protobuf, POST /v1/traces
)

// Config is export.otlp in the agent's YAML file. An empty Endpoint turns
// export off.
type Config struct {
	// Endpoint: for gRPC "host:port" or "http(s)://host:port"; for HTTP
	// "http(s)://host:port" (/v1/traces is appended when there is no path)
	// or the full URL of the traces endpoint. Without a scheme TLS is used
	// unless Insecure is set; http:// means plaintext.
	Endpoint string `yaml:"endpoint"`
	// Protocol: "grpc" (default) or "http".
	Protocol string `yaml:"protocol"`
	// Headers are sent with every export (gRPC metadata or HTTP headers),
	// e.g. {authorization: "Bearer …"}.
	Headers map[string]string `yaml:"headers"`
	// Insecure sends in plaintext (no TLS).
	Insecure bool `yaml:"insecure"`
	// CAFile is a PEM bundle to verify the backend's certificate with,
	// instead of the system's roots.
	CAFile string `yaml:"ca_file"`
	// Timeout bounds one attempt.
	Timeout time.Duration `yaml:"timeout"`
	// QueueSize is how many traces wait for export; when full, new traces
	// are dropped and counted (PHP and the agent never wait).
	QueueSize int `yaml:"queue_size"`
	// MaxBatchSpans bounds the spans of one export request.
	MaxBatchSpans int `yaml:"max_batch_spans"`
	// RetryMaxElapsed is how long one batch is retried; 0: never.
	RetryMaxElapsed time.Duration `yaml:"retry_max_elapsed"`
}

// DefaultConfig is export off, with the defaults used once an endpoint is set.
func DefaultConfig() Config {
	return Config{
		Protocol:        ProtocolGRPC,
		Timeout:         10 * time.Second,
		QueueSize:       2048,
		MaxBatchSpans:   4096,
		RetryMaxElapsed: 30 * time.Second,
	}
}

// Enabled tells whether an endpoint is configured.
func (c *Config) Enabled() bool { return c.Endpoint != "" }

// Limits of the settings.
const (
	MaxQueueSize     = 1 << 20
	MaxBatchSpansCap = 1 << 20
)

// Validate reports the first setting that cannot work, naming it as in the
// YAML file (the agent prefixes "export.otlp.").
func (c *Config) Validate() error {
	if c.Protocol != ProtocolGRPC && c.Protocol != ProtocolHTTP {
		return fmt.Errorf("protocol %q: want %s or %s", c.Protocol, ProtocolGRPC, ProtocolHTTP)
	}
	if c.Timeout <= 0 {
		return fmt.Errorf("timeout %s: must be positive", c.Timeout)
	}
	if c.QueueSize < 1 || c.QueueSize > MaxQueueSize {
		return fmt.Errorf("queue_size %d is out of range 1..%d", c.QueueSize, MaxQueueSize)
	}
	if c.MaxBatchSpans < 1 || c.MaxBatchSpans > MaxBatchSpansCap {
		return fmt.Errorf("max_batch_spans %d is out of range 1..%d", c.MaxBatchSpans, MaxBatchSpansCap)
	}
	if c.RetryMaxElapsed < 0 {
		return fmt.Errorf("retry_max_elapsed %s: must not be negative", c.RetryMaxElapsed)
	}
	for k := range c.Headers {
		if !validHeaderName(k) {
			return fmt.Errorf("headers: %q is not a valid header name", k)
		}
	}
	if !c.Enabled() {
		return nil
	}
	_, err := c.target()
	return err
}

// target is where and how to connect, resolved from the endpoint.
type target struct {
	grpcAddr string // host:port, for gRPC
	url      string // full traces URL, for HTTP
	tls      bool
}

func (c *Config) target() (target, error) {
	ep := strings.TrimSpace(c.Endpoint)
	bad := func(why string) error {
		if c.Protocol == ProtocolGRPC {
			return fmt.Errorf("endpoint %q: %s (want host:port or http(s)://host:port)", redact(ep), why)
		}
		return fmt.Errorf("endpoint %q: %s (want http(s)://host:port[/path] or host:port)", redact(ep), why)
	}
	var t target
	var u *url.URL
	if strings.Contains(ep, "://") {
		var err error
		if u, err = url.Parse(ep); err != nil {
			return t, bad("not a URL")
		}
		switch u.Scheme {
		case "http":
			if c.CAFile != "" {
				return t, bad("ca_file is set but http:// means no TLS")
			}
		case "https":
			if c.Insecure {
				return t, bad("insecure is set but https:// means TLS")
			}
			t.tls = true
		default:
			return t, bad("scheme must be http or https")
		}
	} else {
		if c.Insecure && c.CAFile != "" {
			return t, bad("insecure and ca_file contradict each other")
		}
		scheme := "https"
		if c.Insecure {
			scheme = "http"
		}
		var err error
		if u, err = url.Parse(scheme + "://" + ep); err != nil {
			return t, bad("not host:port")
		}
		t.tls = !c.Insecure
	}
	if u.Host == "" || u.Hostname() == "" {
		return t, bad("no host")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return t, bad("bad port")
		}
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return t, bad("no query or fragment allowed")
	}
	switch c.Protocol {
	case ProtocolGRPC:
		if u.Port() == "" {
			return t, bad("no port")
		}
		if u.Path != "" && u.Path != "/" {
			return t, bad("gRPC takes no path")
		}
		if u.User != nil {
			return t, bad("no user info allowed; use headers")
		}
		t.grpcAddr = net.JoinHostPort(u.Hostname(), u.Port())
	case ProtocolHTTP:
		if u.Path == "" || u.Path == "/" {
			u.Path = "/v1/traces"
		}
		t.url = u.String()
	}
	return t, nil
}

// redact removes a password from an endpoint shown in messages and status.
func redact(ep string) string {
	u, err := url.Parse(ep)
	if err != nil || u.User == nil {
		return ep
	}
	return u.Redacted()
}

func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r <= ' ' || r >= 0x7f || strings.ContainsRune("()<>@,;:\\\"/[]?={}", r) {
			return false
		}
	}
	return true
}

var errClosed = errors.New("otlp exporter is shut down")
