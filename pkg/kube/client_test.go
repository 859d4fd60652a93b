package kube

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

const (
	fixtureNode  = "worker-1"
	fixtureToken = "eyJhbGciOiJSUzI1NiIsImtpZCI6InR1c2sifQ.test.token"
)

func readFixture(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/podlist.json")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The hand-written fixture is in the exact shape of the API: it decodes
// into k8s.io/api's PodList with no unknown field.
func TestFixtureIsAStrictPodList(t *testing.T) {
	dec := json.NewDecoder(bytes.NewReader(readFixture(t)))
	dec.DisallowUnknownFields()
	var list corev1.PodList
	if err := dec.Decode(&list); err != nil {
		t.Fatalf("testdata/podlist.json is not a v1 PodList: %v", err)
	}
	if list.Kind != "PodList" || len(list.Items) != 4 {
		t.Fatalf("kind %q, %d items", list.Kind, len(list.Items))
	}
	for _, p := range list.Items {
		if p.Spec.NodeName != fixtureNode {
			t.Errorf("pod %s is on node %q", p.Name, p.Spec.NodeName)
		}
	}
}

// fakeAPI is an API server over TLS that serves pod lists.
type fakeAPI struct {
	*httptest.Server
	caFile, tokenFile string
	calls             atomic.Int64
	handler           atomic.Pointer[http.HandlerFunc]
}

func newFakeAPI(t *testing.T, h http.HandlerFunc) *fakeAPI {
	t.Helper()
	f := &fakeAPI{}
	f.handler.Store(&h)
	f.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.calls.Add(1)
		(*f.handler.Load())(w, r)
	}))
	t.Cleanup(f.Close)
	dir := t.TempDir()
	f.caFile = filepath.Join(dir, "ca.crt")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.Certificate().Raw})
	if err := os.WriteFile(f.caFile, pemBytes, 0o644); err != nil {
		t.Fatal(err)
	}
	f.tokenFile = filepath.Join(dir, "token")
	if err := os.WriteFile(f.tokenFile, []byte(fixtureToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fakeAPI) client(t *testing.T, timeout time.Duration) *Client {
	t.Helper()
	c, err := NewClient(Config{Server: f.URL, TokenFile: f.tokenFile, CAFile: f.caFile, Node: fixtureNode, Namespace: "tusk-system", Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// servePods answers like the API server: it checks the request the agent
// makes and serves body.
func servePods(t *testing.T, body []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		switch {
		case r.Method != http.MethodGet || r.URL.Path != "/api/v1/pods":
			t.Errorf("request %s %s", r.Method, r.URL.Path)
		case q.Get("fieldSelector") != "spec.nodeName="+fixtureNode:
			t.Errorf("fieldSelector %q", q.Get("fieldSelector"))
		case q.Get("resourceVersion") != "0":
			t.Errorf("resourceVersion %q: the list must come from the watch cache", q.Get("resourceVersion"))
		case r.Header.Get("Authorization") != "Bearer "+fixtureToken:
			t.Errorf("Authorization %q", r.Header.Get("Authorization"))
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	}
}

func TestListPodsFromTheFixture(t *testing.T) {
	api := newFakeAPI(t, servePods(t, readFixture(t)))
	pods, err := api.client(t, 0).ListPods(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(pods) != 4 {
		t.Fatalf("%d pods", len(pods))
	}
	wp := pods[0]
	if wp.UID != "7f3e9c1a-2b4d-4e8f-9a6b-1c2d3e4f5a6b" || wp.Name != "wordpress-6d9f7c8b5-x2k9p" || wp.Namespace != "shop" ||
		wp.Node != fixtureNode || wp.Labels["app"] != "wordpress" {
		t.Errorf("wordpress pod %+v", wp)
	}
	if got := wp.ContainerName("2511bf38478b6bbec215dab1192392b6b6d8996445883259c9ae276fe26cde43"); got != "php-fpm" {
		t.Errorf("php-fpm container: %q (containers %v)", got, wp.Containers)
	}
	if got := wp.ContainerName("f60a276b9b525ff134722c350ed2057f61c0f4644ba7b88d45189e74ee2a3443"); got != "nginx" {
		t.Errorf("nginx container: %q", got)
	}
	if static := pods[2]; static.MirrorOf != "9e2b1f0c8d7a6b5c4d3e2f1a0b9c8d7e" {
		t.Errorf("static pod's mirror annotation: %+v", static)
	}
	job := pods[3]
	if got := job.ContainerName("add65bf9947825eb8ffb732fa8019bb78286722c33ba2917fe9d559795704669"); got != "wait-db" {
		t.Errorf("init container: %q", got)
	}
	if len(job.Containers) != 1 {
		t.Errorf("a container still being created has no ID yet: %v", job.Containers)
	}
}

// apiStatus is the body the API server sends with an error.
func apiStatus(code int, reason, message string) []byte {
	b, _ := json.Marshal(map[string]any{
		"kind": "Status", "apiVersion": "v1", "metadata": map[string]any{},
		"status": "Failure", "message": message, "reason": reason, "details": map[string]any{"kind": "pods"}, "code": code,
	})
	return b
}

func TestListPodsRefused(t *testing.T) {
	for _, tc := range []struct {
		code          int
		reason, msg   string
		wantForbidden bool
		want          []string
	}{
		{http.StatusUnauthorized, "Unauthorized", "Unauthorized", true,
			[]string{"401 Unauthorized", "token", "retrying later"}},
		{http.StatusForbidden, "Forbidden",
			`pods is forbidden: User "system:serviceaccount:tusk-system:tusk-agent" cannot list resource "pods" in API group "" at the cluster scope`, true,
			[]string{"403 Forbidden", `cannot list resource "pods"`, "deploy/kubernetes/rbac.yaml", "get/list/watch", "tusk-system", "worker-1", "retrying later"}},
		{http.StatusInternalServerError, "InternalError", "etcdserver: request timed out", false,
			[]string{"500", "etcdserver: request timed out"}},
	} {
		t.Run(fmt.Sprint(tc.code), func(t *testing.T) {
			api := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tc.code)
				w.Write(apiStatus(tc.code, tc.reason, tc.msg))
			})
			_, err := api.client(t, 0).ListPods(context.Background())
			var apiErr *APIError
			if !errors.As(err, &apiErr) || apiErr.Code != tc.code || apiErr.Forbidden() != tc.wantForbidden {
				t.Fatalf("error %v", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q does not say %q", err, w)
				}
			}
		})
	}
}

func TestListPodsTimesOut(t *testing.T) {
	release := make(chan struct{})
	api := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	start := time.Now()
	_, err := api.client(t, 300*time.Millisecond).ListPods(context.Background())
	if err == nil {
		t.Fatal("no error from an API that never answers")
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("gave up after %s, the timeout is 300ms", took)
	}
	if !errors.Is(err, context.DeadlineExceeded) && !strings.Contains(err.Error(), "Timeout") {
		t.Errorf("error does not say it timed out: %v", err)
	}
}

func TestListPodsChecksTheServerCertificate(t *testing.T) {
	api := newFakeAPI(t, servePods(t, readFixture(t)))
	// Every httptest server has the same certificate: make another CA.
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "other-cluster-ca"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	otherCA := filepath.Join(t.TempDir(), "ca.crt")
	if err := os.WriteFile(otherCA, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := NewClient(Config{Server: api.URL, TokenFile: api.tokenFile, CAFile: otherCA, Node: fixtureNode})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListPods(context.Background()); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("a server not signed by the cluster CA was trusted: %v", err)
	}
	if api.calls.Load() != 0 {
		t.Fatal("the request reached an untrusted server")
	}
}

func TestListPodsRereadsARotatedToken(t *testing.T) {
	var seen []string
	api := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r.Header.Get("Authorization"))
		w.Write([]byte(`{"kind":"PodList","apiVersion":"v1","metadata":{},"items":[]}`))
	})
	c := api.client(t, 0)
	if _, err := c.ListPods(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(api.tokenFile, []byte("rotated"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListPods(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 2 || seen[0] != "Bearer "+fixtureToken || seen[1] != "Bearer rotated" {
		t.Fatalf("tokens sent: %q", seen)
	}
}

func TestListPodsFollowsContinueTokens(t *testing.T) {
	api := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		cont := r.URL.Query().Get("continue")
		next := map[string]string{"": "page2", "page2": "page3", "page3": ""}[cont]
		fmt.Fprintf(w, `{"kind":"PodList","apiVersion":"v1","metadata":{"continue":%q},"items":[{"metadata":{"name":"p-%s","namespace":"ns","uid":"u-%s"}}]}`,
			next, cont, cont)
	})
	pods, err := api.client(t, 0).ListPods(context.Background())
	if err != nil || len(pods) != 3 || pods[2].Name != "p-page3" {
		t.Fatalf("%v %+v", err, pods)
	}
}

// manyPods builds a PodList of n pods from the fixture's first one, each
// with its own name, UID and container IDs.
func manyPods(t testing.TB, n int) []byte {
	t.Helper()
	var list map[string]any
	if err := json.Unmarshal(readFixture(t), &list); err != nil {
		t.Fatal(err)
	}
	tmpl, err := json.Marshal(list["items"].([]any)[0])
	if err != nil {
		t.Fatal(err)
	}
	items := make([]any, n)
	for i := range items {
		s := string(tmpl)
		s = strings.ReplaceAll(s, "wordpress-6d9f7c8b5-x2k9p", fmt.Sprintf("wordpress-6d9f7c8b5-%05d", i))
		s = strings.ReplaceAll(s, "7f3e9c1a-2b4d-4e8f-9a6b-1c2d3e4f5a6b", podUIDFor(i))
		s = strings.ReplaceAll(s, "2511bf38478b6bbec215dab1192392b6b6d8996445883259c9ae276fe26cde43", containerIDFor(i, 0))
		s = strings.ReplaceAll(s, "f60a276b9b525ff134722c350ed2057f61c0f4644ba7b88d45189e74ee2a3443", containerIDFor(i, 1))
		var item any
		if err := json.Unmarshal([]byte(s), &item); err != nil {
			t.Fatal(err)
		}
		items[i] = item
	}
	list["items"] = items
	b, err := json.Marshal(list)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func podUIDFor(i int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", i) }

func containerIDFor(i, c int) string { return fmt.Sprintf("%062d%02d", i, c) }

func TestListThreeHundredPods(t *testing.T) {
	body := manyPods(t, 300)
	t.Logf("a PodList of 300 pods is %d KiB", len(body)>>10)
	api := newFakeAPI(t, servePods(t, body))
	start := time.Now()
	pods, err := api.client(t, 0).ListPods(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("listed and decoded in %s", time.Since(start).Round(time.Millisecond))
	if len(pods) != 300 {
		t.Fatalf("%d pods", len(pods))
	}
	seen := map[string]bool{}
	for i, p := range pods {
		if p.UID != podUIDFor(i) || p.ContainerName(containerIDFor(i, 0)) != "php-fpm" || seen[p.UID] {
			t.Fatalf("pod %d: %+v", i, p)
		}
		seen[p.UID] = true
	}
}

func TestConfigFromEnv(t *testing.T) {
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	if _, err := ConfigFromEnv(env()); !errors.Is(err, ErrNotInCluster) {
		t.Fatalf("no cluster env: %v", err)
	}
	c, err := ConfigFromEnv(env(EnvServiceHost, "10.96.0.1", EnvServicePort, "443", EnvNodeName, "worker-1"))
	if err != nil || c.Server != "https://10.96.0.1:443" || c.Node != "worker-1" ||
		c.TokenFile != ServiceAccountDir+"/token" || c.CAFile != ServiceAccountDir+"/ca.crt" {
		t.Fatalf("in cluster: %+v %v", c, err)
	}
	c, err = ConfigFromEnv(env(EnvServiceHost, "fd00::1", EnvServicePort, "6443", EnvNodeName, "n"))
	if err != nil || c.Server != "https://[fd00::1]:6443" {
		t.Fatalf("IPv6: %+v %v", c, err)
	}
	c, err = ConfigFromEnv(env(EnvAPIURL, "https://127.0.0.1:9443/", EnvTokenFile, "/tmp/t", EnvCAFile, "/tmp/ca", EnvNodeName, "n"))
	if err != nil || c.Server != "https://127.0.0.1:9443" || c.TokenFile != "/tmp/t" || c.CAFile != "/tmp/ca" {
		t.Fatalf("overrides: %+v %v", c, err)
	}
	if _, err := ConfigFromEnv(env(EnvServiceHost, "10.96.0.1")); err == nil || errors.Is(err, ErrNotInCluster) ||
		!strings.Contains(err.Error(), "NODE_NAME") || !strings.Contains(err.Error(), "spec.nodeName") {
		t.Fatalf("missing NODE_NAME: %v", err)
	}
}

func TestNewClientChecksItsConfig(t *testing.T) {
	for _, c := range []Config{
		{Server: "10.96.0.1:443", Node: "n"},
		{Server: "ftp://x", Node: "n"},
		{Server: "https://x"},
		{Server: "https://x", Node: "n", CAFile: "/nonexistent/ca.crt"},
	} {
		if _, err := NewClient(c); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
}
