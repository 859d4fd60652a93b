package agent

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDefaultConfigIsValid(t *testing.T) {
	c := DefaultConfig()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:7070" {
		t.Fatalf("the API must listen on loopback by default, got %s", c.Listen)
	}
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestConfigFileThenEnvOverride(t *testing.T) {
	c := DefaultConfig()
	err := c.LoadConfigFile(writeFile(t, "tusk.yaml", `
listen: 127.0.0.1:9999
db: /srv/tusk/traces.db
retention: { max_age: 48h }
services: { www: shop }
deep: { threshold: 5ms, max_depth: 32 }
pids: [12, 13]
`))
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:9999" || c.Retention.MaxAge != 48*time.Hour || c.Retention.MaxBytes != 1<<30 ||
		c.Services["www"] != "shop" || c.Deep.Threshold != 5*time.Millisecond || c.Deep.MaxDepth != 32 || len(c.PIDs) != 2 {
		t.Fatalf("merged config %+v", c)
	}
	env := map[string]string{"TUSK_LISTEN": "127.0.0.1:1", "TUSK_TOKEN": "secret"}
	c.ApplyEnv(func(k string) string { return env[k] })
	if c.Listen != "127.0.0.1:1" || c.Token != "secret" || c.DB != "/srv/tusk/traces.db" {
		t.Fatalf("after env %+v", c)
	}
}

func TestConfigFileErrors(t *testing.T) {
	c := DefaultConfig()
	if err := c.LoadConfigFile(writeFile(t, "typo.yaml", "listne: 127.0.0.1:1\n")); err == nil || !strings.Contains(err.Error(), "listne") {
		t.Fatalf("a misspelt key must be an error naming it: %v", err)
	}
	if err := c.LoadConfigFile(filepath.Join(t.TempDir(), "missing.yaml")); err == nil {
		t.Fatal("missing file accepted")
	}
	if err := c.LoadConfigFile(writeFile(t, "empty.yaml", "")); err != nil {
		t.Fatalf("an empty file is valid: %v", err)
	}
}

func TestValidateNamesTheBadSetting(t *testing.T) {
	for name, mutate := range map[string]func(*Config){
		"listen":        func(c *Config) { c.Listen = "7070" },
		"db":            func(c *Config) { c.DB = "" },
		"retention":     func(c *Config) { c.Retention.MaxBytes = 0 },
		"scan_interval": func(c *Config) { c.ScanInterval = time.Millisecond },
		"max_depth":     func(c *Config) { c.Deep.MaxDepth = 500 },
		"pids":          func(c *Config) { c.PIDs = []int{-4} },
	} {
		c := DefaultConfig()
		mutate(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestTokenIsGeneratedOnceThenRead(t *testing.T) {
	c := DefaultConfig()
	c.TokenFile = filepath.Join(t.TempDir(), "sub", "token")
	tok, generated, err := c.ResolveToken()
	if err != nil || !generated || len(tok) < 32 {
		t.Fatalf("generate: %q %v %v", tok, generated, err)
	}
	if fi, err := os.Stat(c.TokenFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("token file mode: %v %v", fi.Mode(), err)
	}
	again, generated, err := c.ResolveToken()
	if err != nil || generated || again != tok {
		t.Fatalf("second start must read the same token: %q %v %v", again, generated, err)
	}
	c.Token = "from-config"
	if got, _, _ := c.ResolveToken(); got != "from-config" {
		t.Fatalf("a configured token wins, got %q", got)
	}
	c.Token = ""
	if err := os.WriteFile(c.TokenFile, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.ResolveToken(); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Fatalf("empty token file: %v", err)
	}
}

func TestConfigOTLPExport(t *testing.T) {
	c := DefaultConfig()
	if c.Export.OTLP.Enabled() || c.Export.OTLP.Protocol != "grpc" || c.Export.OTLP.QueueSize != 2048 ||
		c.Export.OTLP.MaxBatchSpans != 4096 || c.Export.OTLP.Timeout != 10*time.Second || c.Export.OTLP.RetryMaxElapsed != 30*time.Second {
		t.Fatalf("export defaults %+v", c.Export.OTLP)
	}
	err := c.LoadConfigFile(writeFile(t, "tusk.yaml", `
export:
  otlp:
    endpoint: https://otlp.example.com:4318
    protocol: http
    headers: { authorization: "Bearer abc" }
    timeout: 3s
    queue_size: 100
    retry_max_elapsed: 1m
`))
	if err != nil {
		t.Fatal(err)
	}
	o := c.Export.OTLP
	if o.Endpoint != "https://otlp.example.com:4318" || o.Protocol != "http" || o.Headers["authorization"] != "Bearer abc" ||
		o.Timeout != 3*time.Second || o.QueueSize != 100 || o.MaxBatchSpans != 4096 || o.RetryMaxElapsed != time.Minute {
		t.Fatalf("export %+v", o)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	c.ApplyEnv(func(k string) string { return map[string]string{"TUSK_OTLP_ENDPOINT": "http://127.0.0.1:4318"}[k] })
	if c.Export.OTLP.Endpoint != "http://127.0.0.1:4318" {
		t.Fatalf("TUSK_OTLP_ENDPOINT: %s", c.Export.OTLP.Endpoint)
	}
	if err := c.LoadConfigFile(writeFile(t, "typo.yaml", "export: { otlp: { endpiont: x } }\n")); err == nil || !strings.Contains(err.Error(), "endpiont") {
		t.Fatalf("a misspelt export key must be an error naming it: %v", err)
	}
	for name, mutate := range map[string]func(*Config){
		"export.otlp.protocol":          func(c *Config) { c.Export.OTLP.Protocol = "thrift" },
		"export.otlp.endpoint":          func(c *Config) { c.Export.OTLP.Endpoint = "ftp://x:1" },
		"export.otlp.queue_size":        func(c *Config) { c.Export.OTLP.QueueSize = 0 },
		"export.otlp.max_batch_spans":   func(c *Config) { c.Export.OTLP.MaxBatchSpans = 0 },
		"export.otlp.timeout":           func(c *Config) { c.Export.OTLP.Timeout = 0 },
		"export.otlp.retry_max_elapsed": func(c *Config) { c.Export.OTLP.RetryMaxElapsed = -1 },
	} {
		c := DefaultConfig()
		mutate(&c)
		if err := c.Validate(); err == nil || !strings.HasPrefix(err.Error(), name) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
