// Package kubemanifests checks deploy/kubernetes without a cluster: every
// document decodes strictly into the k8s.io/api type of its kind (an unknown
// or misplaced field fails), and the DaemonSet, RBAC, ConfigMap and Services
// say what the agent needs and nothing more.
package kubemanifests

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"

	"github.com/tusk-php/tusk/pkg/agent"
	"github.com/tusk-php/tusk/pkg/agent/httpapi"
	"github.com/tusk-php/tusk/pkg/kube"
)

const namespace = "tusk-system"

func dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "deploy", "kubernetes")
}

// manifests holds every object of deploy/kubernetes, decoded.
type manifests struct {
	namespaces      []corev1.Namespace
	serviceAccounts []corev1.ServiceAccount
	clusterRoles    []rbacv1.ClusterRole
	bindings        []rbacv1.ClusterRoleBinding
	configMaps      []corev1.ConfigMap
	secrets         []corev1.Secret
	daemonSets      []appsv1.DaemonSet
	services        []corev1.Service
	files           []string
}

// decodeStrict decodes one YAML document into out, refusing unknown and
// duplicate fields.
func decodeStrict[T any](t *testing.T, where string, doc []byte) T {
	t.Helper()
	var out T
	if err := yaml.UnmarshalStrict(doc, &out); err != nil {
		t.Fatalf("%s: %v", where, err)
	}
	return out
}

var docSeparator = regexp.MustCompile(`(?m)^---\s*$`)

func load(t *testing.T) *manifests {
	t.Helper()
	m := &manifests{}
	files, err := filepath.Glob(filepath.Join(dir(), "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests in %s: %v", dir(), err)
	}
	for _, f := range files {
		name := filepath.Base(f)
		if name == "kustomization.yaml" {
			continue
		}
		m.files = append(m.files, name)
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, doc := range docSeparator.Split(string(b), -1) {
			if strings.TrimSpace(stripComments(doc)) == "" {
				continue
			}
			where := fmt.Sprintf("%s document %d", name, i+1)
			var head struct {
				APIVersion string `json:"apiVersion"`
				Kind       string `json:"kind"`
			}
			if err := yaml.Unmarshal([]byte(doc), &head); err != nil {
				t.Fatalf("%s: %v", where, err)
			}
			d := []byte(doc)
			switch head.APIVersion + " " + head.Kind {
			case "v1 Namespace":
				m.namespaces = append(m.namespaces, decodeStrict[corev1.Namespace](t, where, d))
			case "v1 ServiceAccount":
				m.serviceAccounts = append(m.serviceAccounts, decodeStrict[corev1.ServiceAccount](t, where, d))
			case "rbac.authorization.k8s.io/v1 ClusterRole":
				m.clusterRoles = append(m.clusterRoles, decodeStrict[rbacv1.ClusterRole](t, where, d))
			case "rbac.authorization.k8s.io/v1 ClusterRoleBinding":
				m.bindings = append(m.bindings, decodeStrict[rbacv1.ClusterRoleBinding](t, where, d))
			case "v1 ConfigMap":
				m.configMaps = append(m.configMaps, decodeStrict[corev1.ConfigMap](t, where, d))
			case "v1 Secret":
				m.secrets = append(m.secrets, decodeStrict[corev1.Secret](t, where, d))
			case "apps/v1 DaemonSet":
				m.daemonSets = append(m.daemonSets, decodeStrict[appsv1.DaemonSet](t, where, d))
			case "v1 Service":
				m.services = append(m.services, decodeStrict[corev1.Service](t, where, d))
			default:
				t.Fatalf("%s: unexpected %s %s", where, head.APIVersion, head.Kind)
			}
		}
	}
	if len(m.namespaces) != 1 || len(m.serviceAccounts) != 1 || len(m.clusterRoles) != 1 || len(m.bindings) != 1 ||
		len(m.configMaps) != 1 || len(m.secrets) != 1 || len(m.daemonSets) != 1 || len(m.services) != 2 {
		t.Fatalf("want 1 namespace, service account, cluster role, binding, config map, secret and daemon set, and 2 services; got %d %d %d %d %d %d %d %d",
			len(m.namespaces), len(m.serviceAccounts), len(m.clusterRoles), len(m.bindings), len(m.configMaps), len(m.secrets), len(m.daemonSets), len(m.services))
	}
	return m
}

