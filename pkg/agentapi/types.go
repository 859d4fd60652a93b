// Package agentapi is the contract of the agent's HTTP API: the JSON types it
// serves and a client for them. The agent serves it, the CLI and the Grafana
// plugin backend consume it, so the types live here once.
package agentapi

import (
	"time"

	"github.com/tusk-php/tusk/pkg/trace"
)

// Paths of the API, relative to the agent's base URL.
const (
	PathHealth    = "/healthz"
	PathMetrics   = "/metrics"
	PathTraces    = "/api/v1/traces"
	PathStatus    = "/api/v1/status"
	PathDeepModes = "/api/v1/probes/deep"
)

// Error is the body of every non-2xx answer.
type Error struct {
	Error string `json:"error"`
}

// SearchResponse is the answer to GET /api/v1/traces.
type SearchResponse struct {
	Traces []trace.Summary `json:"traces"`
}

// Status is the answer to GET /api/v1/status: what the agent sees and does.
type Status struct {
	Version   string     `json:"version"`
	Host      string     `json:"host"`
	StartedAt time.Time  `json:"startedAt"`
	Binaries  []Binary   `json:"binaries"`
	Probes    []Probe    `json:"probes"`
	DeepModes []DeepMode `json:"deepModes"`
	Events    Events     `json:"events"`
	Store     Store      `json:"store"`
	Profiling Profiling  `json:"profiling"`
	// Export is the OTLP exporter; absent when export is off.
	Export *ExportStatus `json:"export,omitempty"`
	// Kubernetes is pod attribution; absent when it is off (not in a
	// cluster).
	Kubernetes *Kubernetes `json:"kubernetes,omitempty"`
	// Capabilities are the privileges the agent kept once its BPF programs
	// were loaded; absent before that.
	Capabilities *Capabilities `json:"capabilities,omitempty"`
}

// Capabilities is what the agent dropped of its Linux capabilities after
// start-up and what it kept ("CAP_BPF"…), for every thread.
type Capabilities struct {
	Kept    []string `json:"kept"`
	Dropped []string `json:"dropped"`
	// Bounding is the bounding set afterwards: what an execve could ever
	// regain (none, with NoNewPrivs).
	Bounding   []string `json:"bounding"`
	NoNewPrivs bool     `json:"noNewPrivs"`
	// Error says why nothing was dropped (a binary built with cgo).
	Error string `json:"error,omitempty"`
}

// ExportStatus counts what the OTLP exporter did with the traces it was
// handed, in traces and spans. Every trace ends in exactly one outcome:
// enqueued = exported + dropped + failed + queued.
type ExportStatus struct {
	Endpoint string `json:"endpoint"`
	Protocol string `json:"protocol"` // "grpc" or "http"
	// Enqueued: handed to the exporter, including those dropped.
	EnqueuedTraces uint64 `json:"enqueuedTraces"`
	EnqueuedSpans  uint64 `json:"enqueuedSpans"`
	// Queued: waiting or being sent now.
	QueuedTraces uint64 `json:"queuedTraces"`
	QueuedSpans  uint64 `json:"queuedSpans"`
	// Exported: accepted by the backend.
	ExportedTraces uint64 `json:"exportedTraces"`
	ExportedSpans  uint64 `json:"exportedSpans"`
	// Dropped: the export queue was full.
	DroppedTraces uint64 `json:"droppedTraces"`
	DroppedSpans  uint64 `json:"droppedSpans"`
	// Failed: given up on after retries, or rejected by the backend.
	FailedTraces uint64 `json:"failedTraces"`
	FailedSpans  uint64 `json:"failedSpans"`
	// Retries: attempts repeated after a transient error.
	Retries     uint64    `json:"retries"`
	LastError   string    `json:"lastError,omitempty"`
	LastErrorAt time.Time `json:"lastErrorAt,omitzero"`
}

// Profiling is the state of the PHP stack sampler.
type Profiling struct {
	Enabled bool   `json:"enabled"`
	Hz      int    `json:"hz"`
	CPUs    int    `json:"cpus"`
	Error   string `json:"error,omitempty"`
}

// Binary is one PHP executable (identified by device and inode, so the same
// path in two containers is two binaries) and the processes running it.
type Binary struct {
	Path    string `json:"path"`
	ID      string `json:"id"` // "dev:inode"
	Version string `json:"version"`
	ZTS     bool   `json:"zts"`
	SAPI    string `json:"sapi"` // "fpm" or "cli"
	DTrace  bool   `json:"dtrace"`
	// Mode is how requests are traced ("usdt", "uprobe" or "none") and
	// ModeReason why.
	Mode       string `json:"mode"`
	ModeReason string `json:"modeReason"`
	// IOHooks are the I/O functions timed in this binary's processes
	// ("mysqli_query", "pdo::query", "curl_easy_perform"…); IOReason says
	// why some or all are missing.
	IOHooks  []string `json:"ioHooks"`
	IOReason string   `json:"ioReason,omitempty"`
	// StackWalk: the sampler and I/O call sites can read this PHP's stacks.
	StackWalk bool `json:"stackWalk"`
	// DeepAvailable tells whether function probes can fire (the PHP master
	// was started with USE_ZEND_DTRACE=1), DeepReason why not.
	DeepAvailable bool   `json:"deepAvailable"`
	DeepReason    string `json:"deepReason,omitempty"`
	Pools         []Pool `json:"pools"`
}

