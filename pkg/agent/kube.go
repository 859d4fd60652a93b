package agent

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/tusk-php/tusk/pkg/agentapi"
	"github.com/tusk-php/tusk/pkg/discover"
	"github.com/tusk-php/tusk/pkg/kube"
	"github.com/tusk-php/tusk/pkg/trace"
)

// kubeAttribution names the pods PHP processes run in and applies the
// kubernetes filter. Its methods are safe from any goroutine and never wait
// for the API: the cache refreshes in the background.
type kubeAttribution struct {
	cfg    KubernetesConfig
	filter kube.Filter
	node   string
	server string
	cache  *kube.Cache
	log    *slog.Logger

	mu     sync.Mutex
	logged map[string]string // pod UID → exclusion reason last logged
}

// podMetadataWait bounds how long discovery waits at start for the first
// pod list, so that pods are filtered and named from the first scan.
const podMetadataWait = 5 * time.Second

// newKubeAttribution sets up pod attribution from the configuration and the
// pod's environment. It returns nil (and logs why once) when attribution is
// off, and an error only when the configuration requires it and it cannot
// work.
func newKubeAttribution(cfg KubernetesConfig, getenv func(string) string, log *slog.Logger) (*kubeAttribution, error) {
	if cfg.Enabled == KubeOff {
		log.Debug("Kubernetes pod attribution off (kubernetes.enabled: false)")
		return nil, nil
	}
	filter, err := cfg.filter()
	if err != nil {
		return nil, err
	}
	kc, err := kube.ConfigFromEnv(getenv)
	var client *kube.Client
	if err == nil {
		client, err = kube.NewClient(kc)
	}
	switch {
	case err == nil:
	case errors.Is(err, kube.ErrNotInCluster) && cfg.Enabled == KubeAuto:
		log.Info("not in a Kubernetes cluster: pod attribution off", "reason", err.Error())
		return nil, nil
	case cfg.Enabled == KubeAuto:
		log.Warn("Kubernetes pod attribution off", "error", err.Error())
		return nil, nil
	default:
		return nil, fmt.Errorf("kubernetes.enabled is true but %w", err)
	}
	k := &kubeAttribution{
		cfg:    cfg,
		filter: filter,
		node:   kc.Node,
		server: kc.Server,
		log:    log.With("component", "kubernetes"),
		logged: map[string]string{},
	}
	k.cache = kube.NewCache(client, kube.CacheOptions{Logger: k.log})
	log.Info("Kubernetes pod attribution on", "node", kc.Node, "api", kc.Server, "filter", cfg.describeFilter())
	return k, nil
}

// run keeps the pod cache fresh until ctx ends.
func (k *kubeAttribution) run(ctx context.Context) { k.cache.Run(ctx) }

// waitFirstList waits, briefly, for the first pod list.
func (k *kubeAttribution) waitFirstList(ctx context.Context) {
	t := time.NewTimer(podMetadataWait)
	defer t.Stop()
	select {
	case <-k.cache.Ready():
	case <-t.C:
	case <-ctx.Done():
	}
}

// exclude is discovery's Options.Exclude: why p must not be traced, or "".
// A process outside any pod is traced (the filters speak of pods). A pod the
// API has not named yet is held back while filters are configured (its
// namespace and labels decide) and traced otherwise.
func (k *kubeAttribution) exclude(p discover.Process) string {
	if p.PodUID == "" {
		return ""
	}
	pod, ok := k.cache.Pod(p.PodUID)
	if !ok {
		if k.filter.Empty() {
			return ""
		}
		reason := "pod not known to the Kubernetes API yet: its namespace and labels decide whether it is traced"
		if e := k.cache.Status().LastError; e != "" {
			reason += " (" + e + ")"
		}
		return reason
	}
	return k.filter.Admit(pod)
}

// attributes are the span attributes of where p runs.
func (k *kubeAttribution) attributes(p discover.Process) map[string]string {
	attrs := map[string]string{trace.AttrK8sNodeName: k.node}
	if p.ContainerID != "" {
		attrs[trace.AttrContainerID] = p.ContainerID
	}
	if p.PodUID == "" {
		return attrs
	}
	attrs[trace.AttrK8sPodUID] = p.PodUID
	if pod, ok := k.cache.Pod(p.PodUID); ok {
		attrs[trace.AttrK8sPodUID] = pod.UID // a static pod's mirror, not the kubelet's hash
		attrs[trace.AttrK8sPodName] = pod.Name
		attrs[trace.AttrK8sNamespace] = pod.Namespace
		attrs[trace.AttrK8sContainerName] = pod.ContainerName(p.ContainerID)
	}
	return attrs
}