func stripComments(doc string) string {
	var b strings.Builder
	for _, line := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}

func (m *manifests) agentContainer(t *testing.T) (*appsv1.DaemonSet, *corev1.Container) {
	t.Helper()
	ds := &m.daemonSets[0]
	for i := range ds.Spec.Template.Spec.Containers {
		if c := &ds.Spec.Template.Spec.Containers[i]; c.Name == "tusk-agent" {
			return ds, c
		}
	}
	t.Fatal("no tusk-agent container")
	return nil, nil
}

func TestKustomizationListsEveryManifest(t *testing.T) {
	m := load(t)
	b, err := os.ReadFile(filepath.Join(dir(), "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var k struct {
		APIVersion string   `json:"apiVersion"`
		Kind       string   `json:"kind"`
		Namespace  string   `json:"namespace"`
		Resources  []string `json:"resources"`
		Images     []struct {
			Name    string `json:"name"`
			NewName string `json:"newName"`
			NewTag  string `json:"newTag"`
		} `json:"images"`
	}
	if err := yaml.UnmarshalStrict(b, &k); err != nil {
		t.Fatalf("kustomization.yaml: %v", err)
	}
	if k.Kind != "Kustomization" || k.APIVersion != "kustomize.config.k8s.io/v1beta1" || k.Namespace != namespace {
		t.Errorf("kustomization: %+v", k)
	}
	if got, want := slices.Sorted(slices.Values(k.Resources)), slices.Sorted(slices.Values(m.files)); !slices.Equal(got, want) {
		t.Errorf("kustomization resources %v, files %v", got, want)
	}
	_, c := m.agentContainer(t)
	if len(k.Images) != 1 || k.Images[0].Name != c.Image {
		t.Errorf("the images entry %+v does not name the container's image %q", k.Images, c.Image)
	}
}

func TestNamespaceAdmitsTheAgent(t *testing.T) {
	m := load(t)
	ns := m.namespaces[0]
	if ns.Name != namespace || ns.Labels["pod-security.kubernetes.io/enforce"] != "privileged" {
		t.Errorf("namespace %s labels %v: hostPID and CAP_SYS_ADMIN need the privileged Pod Security level", ns.Name, ns.Labels)
	}
	for _, o := range []struct{ kind, name, ns string }{
		{"ServiceAccount", m.serviceAccounts[0].Name, m.serviceAccounts[0].Namespace},
		{"ConfigMap", m.configMaps[0].Name, m.configMaps[0].Namespace},
		{"Secret", m.secrets[0].Name, m.secrets[0].Namespace},
		{"DaemonSet", m.daemonSets[0].Name, m.daemonSets[0].Namespace},
		{"Service", m.services[0].Name, m.services[0].Namespace},
		{"Service", m.services[1].Name, m.services[1].Namespace},
	} {
		if o.ns != namespace {
			t.Errorf("%s %s is in namespace %q", o.kind, o.name, o.ns)
		}
	}
}

// The agent may read pods, nothing else.
func TestRBACOnlyReadsPods(t *testing.T) {
	m := load(t)
	role := m.clusterRoles[0]
	if len(role.Rules) != 1 {
		t.Fatalf("rules %+v", role.Rules)
	}
	r := role.Rules[0]
	if !slices.Equal(r.APIGroups, []string{""}) || !slices.Equal(r.Resources, []string{"pods"}) || len(r.ResourceNames) != 0 || len(r.NonResourceURLs) != 0 {
		t.Errorf("rule %+v: want the core group's pods only", r)
	}
	for _, v := range r.Verbs {
		if !slices.Contains([]string{"get", "list", "watch"}, v) {
			t.Errorf("verb %q: the agent only reads pods", v)
		}
	}
	if !slices.Contains(r.Verbs, "list") {
		t.Error("the agent lists pods: verb list is missing")
	}
	b, sa := m.bindings[0], m.serviceAccounts[0]
	if b.RoleRef.Kind != "ClusterRole" || b.RoleRef.Name != role.Name || b.RoleRef.APIGroup != "rbac.authorization.k8s.io" {
		t.Errorf("binding roleRef %+v", b.RoleRef)
	}
	if len(b.Subjects) != 1 || b.Subjects[0].Kind != "ServiceAccount" || b.Subjects[0].Name != sa.Name || b.Subjects[0].Namespace != sa.Namespace {
		t.Errorf("binding subjects %+v, service account %s/%s", b.Subjects, sa.Namespace, sa.Name)
	}
	ds, _ := m.agentContainer(t)
	if ds.Spec.Template.Spec.ServiceAccountName != sa.Name {
		t.Errorf("the DaemonSet runs as %q, the binding is for %q", ds.Spec.Template.Spec.ServiceAccountName, sa.Name)
	}
	if a := ds.Spec.Template.Spec.AutomountServiceAccountToken; a != nil && !*a {
		t.Error("the agent needs its service account token")
	}
}

// documentedCapabilities reads the capability table of deploy/kubernetes/
// README.md: rows "| `CAP_X` | …" under "## Capabilities".
func documentedCapabilities(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir(), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	start := strings.Index(text, "\n## Capabilities")
	if start < 0 {
		t.Fatal("README.md has no ## Capabilities section")
	}
	section := text[start+1:]
	if end := strings.Index(section[3:], "\n## "); end >= 0 {
		section = section[:end+3]
	}
	var caps []string
	for _, m := range regexp.MustCompile("(?m)^\\| `CAP_([A-Z_]+)` \\|").FindAllStringSubmatch(section, -1) {
		caps = append(caps, m[1])
	}
	if len(caps) == 0 {
		t.Fatal("no capability rows in README.md's ## Capabilities table")
	}
	return caps
}

func TestDaemonSetSecurity(t *testing.T) {
	m := load(t)
	ds, c := m.agentContainer(t)
	spec := ds.Spec.Template.Spec
	if !spec.HostPID {
		t.Error("hostPID: the agent must see the node's processes")
	}
	if spec.HostNetwork || spec.HostIPC {
		t.Error("hostNetwork/hostIPC are not needed")
	}
	sc := c.SecurityContext
	if sc == nil || sc.Capabilities == nil {
		t.Fatal("no securityContext.capabilities")
	}
	if sc.Privileged != nil && *sc.Privileged {
		t.Error("privileged: true; the agent needs only its capabilities")
	}
	for _, p := range spec.Containers {
		if p.SecurityContext != nil && p.SecurityContext.Privileged != nil && *p.SecurityContext.Privileged {
			t.Errorf("container %s is privileged", p.Name)
		}
	}
	if !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) {
		t.Errorf("drop %v, want [ALL]", sc.Capabilities.Drop)
	}
	var added []string
	for _, c := range sc.Capabilities.Add {
		added = append(added, string(c))
	}
	if doc := documentedCapabilities(t); !slices.Equal(slices.Sorted(slices.Values(added)), slices.Sorted(slices.Values(doc))) {
		t.Errorf("the DaemonSet adds %v, README.md documents %v", added, doc)
	}
	// The API refuses allowPrivilegeEscalation: false with CAP_SYS_ADMIN.
	if sc.AllowPrivilegeEscalation != nil && !*sc.AllowPrivilegeEscalation && slices.Contains(added, "SYS_ADMIN") {
		t.Error("allowPrivilegeEscalation: false together with CAP_SYS_ADMIN is invalid")
	}
	if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		t.Error("readOnlyRootFilesystem should be true")
	}
	if sc.RunAsUser == nil || *sc.RunAsUser != 0 {
		t.Error("runAsUser 0: capabilities of a non-root container need ambient capabilities, which Kubernetes does not set")
	}
	if sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("seccompProfile %+v, want RuntimeDefault", sc.SeccompProfile)
	}
	// The only host directory is the trace store.
	for _, v := range spec.Volumes {
		if v.HostPath != nil && v.HostPath.Path != "/var/lib/tusk" {
			t.Errorf("volume %s mounts host path %s", v.Name, v.HostPath.Path)
		}
	}
	var tolerateAll bool
	for _, tol := range spec.Tolerations {
		tolerateAll = tolerateAll || tol.Operator == corev1.TolerationOpExists && tol.Key == "" && tol.Effect == ""
	}
	if !tolerateAll {
		t.Errorf("tolerations %+v: the agent runs on every node", spec.Tolerations)
	}
	r := c.Resources
	for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		if _, ok := r.Requests[name]; !ok {
			t.Errorf("no %s request", name)
		}
		if _, ok := r.Limits[name]; !ok {
			t.Errorf("no %s limit", name)
		}
	}
	sel := ds.Spec.Selector.MatchLabels
	for k, v := range sel {
		if ds.Spec.Template.Labels[k] != v {
			t.Errorf("selector %v does not match the template labels %v", sel, ds.Spec.Template.Labels)
		}
	}
}

