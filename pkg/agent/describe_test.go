package agent

import (
	"testing"

	"github.com/tusk-php/tusk/pkg/discover"
	"github.com/tusk-php/tusk/pkg/trace"
)

// describe puts the pod on a traced process's requests and drops those of
// processes the kubernetes filter excludes.
func TestDescribeWithPods(t *testing.T) {
	cfg := defaultKubernetesConfig()
	k := testAttribution(t, cfg, listed{
		{UID: wpUID, Name: "wordpress-1", Namespace: "shop", Containers: map[string]string{wpCID: "php-fpm"}},
		{UID: sysUID, Name: "php-exporter", Namespace: "kube-system"},
	})
	wp := discover.Process{PID: 10, Role: discover.RoleFPMWorker, Pool: "www", PodUID: wpUID, ContainerID: wpCID}
	sys := discover.Process{PID: 11, Role: discover.RoleFPMWorker, Pool: "www", PodUID: sysUID}
	a := &Agent{
		cfg:       DefaultConfig(),
		procRoot:  t.TempDir(), // an empty /proc: unscanned PIDs are not found
		kube:      k,
		processes: map[int]discover.Process{10: wp},
		excluded:  map[int]discover.Excluded{11: {Process: sys, Reason: k.exclude(sys)}},
		unscanned: map[int]discover.Process{},
	}
	got := a.describe(0, 10)
	if got.Drop || got.Pool != "www" || got.Attributes[trace.AttrK8sPodName] != "wordpress-1" ||
		got.Attributes[trace.AttrK8sContainerName] != "php-fpm" || got.Attributes[trace.AttrK8sNodeName] != "worker-1" {
		t.Errorf("traced pod: %+v", got)
	}
	if got := a.describe(0, 11); !got.Drop {
		t.Errorf("excluded pod: %+v", got)
	}
	if got := a.describe(0, 12); got.Drop || got.Attributes != nil {
		t.Errorf("unknown process: %+v", got)
	}
	a.kube = nil
	if got := a.describe(0, 10); got.Attributes != nil {
		t.Errorf("attribution off: %+v", got)
	}
}
