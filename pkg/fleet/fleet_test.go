package fleet

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestParseSettings(t *testing.T) {
	f, err := Parse([]byte(`{"agents":[{"name":"web-1","url":"http://127.0.0.1:9464/"},{"name":"web.2","url":"https://10.0.0.2:9464"}],"timeoutSeconds":2.5}`),
		map[string]string{"token.web-1": "s3cret", "token.other": "x"})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Agents) != 2 || f.Timeout != 2500*time.Millisecond {
		t.Fatalf("agents %d timeout %s", len(f.Agents), f.Timeout)
	}
	a := f.Agents[0]
	if a.Name != "web-1" || a.URL != "http://127.0.0.1:9464" || !a.HasToken || a.Client.Token != "s3cret" {
		t.Errorf("agent 1: %+v token %q", a, a.Client.Token)
	}
	if f.Agents[1].HasToken || f.Agents[1].Client.Token != "" {
		t.Error("agent 2 got a token that belongs to no agent of that name")
	}
	empty, err := Parse(nil, nil)
	if err != nil || len(empty.Agents) != 0 || empty.Timeout != DefaultTimeout {
		t.Errorf("empty settings: %+v, %v", empty, err)
	}
}

func TestParseSettingsRefusesWithOneClearError(t *testing.T) {
	for in, want := range map[string]string{
		`{`: "not valid JSON",
		`{"agents":[{"name":"","url":"http://a"}]}`:                                  `agent 1: name ""`,
		`{"agents":[{"name":"a b","url":"http://a"}]}`:                               `name "a b"`,
		`{"agents":[{"name":"a","url":"http://a:1"},{"name":"a","url":"http://b"}]}`: `agent "a" is configured twice`,
		`{"agents":[{"name":"a","url":"ftp://a"}]}`:                                  `agent "a": URL "ftp://a"`,
		`{"agents":[{"name":"a","url":"127.0.0.1:9464"}]}`:                           `want http://host:port`,
		`{"agents":[{"name":"a","url":"http://a","tlsCACert":"x"}]}`:                 "not https",
		`{"agents":[{"name":"a","url":"https://a","tlsCACert":"not a pem"}]}`:        "no PEM certificate",
		`{"timeoutSeconds":-1}`:                                                      "timeoutSeconds -1",
		`{"timeoutSeconds":9999}`:                                                    "timeoutSeconds 9999",
	} {
		_, err := Parse([]byte(in), nil)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want it to contain %q", in, err, want)
		}
	}
}

func TestSelect(t *testing.T) {
	f, _ := Parse([]byte(`{"agents":[{"name":"a","url":"http://a"},{"name":"b","url":"http://b"}]}`), nil)
	if got, err := f.Select(""); err != nil || len(got) != 2 {
		t.Errorf("all: %d, %v", len(got), err)
	}
	if got, err := f.Select("b"); err != nil || len(got) != 1 || got[0].Name != "b" {
		t.Errorf("b: %v, %v", got, err)
	}
	if _, err := f.Select("c"); err == nil || !strings.Contains(err.Error(), "configured: a, b") {
		t.Errorf("unknown agent: %v", err)
	}
	none, _ := Parse(nil, nil)
	if _, err := none.Select(""); err == nil || !strings.Contains(err.Error(), "no Tusk agent is configured") {
		t.Errorf("no agents: %v", err)
	}
}

