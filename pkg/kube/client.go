package kube

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// Where a pod finds its service account, and the environment the kubelet
// gives every container.
const (
	ServiceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount"

	EnvServiceHost = "KUBERNETES_SERVICE_HOST"
	EnvServicePort = "KUBERNETES_SERVICE_PORT"
	// EnvNodeName is set from the downward API (fieldRef spec.nodeName) in
	// the DaemonSet.
	EnvNodeName = "NODE_NAME"

	// Overrides, for tests and for clusters reached through a proxy.
	EnvAPIURL    = "TUSK_KUBE_API_URL"
	EnvTokenFile = "TUSK_KUBE_TOKEN_FILE"
	EnvCAFile    = "TUSK_KUBE_CA_FILE"
)

// Config says how to reach the API server and which node to ask about.
type Config struct {
	// Server is the API's base URL, "https://10.96.0.1:443".
	Server string
	// TokenFile holds the service account's bearer token. It is read on
	// every request: the kubelet rotates projected tokens in place.
	TokenFile string
	// CAFile is the cluster's CA bundle (PEM); empty uses the system roots.
	CAFile string
	// Namespace is the agent's own namespace, for messages.
	Namespace string
	// Node is this node's name: only its pods are listed.
	Node string
	// Timeout bounds one list call (default 10s).
	Timeout time.Duration
}

// ErrNotInCluster means neither KUBERNETES_SERVICE_HOST nor TUSK_KUBE_API_URL
// is set: the agent does not run in a pod.
var ErrNotInCluster = errors.New("not running in a Kubernetes pod (KUBERNETES_SERVICE_HOST is not set)")

// ConfigFromEnv builds the in-cluster configuration from the environment a
// pod gets, with TUSK_KUBE_API_URL, TUSK_KUBE_TOKEN_FILE and TUSK_KUBE_CA_FILE
// taking precedence. It returns ErrNotInCluster outside a cluster, and an
// error naming what is missing when the pod lacks NODE_NAME.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := Config{
		TokenFile: ServiceAccountDir + "/token",
		CAFile:    ServiceAccountDir + "/ca.crt",
		Node:      strings.TrimSpace(getenv(EnvNodeName)),
	}
	switch host, port := getenv(EnvServiceHost), getenv(EnvServicePort); {
	case getenv(EnvAPIURL) != "":
		c.Server = strings.TrimRight(getenv(EnvAPIURL), "/")
	case host != "":
		if port == "" {
			port = "443"
		}
		c.Server = "https://" + net.JoinHostPort(host, port)
	default:
		return Config{}, ErrNotInCluster
	}
	if v := getenv(EnvTokenFile); v != "" {
		c.TokenFile = v
	}
	if v := getenv(EnvCAFile); v != "" {
		c.CAFile = v
	}
	if b, err := os.ReadFile(ServiceAccountDir + "/namespace"); err == nil {
		c.Namespace = strings.TrimSpace(string(b))
	}
	if c.Node == "" {
		return c, fmt.Errorf("%s is not set: the DaemonSet must pass the node's name from the downward API "+
			"(env NODE_NAME, valueFrom.fieldRef.fieldPath spec.nodeName; deploy/kubernetes/daemonset.yaml)", EnvNodeName)
	}
	return c, nil
}

// Pod is what the agent keeps of a pod. A Pod handed out by the Cache is
// shared: do not modify it.
type Pod struct {
	UID       string
	Name      string
	Namespace string
	Node      string
	Labels    map[string]string
	// MirrorOf is, for the mirror of a static pod, the UID the kubelet
	// uses for it locally (in cgroup paths): the kubernetes.io/config.mirror
	// annotation.
	MirrorOf string
	// Containers maps container IDs (bare, as in cgroups) to container
	// names, for regular, init and ephemeral containers.
	Containers map[string]string
}

// ContainerName returns the name of the container with the given ID, or "".
func (p *Pod) ContainerName(id string) string { return p.Containers[id] }

// APIError is a non-2xx answer of the API server.
type APIError struct {
	Code int
	// Message is the API's own (from its Status object), when it sent one.
	Message string
	Node    string
	// ServiceAccount names the agent's account for the RBAC hint.
	ServiceAccount string
}

func (e *APIError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.Code)
	}
	switch e.Code {
	case http.StatusUnauthorized:
		return fmt.Sprintf("Kubernetes API refused the service account token (401 Unauthorized: %s): "+
			"check the token file (automountServiceAccountToken) — retrying later", msg)
	case http.StatusForbidden:
		return fmt.Sprintf("Kubernetes API forbids listing the pods of node %s (403 Forbidden: %s): "+
			"grant %s get/list/watch on pods with the ClusterRole and ClusterRoleBinding of deploy/kubernetes/rbac.yaml — retrying later",
			e.Node, msg, e.ServiceAccount)
	}
	return fmt.Sprintf("Kubernetes API: listing the pods of node %s: %d %s", e.Node, e.Code, msg)
}

// Forbidden tells whether the API refused the agent's credentials or
// permissions: something an operator must fix.
func (e *APIError) Forbidden() bool {
	return e.Code == http.StatusUnauthorized || e.Code == http.StatusForbidden
}

// Client lists the pods of one node. It is a few dozen lines of HTTP instead
// of client-go: the agent makes one call.
type Client struct {
	cfg  Config
	http *http.Client
	url  string
}

// maxListBytes bounds a pod list answer (a pod is 5–20 KB of JSON with its
// managed fields; a node runs at most a few hundred).
const maxListBytes = 256 << 20