func TestNodeNameFromTheDownwardAPI(t *testing.T) {
	_, c := load(t).agentContainer(t)
	for _, e := range c.Env {
		if e.Name == kube.EnvNodeName {
			if e.ValueFrom == nil || e.ValueFrom.FieldRef == nil || e.ValueFrom.FieldRef.FieldPath != "spec.nodeName" {
				t.Fatalf("%s: %+v, want valueFrom.fieldRef.fieldPath spec.nodeName", e.Name, e.ValueFrom)
			}
			return
		}
	}
	t.Fatalf("no %s env: the agent lists only its node's pods", kube.EnvNodeName)
}

// mountFor finds the volume mount that holds file, and its volume.
func mountFor(t *testing.T, ds *appsv1.DaemonSet, c *corev1.Container, file string) (corev1.VolumeMount, corev1.Volume) {
	t.Helper()
	var best corev1.VolumeMount
	for _, vm := range c.VolumeMounts {
		if strings.HasPrefix(file, vm.MountPath+"/") && len(vm.MountPath) > len(best.MountPath) {
			best = vm
		}
	}
	if best.Name == "" {
		t.Fatalf("no volume mount holds %s", file)
	}
	for _, v := range ds.Spec.Template.Spec.Volumes {
		if v.Name == best.Name {
			return best, v
		}
	}
	t.Fatalf("volume %s is not defined", best.Name)
	return best, corev1.Volume{}
}

