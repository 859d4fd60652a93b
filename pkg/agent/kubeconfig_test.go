package agent

import (
	"bytes"
	"context"
	"encoding/pem"
	"log/slog"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/tusk-php/tusk/pkg/discover"
	"github.com/tusk-php/tusk/pkg/kube"
	"github.com/tusk-php/tusk/pkg/trace"
)

func TestKubernetesDefaults(t *testing.T) {
	c := DefaultConfig()
	if c.Kubernetes.Enabled != KubeAuto || !slices.Equal(c.Kubernetes.ExcludeNamespaces, []string{"kube-system"}) ||
		len(c.Kubernetes.Namespaces) != 0 || c.Kubernetes.PodSelector != "" {
		t.Fatalf("defaults %+v", c.Kubernetes)
	}
}

func TestKubernetesConfigFile(t *testing.T) {
	c := DefaultConfig()
	err := c.LoadConfigFile(writeFile(t, "tusk.yaml", `
kubernetes:
  enabled: true
  namespaces: [shop, blog]
  exclude_namespaces: []
  pod_selector: "app=wordpress,tier!=batch"
`))
	if err != nil {
		t.Fatal(err)
	}
	k := c.Kubernetes
	if k.Enabled != KubeOn || !slices.Equal(k.Namespaces, []string{"shop", "blog"}) || len(k.ExcludeNamespaces) != 0 ||
		k.PodSelector != "app=wordpress,tier!=batch" {
		t.Fatalf("kubernetes %+v", k)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	for text, want := range map[string]KubeMode{
		"kubernetes: {enabled: false}":    KubeOff,
		"kubernetes: {enabled: auto}":     KubeAuto,
		"kubernetes: {enabled: \"true\"}": KubeOn,
		"kubernetes: {enabled: TRUE}":     KubeOn,
		// Only the filter: enabled keeps its default.
		"kubernetes: {pod_selector: app=shop}": KubeAuto,
	} {
		c := DefaultConfig()
		if err := c.LoadConfigFile(writeFile(t, "k.yaml", text)); err != nil || c.Kubernetes.Enabled != want {
			t.Errorf("%s: %q %v, want %q", text, c.Kubernetes.Enabled, err, want)
		}
	}
	c = DefaultConfig()
	if err := c.LoadConfigFile(writeFile(t, "typo.yaml", "kubernetes: {namespace: [shop]}\n")); err == nil || !strings.Contains(err.Error(), "namespace") {
		t.Fatalf("a misspelt key must be an error naming it: %v", err)
	}
	c = DefaultConfig()
	if err := c.LoadConfigFile(writeFile(t, "list.yaml", "kubernetes: {enabled: [true]}\n")); err == nil || !strings.Contains(err.Error(), "kubernetes.enabled") {
		t.Fatalf("enabled as a list: %v", err)
	}
}

func TestKubernetesValidateNamesTheBadSetting(t *testing.T) {
	for name, mutate := range map[string]func(*Config){
		"kubernetes.enabled":                func(c *Config) { c.Kubernetes.Enabled = "yes" },
		"namespaces":                        func(c *Config) { c.Kubernetes.Namespaces = []string{"Shop"} },
		"exclude_namespaces":                func(c *Config) { c.Kubernetes.ExcludeNamespaces = []string{"kube_system"} },
		"both in namespaces and in exclude": func(c *Config) { c.Kubernetes.Namespaces = []string{"kube-system"} },
		"pod_selector":                      func(c *Config) { c.Kubernetes.PodSelector = "app in (wordpress)" },
		"pod_selector \"app=\"":             func(c *Config) { c.Kubernetes.PodSelector = "=x" },
	} {
		c := DefaultConfig()
		mutate(&c)
		err := c.Validate()
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if want := strings.Fields(name)[0]; !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func envOf(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

func TestKubernetesAttributionOnlyInACluster(t *testing.T) {
	var logBuf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logBuf, nil))
	cfg := defaultKubernetesConfig()

	k, err := newKubeAttribution(cfg, envOf(), log)
	if k != nil || err != nil {
		t.Fatalf("auto outside a cluster: %v %v", k, err)
	}
	if n := strings.Count(logBuf.String(), "pod attribution off"); n != 1 || !strings.Contains(logBuf.String(), "level=INFO") {
		t.Fatalf("want one info line:\n%s", logBuf.String())
	}

	on := cfg
	on.Enabled = KubeOn
	if _, err := newKubeAttribution(on, envOf(), log); err == nil || !strings.Contains(err.Error(), "KUBERNETES_SERVICE_HOST") {
		t.Fatalf("enabled: true outside a cluster: %v", err)
	}

	logBuf.Reset()
	k, err = newKubeAttribution(cfg, envOf(kube.EnvServiceHost, "10.96.0.1", kube.EnvServicePort, "443"), log)
	if k != nil || err != nil || !strings.Contains(logBuf.String(), "NODE_NAME") || !strings.Contains(logBuf.String(), "level=WARN") {
		t.Fatalf("in a pod without NODE_NAME: %v %v\n%s", k, err, logBuf.String())
	}
	if _, err := newKubeAttribution(on, envOf(kube.EnvServiceHost, "10.96.0.1"), log); err == nil || !strings.Contains(err.Error(), "NODE_NAME") {
		t.Fatalf("enabled: true without NODE_NAME: %v", err)
	}

	off := cfg
	off.Enabled = KubeOff
	if k, err := newKubeAttribution(off, envOf(kube.EnvServiceHost, "10.96.0.1", kube.EnvNodeName, "worker-1"), log); k != nil || err != nil {
		t.Fatalf("enabled: false in a cluster: %v %v", k, err)
	}

	srv := httptest.NewTLSServer(nil)
	defer srv.Close()
	ca := writeFile(t, "ca.crt", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})))
	logBuf.Reset()
	k, err = newKubeAttribution(cfg, envOf(kube.EnvServiceHost, "10.96.0.1", kube.EnvServicePort, "443", kube.EnvNodeName, "worker-1",
		kube.EnvCAFile, ca), log)
	if err != nil || k == nil || k.node != "worker-1" || k.server != "https://10.96.0.1:443" {
		t.Fatalf("in a cluster: %+v %v", k, err)
	}
	if !strings.Contains(logBuf.String(), "pod attribution on") {
		t.Errorf("no log line says it is on:\n%s", logBuf.String())
	}
}