// NewClient checks cfg and prepares the TLS configuration.
func NewClient(cfg Config) (*Client, error) {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	u, err := url.Parse(cfg.Server)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("kubernetes API URL %q: want https://host:port", cfg.Server)
	}
	if cfg.Node == "" {
		return nil, fmt.Errorf("kubernetes: no node name (%s)", EnvNodeName)
	}
	tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("kubernetes CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("kubernetes CA %s: no PEM certificate in it", cfg.CAFile)
		}
		tlsConfig.RootCAs = pool
	}
	transport := &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		TLSClientConfig:     tlsConfig,
		TLSHandshakeTimeout: cfg.Timeout,
		MaxIdleConns:        1,
		IdleConnTimeout:     90 * time.Second,
		ForceAttemptHTTP2:   true,
	}
	q := url.Values{}
	q.Set("fieldSelector", "spec.nodeName="+cfg.Node)
	// Served from the API server's watch cache, which indexes pods by
	// node: no etcd read per agent.
	q.Set("resourceVersion", "0")
	return &Client{
		cfg:  cfg,
		http: &http.Client{Transport: transport, Timeout: cfg.Timeout},
		url:  strings.TrimRight(cfg.Server, "/") + "/api/v1/pods?" + q.Encode(),
	}, nil
}

// Config returns the client's configuration.
func (c *Client) Config() Config { return c.cfg }

// ListPods returns the pods scheduled on the node:
// GET /api/v1/pods?fieldSelector=spec.nodeName=<node>, following "continue"
// tokens if the server pages the answer.
func (c *Client) ListPods(ctx context.Context) ([]Pod, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	var pods []Pod
	cont := ""
	for page := 0; ; page++ {
		if page > 1000 {
			return nil, errors.New("kubernetes: pod list did not end after 1000 pages")
		}
		u := c.url
		if cont != "" {
			u += "&continue=" + url.QueryEscape(cont)
		}
		list, err := c.get(ctx, u)
		if err != nil {
			return nil, err
		}
		for i := range list.Items {
			pods = append(pods, list.Items[i].pod())
		}
		if cont = list.Metadata.Continue; cont == "" {
			return pods, nil
		}
	}
}

func (c *Client) get(ctx context.Context, u string) (*podList, error) {
	token, err := os.ReadFile(c.cfg.TokenFile)
	if err != nil {
		return nil, fmt.Errorf("kubernetes service account token: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(token)))
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "tusk-agent")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("kubernetes API %s: %w", c.cfg.Server, err)
	}
	defer resp.Body.Close()
	body := io.LimitReader(resp.Body, maxListBytes)
	if resp.StatusCode != http.StatusOK {
		var st struct {
			Message string `json:"message"`
		}
		b, _ := io.ReadAll(io.LimitReader(body, 64<<10))
		if json.Unmarshal(b, &st) != nil || st.Message == "" {
			st.Message = strings.TrimSpace(string(b))
			if len(st.Message) > 200 {
				st.Message = st.Message[:200] + "…"
			}
		}
		return nil, &APIError{Code: resp.StatusCode, Message: st.Message, Node: c.cfg.Node, ServiceAccount: c.serviceAccount()}
	}
	var list podList
	if err := json.NewDecoder(body).Decode(&list); err != nil {
		return nil, fmt.Errorf("kubernetes API: decoding the pod list: %w", err)
	}
	if list.Kind != "" && list.Kind != "PodList" {
		return nil, fmt.Errorf("kubernetes API: answered a %s, not a PodList", list.Kind)
	}
	return &list, nil
}

func (c *Client) serviceAccount() string {
	if c.cfg.Namespace == "" {
		return "the agent's service account"
	}
	return "the service account of namespace " + c.cfg.Namespace
}

// podList is the part of a v1 PodList the agent reads.
type podList struct {
	Kind     string `json:"kind"`
	Metadata struct {
		Continue string `json:"continue"`
	} `json:"metadata"`
	Items []podJSON `json:"items"`
}

type containerStatus struct {
	Name        string `json:"name"`
	ContainerID string `json:"containerID"`
}

type podJSON struct {
	Metadata struct {
		Name        string            `json:"name"`
		Namespace   string            `json:"namespace"`
		UID         string            `json:"uid"`
		Labels      map[string]string `json:"labels"`
		Annotations map[string]string `json:"annotations"`
	} `json:"metadata"`
	Spec struct {
		NodeName string `json:"nodeName"`
	} `json:"spec"`
	Status struct {
		ContainerStatuses          []containerStatus `json:"containerStatuses"`
		InitContainerStatuses      []containerStatus `json:"initContainerStatuses"`
		EphemeralContainerStatuses []containerStatus `json:"ephemeralContainerStatuses"`
	} `json:"status"`
}

// mirrorAnnotation holds, on a static pod's mirror, the kubelet's own UID.
const mirrorAnnotation = "kubernetes.io/config.mirror"

func (j *podJSON) pod() Pod {
	p := Pod{
		UID:        strings.ToLower(j.Metadata.UID),
		Name:       j.Metadata.Name,
		Namespace:  j.Metadata.Namespace,
		Node:       j.Spec.NodeName,
		Labels:     j.Metadata.Labels,
		MirrorOf:   strings.ToLower(j.Metadata.Annotations[mirrorAnnotation]),
		Containers: map[string]string{},
	}
	for _, list := range [][]containerStatus{j.Status.ContainerStatuses, j.Status.InitContainerStatuses, j.Status.EphemeralContainerStatuses} {
		for _, cs := range list {
			if id := TrimContainerID(cs.ContainerID); id != "" {
				p.Containers[id] = cs.Name
			}
		}
	}
	return p
}