// TestEachBoundsSlowAgents: a hung agent costs the timeout, not the call,
// and the others' answers come back with it.
func TestEachBoundsSlowAgents(t *testing.T) {
	release := make(chan struct{})
	hung := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer hung.Close()
	defer close(release)
	fast := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"status":"ok"}`))
	}))
	defer fast.Close()
	f, err := Parse([]byte(`{"agents":[{"name":"hung","url":"`+hung.URL+`"},{"name":"fast","url":"`+fast.URL+`"}],"timeoutSeconds":0.3}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	results := Each(context.Background(), f.Agents, f.Timeout, func(ctx context.Context, a *Agent) (bool, error) {
		return true, a.Client.Health(ctx)
	})
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("took %s with a 300ms timeout", took)
	}
	if results[0].Err == nil || !strings.Contains(results[0].Err.Error(), "no answer within 300ms") {
		t.Errorf("hung agent: %v", results[0].Err)
	}
	if results[1].Err != nil || results[1].Agent.Name != "fast" {
		t.Errorf("fast agent: %+v", results[1])
	}
	if fs := Failures(results); len(fs) != 1 || !strings.HasPrefix(fs[0], "agent hung: ") {
		t.Errorf("failures %q", fs)
	}
}

// TestCheckExplainsTokenAndConnectionProblems: the test-connection answer
// says which fix is needed.
func TestCheckExplainsTokenAndConnectionProblems(t *testing.T) {
	agent := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer right" {
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"error":"missing or wrong token"}`))
			return
		}
		w.Write([]byte(`{"version":"1.2.3","host":"web-1","binaries":[{"version":"8.2.29","mode":"usdt","pools":[{"name":"www","workerPids":[1,2]}]}],"events":{"lost":3}}`))
	}))
	defer agent.Close()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadURL := "http://" + l.Addr().String()
	l.Close()

	settings := `{"agents":[{"name":"ok","url":"` + agent.URL + `"},{"name":"wrong","url":"` + agent.URL + `"},{"name":"none","url":"` + agent.URL + `"},{"name":"dead","url":"` + deadURL + `"}]}`
	f, err := Parse([]byte(settings), map[string]string{"token.ok": "right", "token.wrong": "nope"})
	if err != nil {
		t.Fatal(err)
	}
	checks := f.CheckAll(context.Background())
	want := []struct {
		ok  bool
		msg string
	}{
		{true, "agent 1.2.3 on web-1: 1 PHP binaries, 1 pools, 2 workers (PHP 8.2.29 usdt); 3 events lost"},
		{false, "refused the token"},
		{false, "wants a token and none is set"},
		{false, "no connection to " + deadURL},
	}
	for i, w := range want {
		if checks[i].OK != w.ok || !strings.Contains(checks[i].Message, w.msg) {
			t.Errorf("%s: ok=%v %q, want ok=%v and %q", checks[i].Name, checks[i].OK, checks[i].Message, w.ok, w.msg)
		}
	}
	if checks[0].Version != "1.2.3" || checks[0].Host != "web-1" || checks[0].Status == nil {
		t.Errorf("ok check: %+v", checks[0])
	}
	msg, all := Summarize(checks)
	if all || !strings.HasPrefix(msg, "1 of 4 agents answered\nok: OK") {
		t.Errorf("summary %v %q", all, msg)
	}
	if _, all := Summarize(nil); all {
		t.Error("no agents summarised as healthy")
	}
}

// TestAgentCACertVerifiesTLS: with the agent's CA the check passes; without
// it, the system roots refuse the self-signed certificate.
func TestAgentCACertVerifiesTLS(t *testing.T) {
	agent := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"version":"1","host":"tls"}`))
	}))
	defer agent.Close()
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: agent.Certificate().Raw})
	withCA, _ := json.Marshal(Settings{Agents: []AgentSettings{{Name: "tls", URL: agent.URL, TLSCACert: string(caPEM)}}})
	f, err := Parse(withCA, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c := CheckAgent(context.Background(), f.Agents[0]); !c.OK {
		t.Errorf("with the CA: %s", c.Message)
	}
	without, _ := Parse([]byte(`{"agents":[{"name":"tls","url":"`+agent.URL+`"}]}`), nil)
	if c := CheckAgent(context.Background(), without.Agents[0]); c.OK || !strings.Contains(c.Message, "certificate") {
		t.Errorf("without the CA: ok=%v %q", c.OK, c.Message)
	}
}
