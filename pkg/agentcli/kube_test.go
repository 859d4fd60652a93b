package agentcli

import (
	"strings"
	"testing"

	"github.com/tusk-php/tusk/pkg/agentapi"
)

func TestPrintKubernetes(t *testing.T) {
	var b strings.Builder
	printKubernetes(&b, nil)
	if b.Len() != 0 {
		t.Fatalf("printed %q with attribution off", b.String())
	}
	printKubernetes(&b, &agentapi.Kubernetes{
		Node: "worker-1", Pods: 12, Filter: "exclude_namespaces [kube-system]", ExcludedProcesses: 3,
		Error:    "Kubernetes API forbids listing the pods of node worker-1 (403 Forbidden: …)",
		Excluded: []agentapi.ExcludedPod{{Namespace: "kube-system", Pod: "php-exporter", PodUID: "u", Reason: "namespace kube-system is in kubernetes.exclude_namespaces", PIDs: []int{10, 11, 12}}},
	})
	for _, want := range []string{"node worker-1, 12 pods listed; exclude_namespaces [kube-system]", "API error: Kubernetes API forbids",
		"3 PHP processes not traced", "pod kube-system/php-exporter pids [10 11 12]: namespace kube-system is in"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("missing %q in\n%s", want, b.String())
		}
	}
	if got := podOf(agentapi.Pool{Pod: "wordpress-1", Namespace: "shop", Container: "php-fpm"}); got != "  pod shop/wordpress-1 (php-fpm)" {
		t.Errorf("podOf = %q", got)
	}
	if got := podOf(agentapi.Pool{}); got != "" {
		t.Errorf("podOf outside a pod = %q", got)
	}
}
