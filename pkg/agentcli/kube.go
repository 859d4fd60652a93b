package agentcli

import (
	"fmt"
	"io"
	"time"

	"github.com/tusk-php/tusk/pkg/agentapi"
)

// podOf is "  pod shop/wordpress-1 (php-fpm)" for a pool in a Kubernetes pod.
func podOf(p agentapi.Pool) string {
	switch {
	case p.Pod != "" && p.Container != "":
		return fmt.Sprintf("  pod %s/%s (%s)", p.Namespace, p.Pod, p.Container)
	case p.Pod != "":
		return fmt.Sprintf("  pod %s/%s", p.Namespace, p.Pod)
	case p.PodUID != "":
		return "  pod uid " + p.PodUID
	}
	return ""
}

// printKubernetes prints the pod attribution state and what it keeps from
// being traced; nothing when it is off.
func printKubernetes(w io.Writer, k *agentapi.Kubernetes) {
	if k == nil {
		return
	}
	fmt.Fprintf(w, "\nkubernetes: node %s, %d pods listed", k.Node, k.Pods)
	if !k.LastRefresh.IsZero() {
		fmt.Fprintf(w, " (%s ago)", time.Since(k.LastRefresh).Round(time.Second))
	}
	if k.Filter != "" {
		fmt.Fprintf(w, "; %s", k.Filter)
	}
	fmt.Fprintln(w)
	if k.Error != "" {
		fmt.Fprintf(w, "  API error: %s\n", k.Error)
	}
	if k.ExcludedProcesses > 0 {
		fmt.Fprintf(w, "  %d PHP processes not traced:\n", k.ExcludedProcesses)
		for _, e := range k.Excluded {
			name := "uid " + e.PodUID
			if e.Pod != "" {
				name = e.Namespace + "/" + e.Pod
			}
			fmt.Fprintf(w, "    pod %s pids %v: %s\n", name, e.PIDs, e.Reason)
		}
	}
	if k.DroppedRequests > 0 {
		fmt.Fprintf(w, "  %d requests of excluded processes dropped\n", k.DroppedRequests)
	}
}
