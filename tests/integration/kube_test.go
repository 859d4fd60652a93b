//go:build integration

package integration

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/tusk-php/tusk/pkg/agentapi"
	"github.com/tusk-php/tusk/pkg/trace"
	"github.com/tusk-php/tusk/tests/stack"
)

const (
	kubeNode      = "tusk-it-node"
	kubeToken     = "tusk-it-service-account-token"
	kubePodName   = "wordpress-7c9d8b6f5-k2x8q"
	kubeNamespace = "shop"
)

// cgroup2Mount finds where the cgroup v2 hierarchy is mounted: /sys/fs/cgroup
// on a unified host, /sys/fs/cgroup/unified on a hybrid one.
func cgroup2Mount(t *testing.T) string {
	t.Helper()
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// id parent major:minor root mountpoint options... - fstype source options
		fields := strings.Fields(sc.Text())
		for i, f := range fields {
			if f == "-" && i+1 < len(fields) && fields[i+1] == "cgroup2" {
				return fields[4]
			}
		}
	}
	t.Fatal("cgroup v2 is not mounted here: the test moves php-fpm into a kubelet-style cgroup v2 pod slice")
	return ""
}

// randomHex returns n random bytes in hex.
func randomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// podCgroup is a cgroup v2 directory named as the kubelet's systemd driver
// and containerd name a container's: it makes processes moved into it look,
// in /proc/<pid>/cgroup, exactly like a pod's.
type podCgroup struct {
	uid, containerID string
	dir              string
	created          []string // to remove, innermost first
}

func newPodCgroup(t *testing.T) *podCgroup {
	t.Helper()
	root := cgroup2Mount(t)
	u := randomHex(t, 16)
	c := &podCgroup{
		uid:         fmt.Sprintf("%s-%s-4%s-8%s-%s", u[0:8], u[8:12], u[13:16], u[17:20], u[20:32]),
		containerID: randomHex(t, 32),
	}
	dir := root
	for _, part := range []string{
		"kubepods.slice", "kubepods-burstable.slice",
		"kubepods-burstable-pod" + strings.ReplaceAll(c.uid, "-", "_") + ".slice",
		"cri-containerd-" + c.containerID + ".scope",
	} {
		dir = filepath.Join(dir, part)
		if err := os.Mkdir(dir, 0o755); err == nil {
			c.created = append([]string{dir}, c.created...)
		} else if !errors.Is(err, os.ErrExist) {
			t.Fatalf("creating the pod's cgroup: %v", err)
		}
	}
	c.dir = dir
	t.Cleanup(c.remove)
	return c
}