// Pool is a php-fpm pool (or, for php-cli, the processes of one binary).
type Pool struct {
	Name string `json:"name"`
	// Service is the service name the pool's traces carry.
	Service    string `json:"service"`
	MasterPID  int    `json:"masterPid,omitempty"`
	WorkerPIDs []int  `json:"workerPids"`
	// MountNamespace differs from the agent's for PHP in a container.
	MountNamespace string `json:"mountNamespace,omitempty"`
	// Pod, Namespace and Container name the Kubernetes pod the pool runs in
	// (from the API); PodUID and ContainerID come from its cgroup. Empty
	// outside Kubernetes or with pod attribution off.
	Pod         string `json:"pod,omitempty"`
	Namespace   string `json:"namespace,omitempty"`
	Container   string `json:"container,omitempty"`
	PodUID      string `json:"podUid,omitempty"`
	ContainerID string `json:"containerId,omitempty"`
}

// Kubernetes is the state of pod attribution: the node, the pod list from
// the API, the filter, and the PHP processes it keeps from being traced.
type Kubernetes struct {
	Node      string `json:"node"`
	APIServer string `json:"apiServer"`
	// Pods is how many pods of this node the last list returned.
	Pods        int       `json:"pods"`
	LastRefresh time.Time `json:"lastRefresh,omitzero"`
	// Error is the last list's failure (RBAC missing, API unreachable).
	Error string `json:"error,omitempty"`
	// Filter is the configured selection, in the configuration's words.
	Filter string `json:"filter,omitempty"`
	// ExcludedProcesses counts the PHP processes not traced because of the
	// filter (or because their pod is not known yet); Excluded says which,
	// per pod, and why.
	ExcludedProcesses int           `json:"excludedProcesses"`
	Excluded          []ExcludedPod `json:"excluded"`
	// DroppedRequests counts requests of excluded processes that reached
	// the agent anyway (their binary is probed for other pods) and were
	// discarded.
	DroppedRequests uint64 `json:"droppedRequests"`
}

// ExcludedPod is a pod whose PHP processes are not traced, and why.
type ExcludedPod struct {
	Namespace string `json:"namespace,omitempty"`
	Pod       string `json:"pod,omitempty"`
	PodUID    string `json:"podUid"`
	Reason    string `json:"reason"`
	PIDs      []int  `json:"pids"`
}

// Probe is one attached uprobe/USDT probe.
type Probe struct {
	Binary string `json:"binary"`
	Name   string `json:"name"` // e.g. "php:request__startup"
	Offset uint64 `json:"offset"`
	PID    int    `json:"pid,omitempty"` // 0: every process of the binary
}

// Events counts what came through the ring buffer.
type Events struct {
	Total      uint64   `json:"total"`
	PerSecond  float64  `json:"perSecond"`
	Lost       uint64   `json:"lost"`
	LostPerCPU []uint64 `json:"lostPerCpu"`
	RingBytes  int      `json:"ringBytes"`
	// SymbolsLimited counts function names held back because their process
	// was over its budget of symbol events; they are sent later.
	SymbolsLimited uint64 `json:"symbolsLimited"`
}

// Store describes the embedded trace store.
type Store struct {
	Path        string `json:"path"`
	SizeBytes   int64  `json:"sizeBytes"`
	Traces      int64  `json:"traces"`
	Written     uint64 `json:"written"`
	Dropped     uint64 `json:"dropped"`
	WriteErrors uint64 `json:"writeErrors"`
	LastError   string `json:"lastError,omitempty"`
}

// DeepModeRequest asks for function spans on a pool or on chosen workers.
// Exactly one of Pool or PIDs is set. Deep mode always expires on its own.
type DeepModeRequest struct {
	Pool      string   `json:"pool,omitempty"`
	PIDs      []int    `json:"pids,omitempty"`
	Threshold Duration `json:"threshold,omitempty"` // default 1ms
	For       Duration `json:"for,omitempty"`       // default 10m, at most MaxDeepModeFor
	MaxDepth  int      `json:"maxDepth,omitempty"`  // default 64
	// Nice is the nice value (0–19) the processes run at while deep mode is
	// on, so that their extra CPU comes out of what other processes leave;
	// a process already at that value or above keeps its own. Default
	// DefaultDeepNice for chosen PIDs (their pool-mates keep their
	// priority), 0 (unchanged) for a pool.
	Nice *int `json:"nice,omitempty"`
}

// Limits and defaults of deep mode.
const (
	DefaultDeepThreshold = time.Millisecond
	DefaultDeepFor       = 10 * time.Minute
	MaxDeepModeFor       = 24 * time.Hour
	DefaultDeepMaxDepth  = 64
	DefaultDeepNice      = 10
)

// DeepMode is an active deep-mode grant.
type DeepMode struct {
	ID        string    `json:"id"`
	Pool      string    `json:"pool,omitempty"`
	PIDs      []int     `json:"pids,omitempty"`
	Threshold Duration  `json:"threshold"`
	MaxDepth  int       `json:"maxDepth"`
	ExpiresAt time.Time `json:"expiresAt"`
	// AttachedPIDs are the processes whose function probes are attached now.
	AttachedPIDs []int `json:"attachedPids"`
	// Nice is the nice value they run at while deep mode is on (0: left
	// as it was); NiceError says why it could not be set where it was not.
	Nice      int    `json:"nice"`
	NiceError string `json:"niceError,omitempty"`
}
