//go:build integration

package integration

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tusk-php/tusk/pkg/agentapi"
	"github.com/tusk-php/tusk/pkg/fleet"
	"github.com/tusk-php/tusk/tests/stack"
	"github.com/tusk-php/tusk/tests/testcert"
)

// TestAgentAPIOverTLS: with --tls-cert/--tls-key the API is HTTPS only; a
// client that trusts the certificate (the plugin's agent setting with its
// CA) gets traces, one that does not is refused, and plain HTTP gets no
// data.
func TestAgentAPIOverTLS(t *testing.T) {
	s := startFixture(t, stack.StackOptions{})
	dir := tempDir(t, "tusk-agent-")
	pair := testcert.Write(t, dir, "127.0.0.1")
	a := launchAgent(t, dir, "--pid", fmt.Sprint(s.FPM.MasterPID), "--tls-cert", pair.CertFile, "--tls-key", pair.KeyFile)
	plainURL := a.url
	a.url = strings.Replace(a.url, "http://", "https://", 1)
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pair.CertPEM)
	a.client = agentapi.NewClient(a.url, a.token)
	a.client.HTTP = &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	a.waitTracing(t, s)

	get(t, s, "/status.php")
	a.onlyTrace(t, "/status.php")

	resp, err := http.Get(plainURL + agentapi.PathHealth)
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode < 400 {
			t.Errorf("plain HTTP to the TLS API answered %d", resp.StatusCode)
		}
	}

	settings := func(withCA bool) *fleet.Fleet {
		agent := map[string]string{"name": "tls", "url": a.url}
		if withCA {
			agent["tlsCACert"] = string(pair.CertPEM)
		}
		b, _ := json.Marshal(map[string]any{"agents": []any{agent}})
		f, err := fleet.Parse(b, map[string]string{"token.tls": a.token})
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	if c := fleet.CheckAgent(context.Background(), settings(true).Agents[0]); !c.OK {
		t.Errorf("plugin setting with the agent's CA: %s", c.Message)
	}
	if c := fleet.CheckAgent(context.Background(), settings(false).Agents[0]); c.OK || !strings.Contains(c.Message, "certificate") {
		t.Errorf("plugin setting without the CA: ok=%v %s", c.OK, c.Message)
	}
}