// move puts processes into the container's cgroup; their children inherit it.
func (c *podCgroup) move(t *testing.T, pids ...int) {
	t.Helper()
	for _, pid := range pids {
		if err := os.WriteFile(filepath.Join(c.dir, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0o644); err != nil {
			t.Fatalf("moving pid %d into %s: %v", pid, c.dir, err)
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
		if err != nil || !strings.Contains(string(b), "cri-containerd-"+c.containerID+".scope") {
			t.Fatalf("pid %d's cgroup after the move: %q %v", pid, b, err)
		}
	}
}

// remove deletes the directories this test created, once their processes
// are gone (the slices shared with a concurrent run stay).
func (c *podCgroup) remove() {
	for _, dir := range c.created {
		deadline := time.Now().Add(10 * time.Second)
		for {
			err := os.Remove(dir)
			if err == nil || errors.Is(err, os.ErrNotExist) || time.Now().After(deadline) {
				break
			}
			if errors.Is(err, os.ErrExist) || strings.Contains(err.Error(), "not empty") {
				break // another run's pod is in it
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// fakeKubeAPI serves GET /api/v1/pods?fieldSelector=spec.nodeName=<node>
// over TLS like the API server, from k8s.io/api types.
type fakeKubeAPI struct {
	srv               *httptest.Server
	caFile, tokenFile string
	lists             atomic.Int64
}

func startFakeKubeAPI(t *testing.T, dir string, pods ...corev1.Pod) *fakeKubeAPI {
	t.Helper()
	f := &fakeKubeAPI{}
	list := corev1.PodList{TypeMeta: metav1.TypeMeta{Kind: "PodList", APIVersion: "v1"}, ListMeta: metav1.ListMeta{ResourceVersion: "48213"}, Items: pods}
	body, err := json.Marshal(list)
	if err != nil {
		t.Fatal(err)
	}
	f.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Header.Get("Authorization") != "Bearer "+kubeToken {
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}`))
			return
		}
		if r.URL.Path != "/api/v1/pods" || r.URL.Query().Get("fieldSelector") != "spec.nodeName="+kubeNode {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","message":"unexpected request %s","code":400}`, r.URL)
			return
		}
		f.lists.Add(1)
		w.Write(body)
	}))
	t.Cleanup(f.srv.Close)
	f.caFile = filepath.Join(dir, "ca.crt")
	if err := os.WriteFile(f.caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.srv.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	f.tokenFile = filepath.Join(dir, "token")
	if err := os.WriteFile(f.tokenFile, []byte(kubeToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// env points the agent at the fake API as if it ran in a pod on kubeNode.
func (f *fakeKubeAPI) env(t *testing.T) {
	t.Setenv("TUSK_KUBE_API_URL", f.srv.URL)
	t.Setenv("TUSK_KUBE_TOKEN_FILE", f.tokenFile)
	t.Setenv("TUSK_KUBE_CA_FILE", f.caFile)
	t.Setenv("NODE_NAME", kubeNode)
}

// wordpressPod is the API's view of the pod whose cgroup c is.
func wordpressPod(c *podCgroup) corev1.Pod {
	return corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: kubePodName, Namespace: kubeNamespace, UID: types.UID(c.uid),
			Labels: map[string]string{"app": "wordpress", "pod-template-hash": "7c9d8b6f5"},
		},
		Spec: corev1.PodSpec{
			NodeName:   kubeNode,
			Containers: []corev1.Container{{Name: "php-fpm", Image: "wordpress:6.7-php8.2-fpm"}, {Name: "nginx", Image: "nginx:1.27"}},
		},
		Status: corev1.PodStatus{
			Phase: corev1.PodRunning,
			ContainerStatuses: []corev1.ContainerStatus{
				{Name: "nginx", ContainerID: "containerd://" + strings.Repeat("ab", 32), Ready: true},
				{Name: "php-fpm", ContainerID: "containerd://" + c.containerID, Ready: true},
			},
		},
	}
}

func writeAgentConfig(t *testing.T, dir, text string) string {
	t.Helper()
	p := filepath.Join(dir, "tusk.yaml")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// startPodFPM starts php-fpm with one pool and moves it into a pod's
// cgroup, with an nginx in front (nginx stays outside, as a sidecar would
// be in its own container).
func startPodFPM(t *testing.T, ctx context.Context, pool string, cg *podCgroup) (*stack.FPM, *stack.Nginx) {
	t.Helper()
	fpm, err := stack.StartFPM(ctx, stack.FPMOptions{Dir: tempDir(t, "tusk-kube-fpm-"), Pools: []stack.Pool{{Name: pool, Workers: 2, MaxRequests: 3}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fpm.Stop() })
	if cg != nil {
		cg.move(t, append([]int{fpm.MasterPID}, fpm.WorkerPIDs(pool)...)...)
	}
	app, err := stack.FixtureAppDir()
	if err != nil {
		t.Fatal(err)
	}
	ngx, err := stack.StartNginx(ctx, stack.NginxOptions{Dir: tempDir(t, "tusk-kube-nginx-"), Site: stack.SitePHP, Root: app, FastCGI: fpm.Listen(pool)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ngx.Stop() })
	return fpm, ngx
}

// php-fpm really runs in a kubelet-style pod cgroup; the agent, pointed at a
// fake API server that knows the pod, puts the pod's name, namespace,
// container and node on every request span, including those of workers
// php-fpm starts after the agent did (they inherit the cgroup), and shows
// the pod in its status.
func TestKubernetesPodAttribution(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cg := newPodCgroup(t)
	fpm, ngx := startPodFPM(t, ctx, "kpod", cg)
	pod := wordpressPod(cg)
	dir := tempDir(t, "tusk-kube-agent-")
	api := startFakeKubeAPI(t, dir, pod)
	api.env(t)
	conf := writeAgentConfig(t, dir, "kubernetes:\n  enabled: true\n  pod_selector: app=wordpress\n")

	a := launchAgent(t, dir, "--config", conf, "--pid", fmt.Sprint(fpm.MasterPID))
	a.waitTracing(t, &stack.Stack{Pool: "kpod", FPM: fpm})
	st, err := a.client.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Kubernetes == nil || st.Kubernetes.Node != kubeNode || st.Kubernetes.Pods != 1 || st.Kubernetes.Error != "" ||
		st.Kubernetes.ExcludedProcesses != 0 || st.Host != kubeNode {
		t.Fatalf("status: host %q, kubernetes %+v", st.Host, st.Kubernetes)
	}
	p := findPool(t, st, "kpod")
	if p.Pod != kubePodName || p.Namespace != kubeNamespace || p.Container != "php-fpm" || p.PodUID != cg.uid || p.ContainerID != cg.containerID {
		t.Fatalf("pool in status: %+v", p)
	}

	// 8 requests over 2 workers that each serve 3: php-fpm replaces them,
	// and the new workers are in the pod too.
	before := fpm.WorkerPIDs("kpod")
	for i := range 8 {
		if code, err := httpGet(fmt.Sprintf("%s/index.php?n=%d", ngx.URL(), i)); err != nil || code != 200 {
			t.Fatalf("GET %d: %d %v", i, code, err)
		}
	}
	list := a.waitTraces(t, trace.Query{Pool: "kpod"}, 8)
	pids := map[int64]bool{}
	for _, s := range list {
		tr := a.fetch(t, s.TraceID)
		attrs := tr.Root().Attributes
		for key, want := range map[string]string{
			trace.AttrK8sPodName: kubePodName, trace.AttrK8sNamespace: kubeNamespace, trace.AttrK8sPodUID: cg.uid,
			trace.AttrK8sContainerName: "php-fpm", trace.AttrK8sNodeName: kubeNode, trace.AttrContainerID: cg.containerID,
			trace.AttrHostName: kubeNode,
		} {
			if attrs[key] != want {
				t.Errorf("trace %s (pid %v): %s = %v, want %q", s.TraceID, attrs[trace.AttrProcessPID], key, attrs[key], want)
			}
		}
		pid, _ := attrs[trace.AttrProcessPID].(int64)
		pids[pid] = true
	}
	replaced := 0
	for pid := range pids {
		if !containsInt(before, int(pid)) {
			replaced++
		}
	}
	if replaced == 0 {
		t.Errorf("no request was served by a worker started after the agent (pids %v, first workers %v)", pids, before)
	}
	t.Logf("%d requests from %d workers, %d of them started after the agent; %d pod lists", len(list), len(pids), replaced, api.lists.Load())
}

// A pod_selector that the pod does not match: its PHP processes are not
// traced — not even through a probe attached for another php-fpm running
// the same binary outside the pod — and the status says which pod and why.
func TestKubernetesPodSelectorExcludesAPod(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cg := newPodCgroup(t)
	podFPM, podNginx := startPodFPM(t, ctx, "kpodx", cg)
	hostFPM, hostNginx := startPodFPM(t, ctx, "khost", nil) // same /usr/sbin/php-fpm8.2, not in a pod
	pod := wordpressPod(cg)
	dir := tempDir(t, "tusk-kube-agent-")
	api := startFakeKubeAPI(t, dir, pod)
	api.env(t)
	conf := writeAgentConfig(t, dir, "kubernetes:\n  enabled: true\n  pod_selector: app=drupal\n")

	a := launchAgent(t, dir, "--config", conf, "--pid", fmt.Sprintf("%d,%d", podFPM.MasterPID, hostFPM.MasterPID))
	a.waitTracing(t, &stack.Stack{Pool: "khost", FPM: hostFPM})

	var st *agentapi.Status
	deadline := time.Now().Add(10 * time.Second)
	for {
		var err error
		st, err = a.client.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.Kubernetes != nil && st.Kubernetes.ExcludedProcesses >= 3 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	k := st.Kubernetes
	if k == nil || k.ExcludedProcesses < 3 || len(k.Excluded) != 1 {
		t.Fatalf("status does not say the pod's master and 2 workers are excluded: %+v", k)
	}
	ex := k.Excluded[0]
	if ex.Pod != kubePodName || ex.Namespace != kubeNamespace || ex.PodUID != cg.uid ||
		!strings.Contains(ex.Reason, `labels do not match kubernetes.pod_selector "app=drupal"`) || !containsInt(ex.PIDs, podFPM.MasterPID) {
		t.Fatalf("excluded %+v", ex)
	}
	for _, b := range st.Binaries {
		for _, p := range b.Pools {
			if p.Name == "kpodx" {
				t.Fatalf("the excluded pool is listed as traced: %+v", p)
			}
		}
	}
	if !strings.Contains(a.log.String(), "not tracing the PHP processes of a pod") {
		t.Errorf("the agent did not log the exclusion:\n%s", a.log.String())
	}

	// Both pools get requests; the probes on the shared binary fire in both.
	for i := range 6 {
		for _, url := range []string{podNginx.URL(), hostNginx.URL()} {
			if code, err := httpGet(fmt.Sprintf("%s/index.php?n=%d", url, i)); err != nil || code != 200 {
				t.Fatalf("GET %s: %d %v", url, code, err)
			}
		}
	}
	a.waitTraces(t, trace.Query{Pool: "khost"}, 6)
	// The pod's requests fired the probes of the shared binary: they were
	// seen, and dropped.
	deadline = time.Now().Add(10 * time.Second)
	for {
		var err error
		st, err = a.client.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.Kubernetes.DroppedRequests >= 6 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if st.Kubernetes.DroppedRequests < 6 {
		t.Errorf("%d requests of the excluded pod dropped, want 6", st.Kubernetes.DroppedRequests)
	}
	if got, err := a.client.Search(ctx, trace.Query{Pool: "kpodx"}); err != nil || len(got) != 0 {
		t.Fatalf("the excluded pod's requests were traced: %d %v", len(got), err)
	}
	all, err := a.client.Search(ctx, trace.Query{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range all {
		if s.Pool != "khost" {
			t.Errorf("a trace of pool %q", s.Pool)
		}
	}
}

func findPool(t *testing.T, st *agentapi.Status, name string) agentapi.Pool {
	t.Helper()
	for _, b := range st.Binaries {
		for _, p := range b.Pools {
			if p.Name == name {
				return p
			}
		}
	}
	t.Fatalf("no pool %q in status %+v", name, st.Binaries)
	return agentapi.Pool{}
}

func containsInt(list []int, v int) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
