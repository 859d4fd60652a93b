package agent

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/tusk-php/tusk/pkg/kube"
)

// KubeMode is kubernetes.enabled.
type KubeMode string

const (
	// KubeAuto attributes PHP processes to pods when the agent runs in a
	// Kubernetes pod (KUBERNETES_SERVICE_HOST is set).
	KubeAuto KubeMode = "auto"
	// KubeOn requires it: the agent refuses to start outside a cluster.
	KubeOn KubeMode = "true"
	// KubeOff never reads cgroups nor asks the API.
	KubeOff KubeMode = "false"
)

// UnmarshalYAML takes `auto`, `true` or `false`, as a string or a YAML
// boolean.
func (m *KubeMode) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: kubernetes.enabled: want auto, true or false", n.Line)
	}
	*m = KubeMode(strings.ToLower(n.Value))
	return nil
}

// KubernetesConfig is the `kubernetes:` section: pod attribution and which
// pods are traced.
type KubernetesConfig struct {
	Enabled KubeMode `yaml:"enabled"`
	// Namespaces, when not empty, are the only namespaces whose pods are
	// traced.
	Namespaces []string `yaml:"namespaces"`
	// ExcludeNamespaces are never traced (default kube-system).
	ExcludeNamespaces []string `yaml:"exclude_namespaces"`
	// PodSelector is an equality-based label selector ("app=wordpress,
	// tier!=batch") the pod must match.
	PodSelector string `yaml:"pod_selector"`
}

// defaultKubernetesConfig: on in a cluster, kube-system left alone.
func defaultKubernetesConfig() KubernetesConfig {
	return KubernetesConfig{Enabled: KubeAuto, ExcludeNamespaces: []string{"kube-system"}}
}

// Validate reports a setting that cannot work, naming it.
func (k *KubernetesConfig) Validate() error {
	switch k.Enabled {
	case KubeAuto, KubeOn, KubeOff:
	default:
		return fmt.Errorf("kubernetes.enabled %q: want auto, true or false", k.Enabled)
	}
	if _, err := k.filter(); err != nil {
		return err
	}
	return nil
}

func (k *KubernetesConfig) filter() (kube.Filter, error) {
	f, err := kube.NewFilter(k.Namespaces, k.ExcludeNamespaces, k.PodSelector)
	if err != nil {
		return kube.Filter{}, fmt.Errorf("kubernetes: %w", err)
	}
	return f, nil
}

// describeFilter is the filter in the configuration's words, for the status.
func (k *KubernetesConfig) describeFilter() string {
	var parts []string
	if len(k.Namespaces) > 0 {
		parts = append(parts, fmt.Sprintf("namespaces %v", k.Namespaces))
	}
	if len(k.ExcludeNamespaces) > 0 {
		parts = append(parts, fmt.Sprintf("exclude_namespaces %v", k.ExcludeNamespaces))
	}
	if k.PodSelector != "" {
		parts = append(parts, "pod_selector "+k.PodSelector)
	}
	return strings.Join(parts, "; ")
}
