// Package fleet is the plugin backend's view of the Tusk agents a Grafana
// app or datasource is configured with: their settings, a client for each
// (tokens stay here, never in what the browser gets), and calls fanned out
// to all of them at once with a timeout, so that one slow or dead agent
// costs a notice, not a blank panel.
package fleet

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/tusk-php/tusk/pkg/agentapi"
)

// TokenKeyPrefix + agent name is the secureJsonData key of an agent's
// bearer token, in the app's settings and the datasource's alike.
const TokenKeyPrefix = "token."

// Default and bounds of the per-agent timeout.
const (
	DefaultTimeout = 10 * time.Second
	MaxTimeout     = 5 * time.Minute
)

// AgentSettings is one agent as the settings hold it (jsonData.agents[i]).
type AgentSettings struct {
	Name string `json:"name"`
	URL  string `json:"url"`
	// TLSCACert is a PEM bundle that verifies the agent's certificate when
	// it is not signed by a CA the system trusts.
	TLSCACert string `json:"tlsCACert,omitempty"`
}

// Settings is the jsonData of the app and of the datasource.
type Settings struct {
	Agents         []AgentSettings `json:"agents"`
	TimeoutSeconds float64         `json:"timeoutSeconds,omitempty"`
}

var agentNamePattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// Parse reads jsonData and secureJsonData into a Fleet. Every problem is
// named with the agent it belongs to; an empty jsonData is an empty fleet.
func Parse(jsonData []byte, secure map[string]string) (*Fleet, error) {
	var s Settings
	if len(strings.TrimSpace(string(jsonData))) > 0 {
		if err := json.Unmarshal(jsonData, &s); err != nil {
			return nil, fmt.Errorf("settings are not valid JSON: %w", err)
		}
	}
	timeout := DefaultTimeout
	if s.TimeoutSeconds != 0 {
		timeout = time.Duration(s.TimeoutSeconds * float64(time.Second))
		if timeout <= 0 || timeout > MaxTimeout {
			return nil, fmt.Errorf("timeoutSeconds %g: want more than 0 and at most %g", s.TimeoutSeconds, MaxTimeout.Seconds())
		}
	}
	f := &Fleet{Timeout: timeout}
	seen := map[string]bool{}
	for i, a := range s.Agents {
		if !agentNamePattern.MatchString(a.Name) {
			return nil, fmt.Errorf("agent %d: name %q: use 1 to 64 letters, digits, '.', '_' or '-'", i+1, a.Name)
		}
		if seen[a.Name] {
			return nil, fmt.Errorf("agent %q is configured twice", a.Name)
		}
		seen[a.Name] = true
		agent, err := newAgent(a, secure[TokenKeyPrefix+a.Name], timeout)
		if err != nil {
			return nil, fmt.Errorf("agent %q: %w", a.Name, err)
		}
		f.Agents = append(f.Agents, agent)
	}
	return f, nil
}

func newAgent(s AgentSettings, token string, timeout time.Duration) (*Agent, error) {
	u, err := url.Parse(s.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("URL %q: want http://host:port or https://host:port", s.URL)
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	if s.TLSCACert != "" {
		if u.Scheme != "https" {
			return nil, fmt.Errorf("a CA certificate is set but the URL %q is not https", s.URL)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM([]byte(s.TLSCACert)) {
			return nil, fmt.Errorf("the CA certificate holds no PEM certificate")
		}
		transport.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	client := agentapi.NewClient(s.URL, token)
	// The fan-out bounds each call with its context; this bounds a call
	// made without one.
	client.HTTP = &http.Client{Transport: transport, Timeout: timeout}
	return &Agent{Name: s.Name, URL: client.BaseURL, HasToken: token != "", HasCACert: s.TLSCACert != "", Client: client}, nil
}
