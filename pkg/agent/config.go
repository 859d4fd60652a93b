package agent

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/tusk-php/tusk/pkg/otlpexport"
	"github.com/tusk-php/tusk/pkg/probes"
)

// Config is the agent's configuration: defaults, then the YAML file, then
// TUSK_* environment variables, then command-line flags (cmd/tusk-agent).
type Config struct {
	// Listen is the API address. Loopback by default: the API hands out
	// request URLs and deep-mode control.
	Listen string `yaml:"listen"`
	// TLS serves the API over HTTPS when both files are set (PEM); the
	// files are read again when they change.
	TLS struct {
		CertFile string `yaml:"cert_file"`
		KeyFile  string `yaml:"key_file"`
	} `yaml:"tls"`
	// Token authenticates API calls. When empty it is read from TokenFile,
	// which is created with a random token if missing.
	Token     string `yaml:"token"`
	TokenFile string `yaml:"token_file"`

	DB        string `yaml:"db"`
	Retention struct {
		MaxAge   time.Duration `yaml:"max_age"`
		MaxBytes int64         `yaml:"max_bytes"`
	} `yaml:"retention"`

	RingBufferBytes int           `yaml:"ring_buffer_bytes"`
	ScanInterval    time.Duration `yaml:"scan_interval"`
	// CLI also traces php-cli processes (each script run is a "request").
	CLI bool `yaml:"cli"`
	// PIDs limits tracing to these processes (a php-fpm master brings its
	// workers); empty traces every PHP process found.
	PIDs []int `yaml:"pids"`
	// Services maps a php-fpm pool name to the service.name its traces get;
	// unmapped pools use their own name.
	Services map[string]string `yaml:"services"`
	Host     string            `yaml:"host"`

	Deep struct {
		Threshold time.Duration `yaml:"threshold"`
		MaxDepth  int           `yaml:"max_depth"`
	} `yaml:"deep"`

	// RequestProbes: "auto" (USDT when PHP has them, else uprobes on
	// php_request_startup/shutdown), "usdt" or "uprobe".
	RequestProbes probes.RequestMode `yaml:"request_probes"`

	// IO times SQL, HTTP, Redis and Memcached calls with their PHP call site.
	IO struct {
		Enabled bool `yaml:"enabled"`
		// SQLMaxLength truncates statement text (BPF copies at most 2047
		// bytes). Parameters of prepared statements are never captured.
		SQLMaxLength int `yaml:"sql_max_length"`
		// RepeatThreshold flags a request running the same normalised
		// statement from the same call site this many times (N+1).
		RepeatThreshold int `yaml:"repeat_threshold"`
		// MaxSpans bounds the I/O spans kept per request; the rest are
		// counted on the request span.
		MaxSpans int `yaml:"max_spans"`
		// Wrappers: "Class::method" or function prefixes of the
		// application's own database/HTTP wrappers; the call site shown is
		// the first frame outside them (wpdb, Doctrine, Laravel, Drupal,
		// Guzzle and Composer's vendor/ are known already).
		Wrappers []string `yaml:"wrappers"`
	} `yaml:"io"`

	// Profiling is the PHP stack sampler behind flame graphs.
	Profiling struct {
		Enabled bool `yaml:"enabled"`
		// Hz is the sampling frequency per CPU.
		Hz int `yaml:"hz"`
	} `yaml:"profiling"`

	// Metrics shapes the Prometheus endpoint (GET /metrics).
	Metrics struct {
		// MaxEndpoints bounds the distinct endpoint label values per
		// (service, pool) of the tusk_php_request_* metrics; later ones
		// are counted as endpoint="other". 0 drops the endpoint label
		// (endpoint="", one series per pool).
		MaxEndpoints int `yaml:"max_endpoints"`
	} `yaml:"metrics"`

	// Export sends every trace to an OTLP backend as well as to the local
	// store (off while export.otlp.endpoint is empty).
	Export struct {
		OTLP otlpexport.Config `yaml:"otlp"`
	} `yaml:"export"`

	// Kubernetes attributes PHP processes to pods and chooses which pods
	// are traced (kubeconfig.go).
	Kubernetes KubernetesConfig `yaml:"kubernetes"`

	// CPUPolicy is the Linux scheduling policy of the agent's threads:
	// "batch" (the default: a fair share of CPU, but a woken agent does not
	// preempt a PHP request), "normal", or "idle" (only CPU nothing else
	// wants; events are lost if the machine stays saturated longer than the
	// ring buffer lasts).
	CPUPolicy string `yaml:"cpu_policy"`

	LogLevel string `yaml:"log_level"`
}

// DefaultConfig is what the agent runs with when nothing is configured.
func DefaultConfig() Config {
	var c Config
	c.Listen = "127.0.0.1:7070"
	c.TokenFile = "/var/lib/tusk/token"
	c.DB = "/var/lib/tusk/traces.db"
	c.Retention.MaxAge = 7 * 24 * time.Hour
	c.Retention.MaxBytes = 1 << 30
	c.RingBufferBytes = probes.DefaultRingBytes
	c.ScanInterval = 2 * time.Second
	c.Deep.Threshold = time.Millisecond
	c.Deep.MaxDepth = 64
	c.RequestProbes = probes.ModeAuto
	c.IO.Enabled = true
	c.IO.SQLMaxLength = 1024
	c.IO.RepeatThreshold = 5
	c.IO.MaxSpans = 1000
	c.Profiling.Enabled = true
	c.Profiling.Hz = 99
	c.Metrics.MaxEndpoints = 100
	c.Export.OTLP = otlpexport.DefaultConfig()
	c.Kubernetes = defaultKubernetesConfig()
	c.CPUPolicy = "batch"
	c.LogLevel = "info"
	return c
}