// The ConfigMap's tusk.yaml is a valid agent configuration, read by the
// agent's own loader, and the files it names are where the DaemonSet mounts
// them.
func TestConfigMapIsAValidAgentConfig(t *testing.T) {
	m := load(t)
	ds, c := m.agentContainer(t)
	i := slices.Index(c.Args, "--config")
	if i < 0 || i+1 >= len(c.Args) || c.Args[0] != "run" {
		t.Fatalf("args %v: want run --config <file>", c.Args)
	}
	configPath := c.Args[i+1]
	mount, vol := mountFor(t, ds, c, configPath)
	cm := m.configMaps[0]
	if vol.ConfigMap == nil || vol.ConfigMap.Name != cm.Name {
		t.Fatalf("%s is mounted from %+v, not the ConfigMap %s", configPath, vol, cm.Name)
	}
	text, ok := cm.Data[strings.TrimPrefix(configPath, mount.MountPath+"/")]
	if !ok {
		t.Fatalf("the ConfigMap has no key for %s: %v", configPath, cm.Data)
	}
	f := filepath.Join(t.TempDir(), "tusk.yaml")
	if err := os.WriteFile(f, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := agent.DefaultConfig()
	if err := cfg.LoadConfigFile(f); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if cfg.Kubernetes.Enabled != agent.KubeOn || !slices.Contains(cfg.Kubernetes.ExcludeNamespaces, "kube-system") {
		t.Errorf("kubernetes %+v", cfg.Kubernetes)
	}

	// The token comes from the Secret, the store is on the host path.
	tokMount, tokVol := mountFor(t, ds, c, cfg.TokenFile)
	sec := m.secrets[0]
	if tokVol.Secret == nil || tokVol.Secret.SecretName != sec.Name || !tokMount.ReadOnly {
		t.Errorf("token_file %s is in %+v, not the Secret %s (read-only)", cfg.TokenFile, tokVol, sec.Name)
	}
	key := strings.TrimPrefix(cfg.TokenFile, tokMount.MountPath+"/")
	if tok, ok := sec.StringData[key]; !ok || tok != "" {
		t.Errorf("the Secret's %q is %q: the placeholder must be empty, so that the agent refuses to start until it is set", key, tok)
	}
	if _, vol := mountFor(t, ds, c, cfg.DB); vol.HostPath == nil || vol.HostPath.Path != "/var/lib/tusk" {
		t.Errorf("db %s is not on the /var/lib/tusk host path: %+v", cfg.DB, vol)
	}
	if b, _ := os.ReadFile(filepath.Join(dir(), "secret.yaml")); !bytes.Contains(b, []byte("openssl rand")) {
		t.Error("secret.yaml does not say how to make a token")
	}

	// The API listens on the container port the probes and Services use.
	_, port, _ := strings.Cut(cfg.Listen, ":")
	var api *corev1.ContainerPort
	for i := range c.Ports {
		if c.Ports[i].Name == "api" {
			api = &c.Ports[i]
		}
	}
	if api == nil || port != strconv.Itoa(int(api.ContainerPort)) || strings.HasPrefix(cfg.Listen, "127.") || strings.HasPrefix(cfg.Listen, "localhost") {
		t.Errorf("listen %q, container port %+v: the agent must listen on the pod's IP, on the api port", cfg.Listen, api)
	}
	for _, svc := range m.services {
		for _, p := range svc.Spec.Ports {
			if p.TargetPort != intstr.FromString("api") && p.TargetPort != intstr.FromInt32(api.ContainerPort) {
				t.Errorf("service %s targets port %v", svc.Name, p.TargetPort)
			}
		}
		for k, v := range svc.Spec.Selector {
			if ds.Spec.Template.Labels[k] != v {
				t.Errorf("service %s selects %v, the pods are labelled %v", svc.Name, svc.Spec.Selector, ds.Spec.Template.Labels)
			}
		}
	}
}

func TestServices(t *testing.T) {
	m := load(t)
	var clusterIP, headless bool
	for _, s := range m.services {
		switch {
		case s.Spec.ClusterIP == corev1.ClusterIPNone:
			headless = true
		case s.Spec.Type == corev1.ServiceTypeClusterIP || s.Spec.Type == "":
			clusterIP = true
		default:
			t.Errorf("service %s is of type %s", s.Name, s.Spec.Type)
		}
	}
	if !clusterIP || !headless {
		t.Errorf("want a ClusterIP service and a headless one (one entry per node): %v %v", clusterIP, headless)
	}
}

// stubBackend serves nothing: the probes' path must not need it.
type stubBackend struct{ httpapi.Backend }

// The probes hit a path the agent's API serves without a token (the kubelet
// sends none).
func TestProbesHitTheAgentsHealthEndpoint(t *testing.T) {
	_, c := load(t).agentContainer(t)
	h := httpapi.New(httpapi.Options{Backend: stubBackend{}, Token: "secret"})
	for name, p := range map[string]*corev1.Probe{"liveness": c.LivenessProbe, "readiness": c.ReadinessProbe} {
		if p == nil || p.HTTPGet == nil {
			t.Errorf("%s probe: want an httpGet", name)
			continue
		}
		if p.HTTPGet.Port != intstr.FromString("api") {
			t.Errorf("%s probe port %v, want the api port", name, p.HTTPGet.Port)
		}
		req := httptest.NewRequestWithContext(context.Background(), http.MethodGet, path.Clean(p.HTTPGet.Path), nil)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Errorf("%s probe GET %s without a token: %d %s", name, p.HTTPGet.Path, rec.Code, rec.Body)
		}
	}
}