// poolFields fills the pod of a pool in the status.
func (k *kubeAttribution) poolFields(out *agentapi.Pool, g discover.PoolGroup) {
	out.PodUID, out.ContainerID = g.PodUID, g.ContainerID
	if g.PodUID == "" {
		return
	}
	if pod, ok := k.cache.Pod(g.PodUID); ok {
		out.Pod, out.Namespace, out.Container = pod.Name, pod.Namespace, pod.ContainerName(g.ContainerID)
	}
}

// noteExcluded logs each pod's exclusion once per reason.
func (k *kubeAttribution) noteExcluded(excluded []discover.Excluded) {
	k.mu.Lock()
	defer k.mu.Unlock()
	seen := map[string]bool{}
	for _, e := range excluded {
		key := e.PodUID
		seen[key] = true
		if k.logged[key] == e.Reason {
			continue
		}
		k.logged[key] = e.Reason
		args := []any{"pod_uid", e.PodUID, "reason", e.Reason}
		if pod, ok := k.cache.Pod(e.PodUID); ok {
			args = append(args, "pod", pod.Namespace+"/"+pod.Name)
		}
		k.log.Info("not tracing the PHP processes of a pod", args...)
	}
	for key := range k.logged {
		if !seen[key] {
			delete(k.logged, key)
		}
	}
}

// status is the Kubernetes part of the agent's status.
func (k *kubeAttribution) status(excluded map[int]discover.Excluded) *agentapi.Kubernetes {
	cs := k.cache.Status()
	out := &agentapi.Kubernetes{
		Node:              k.node,
		APIServer:         k.server,
		Pods:              cs.Pods,
		LastRefresh:       cs.LastRefresh,
		Error:             cs.LastError,
		Filter:            k.cfg.describeFilter(),
		ExcludedProcesses: len(excluded),
		Excluded:          []agentapi.ExcludedPod{},
	}
	type key struct{ uid, reason string }
	groups := map[key]*agentapi.ExcludedPod{}
	for _, e := range excluded {
		g := groups[key{e.PodUID, e.Reason}]
		if g == nil {
			g = &agentapi.ExcludedPod{PodUID: e.PodUID, Reason: e.Reason}
			if pod, ok := k.cache.Pod(e.PodUID); ok {
				g.Pod, g.Namespace = pod.Name, pod.Namespace
			}
			groups[key{e.PodUID, e.Reason}] = g
		}
		g.PIDs = append(g.PIDs, e.PID)
	}
	for _, g := range groups {
		slices.Sort(g.PIDs)
		out.Excluded = append(out.Excluded, *g)
	}
	slices.SortFunc(out.Excluded, func(x, y agentapi.ExcludedPod) int {
		return cmp.Or(cmp.Compare(x.Namespace, y.Namespace), cmp.Compare(x.Pod, y.Pod), cmp.Compare(x.PodUID, y.PodUID), cmp.Compare(x.Reason, y.Reason))
	})
	return out
}

// discoverOptions are the agent's discovery options: with pod attribution,
// cgroups are read and the kubernetes filter applied.
func (a *Agent) discoverOptions() discover.Options {
	opts := discover.Options{ProcRoot: a.procRoot, CLI: a.cfg.CLI, PIDs: a.cfg.PIDs}
	if a.kube != nil {
		opts.Cgroups, opts.Exclude = true, a.kube.exclude
	}
	return opts
}

// kubeStatus is the Kubernetes part of the status. Called with a.mu held.
func (a *Agent) kubeStatus() *agentapi.Kubernetes {
	st := a.kube.status(a.excluded)
	if s := a.loop.asmStats.Load(); s != nil {
		st.DroppedRequests = s.Dropped
	}
	return st
}

// noteExcluded keeps discovery's current exclusions for the status and the
// event path. Called with a.mu held.
func (a *Agent) noteExcluded(excluded []discover.Excluded) {
	clear(a.excluded)
	for _, e := range excluded {
		a.excluded[e.PID] = e
	}
	if a.kube != nil {
		a.kube.noteExcluded(excluded)
	}
}