// maxSQLLength is what the BPF program copies (TUSK_IO_TEXT − 1).
const maxSQLLength = 2047

// LoadConfigFile merges a YAML file into c. Unknown keys are an error, so
// a typo does not silently fall back to a default.
func (c *Config) LoadConfigFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	dec.KnownFields(true)
	// An empty file decodes to io.EOF: it is valid and changes nothing.
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("config %s: %w", path, err)
	}
	return nil
}

// ApplyEnv reads TUSK_TOKEN, TUSK_LISTEN, TUSK_DB, TUSK_OTLP_ENDPOINT and
// TUSK_CPU_POLICY.
func (c *Config) ApplyEnv(getenv func(string) string) {
	if v := getenv("TUSK_TOKEN"); v != "" {
		c.Token = v
	}
	if v := getenv("TUSK_LISTEN"); v != "" {
		c.Listen = v
	}
	if v := getenv("TUSK_DB"); v != "" {
		c.DB = v
	}
	if v := getenv("TUSK_OTLP_ENDPOINT"); v != "" {
		c.Export.OTLP.Endpoint = v
	}
	if v := getenv("TUSK_CPU_POLICY"); v != "" {
		c.CPUPolicy = v
	}
}

// Validate reports the first setting that cannot work.
func (c *Config) Validate() error {
	if (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
		return fmt.Errorf("tls: set both cert_file and key_file, or neither")
	}
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		return fmt.Errorf("listen %q: want host:port (%v)", c.Listen, err)
	}
	if c.DB == "" {
		return errors.New("db: a path for the trace database is required")
	}
	if c.Retention.MaxAge <= 0 || c.Retention.MaxBytes <= 0 {
		return errors.New("retention: max_age and max_bytes must be positive")
	}
	if c.ScanInterval < 100*time.Millisecond {
		return fmt.Errorf("scan_interval %s is too short (at least 100ms)", c.ScanInterval)
	}
	if c.Deep.Threshold < 0 || c.Deep.MaxDepth < 1 || c.Deep.MaxDepth > 128 {
		return fmt.Errorf("deep: threshold must be ≥ 0 and max_depth within 1..128 (got %s, %d)", c.Deep.Threshold, c.Deep.MaxDepth)
	}
	if _, err := probes.ParseRequestMode(string(c.RequestProbes)); err != nil {
		return err
	}
	if _, ok := cpuPolicies[c.CPUPolicy]; !ok {
		return fmt.Errorf("cpu_policy %q: want normal, batch or idle", c.CPUPolicy)
	}
	if c.IO.SQLMaxLength < 16 || c.IO.SQLMaxLength > maxSQLLength {
		return fmt.Errorf("io.sql_max_length %d is out of range 16..%d", c.IO.SQLMaxLength, maxSQLLength)
	}
	if c.IO.RepeatThreshold < 2 {
		return fmt.Errorf("io.repeat_threshold %d: at least 2", c.IO.RepeatThreshold)
	}
	if c.IO.MaxSpans < 1 {
		return fmt.Errorf("io.max_spans %d: at least 1", c.IO.MaxSpans)
	}
	if c.Profiling.Hz < 1 || c.Profiling.Hz > probes.MaxSampleHz {
		return fmt.Errorf("profiling.hz %d is out of range 1..%d", c.Profiling.Hz, probes.MaxSampleHz)
	}
	if c.Metrics.MaxEndpoints < 0 {
		return fmt.Errorf("metrics.max_endpoints %d: 0 (no endpoint label) or more", c.Metrics.MaxEndpoints)
	}
	if err := c.Export.OTLP.Validate(); err != nil {
		return fmt.Errorf("export.otlp.%w", err)
	}
	for _, p := range c.PIDs {
		if p <= 0 {
			return fmt.Errorf("pids: %d is not a process id", p)
		}
	}
	if err := c.Kubernetes.Validate(); err != nil {
		return err
	}
	return nil
}

// ResolveToken returns the API token: configured, read from TokenFile, or
// generated into TokenFile (0600) on first start.
func (c *Config) ResolveToken() (token string, generated bool, err error) {
	if c.Token != "" {
		return c.Token, false, nil
	}
	if c.TokenFile == "" {
		return "", false, errors.New("no API token: set token, token_file or TUSK_TOKEN")
	}
	b, err := os.ReadFile(c.TokenFile)
	if err == nil {
		t := strings.TrimSpace(string(b))
		if t == "" {
			return "", false, fmt.Errorf("token file %s is empty", c.TokenFile)
		}
		return t, false, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", false, fmt.Errorf("token file: %w", err)
	}
	raw := make([]byte, 24)
	if _, err := rand.Read(raw); err != nil {
		return "", false, err
	}
	t := hex.EncodeToString(raw)
	if err := os.MkdirAll(filepath.Dir(c.TokenFile), 0o700); err != nil {
		return "", false, fmt.Errorf("token file: %w", err)
	}
	if err := os.WriteFile(c.TokenFile, []byte(t+"\n"), 0o600); err != nil {
		return "", false, fmt.Errorf("token file: %w", err)
	}
	return t, true, nil
}