// listed is a kube.Lister with a fixed answer.
type listed []kube.Pod

func (l listed) ListPods(context.Context) ([]kube.Pod, error) { return l, nil }

const (
	wpUID  = "7f3e9c1a-2b4d-4e8f-9a6b-1c2d3e4f5a6b"
	wpCID  = "2511bf38478b6bbec215dab1192392b6b6d8996445883259c9ae276fe26cde43"
	sysUID = "0d6e1f07-3a3c-4f61-9d7b-8f5a7f1c2b3d"
)

func testAttribution(t *testing.T, cfg KubernetesConfig, pods listed) *kubeAttribution {
	t.Helper()
	f, err := cfg.filter()
	if err != nil {
		t.Fatal(err)
	}
	k := &kubeAttribution{cfg: cfg, filter: f, node: "worker-1", log: slog.New(slog.DiscardHandler), logged: map[string]string{}}
	k.cache = kube.NewCache(pods, kube.CacheOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go k.run(ctx)
	<-k.cache.Ready()
	return k
}

func TestKubernetesExcludeAndAttributes(t *testing.T) {
	pods := listed{
		{UID: wpUID, Name: "wordpress-6d9f7c8b5-x2k9p", Namespace: "shop", Labels: map[string]string{"app": "wordpress"},
			Containers: map[string]string{wpCID: "php-fpm"}},
		{UID: sysUID, Name: "php-exporter", Namespace: "kube-system"},
	}
	cfg := defaultKubernetesConfig()
	cfg.PodSelector = "app=wordpress"
	k := testAttribution(t, cfg, pods)

	wp := discover.Process{PID: 10, PodUID: wpUID, ContainerID: wpCID}
	sys := discover.Process{PID: 11, PodUID: sysUID}
	host := discover.Process{PID: 12}
	unknown := discover.Process{PID: 13, PodUID: "11111111-2222-4333-8444-555555555555"}
	if r := k.exclude(wp); r != "" {
		t.Errorf("wordpress excluded: %s", r)
	}
	if r := k.exclude(sys); !strings.Contains(r, "exclude_namespaces") {
		t.Errorf("kube-system: %q", r)
	}
	if r := k.exclude(host); r != "" {
		t.Errorf("a process outside pods is traced, got %q", r)
	}
	if r := k.exclude(unknown); !strings.Contains(r, "not known") {
		t.Errorf("an unknown pod with filters configured is held back: %q", r)
	}

	attrs := k.attributes(wp)
	for key, want := range map[string]string{
		trace.AttrK8sPodName: "wordpress-6d9f7c8b5-x2k9p", trace.AttrK8sNamespace: "shop", trace.AttrK8sPodUID: wpUID,
		trace.AttrK8sContainerName: "php-fpm", trace.AttrK8sNodeName: "worker-1", trace.AttrContainerID: wpCID,
	} {
		if attrs[key] != want {
			t.Errorf("%s = %q, want %q", key, attrs[key], want)
		}
	}
	if attrs := k.attributes(host); len(attrs) != 1 || attrs[trace.AttrK8sNodeName] != "worker-1" {
		t.Errorf("host process: %v", attrs)
	}
	if attrs := k.attributes(unknown); attrs[trace.AttrK8sPodUID] != unknown.PodUID || attrs[trace.AttrK8sPodName] != "" {
		t.Errorf("unknown pod: %v", attrs)
	}

	st := k.status(map[int]discover.Excluded{
		11: {Process: sys, Reason: k.exclude(sys)},
		14: {Process: discover.Process{PID: 14, PodUID: sysUID}, Reason: k.exclude(sys)},
	})
	if st.Node != "worker-1" || st.Pods != 2 || st.ExcludedProcesses != 2 || len(st.Excluded) != 1 ||
		st.Excluded[0].Pod != "php-exporter" || st.Excluded[0].Namespace != "kube-system" || !slices.Equal(st.Excluded[0].PIDs, []int{11, 14}) ||
		st.Filter != "exclude_namespaces [kube-system]; pod_selector app=wordpress" {
		t.Errorf("status %+v", st)
	}
}

// Without any filter, a pod not yet known is traced (named later).
func TestKubernetesWithoutFilterTracesUnknownPods(t *testing.T) {
	cfg := defaultKubernetesConfig()
	cfg.ExcludeNamespaces = nil
	k := testAttribution(t, cfg, nil)
	if r := k.exclude(discover.Process{PodUID: wpUID}); r != "" {
		t.Fatalf("excluded: %s", r)
	}
}
