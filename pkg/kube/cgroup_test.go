package kube

import (
	"strings"
	"testing"
)

// Container IDs and pod UIDs as runtimes and the API write them.
const (
	cidA   = "3f1e2d4c5b6a79880716253443526170f9e8d7c6b5a4938271605f4e3d2c1b0a"
	cidB   = "8b1d0c6f2a4e4b1f9c3e7a5d0f2b6c8e1a3d5f7b9c0e2a4c6e8f0b2d4f6a8c0e"
	uidA   = "7f3e9c1a-2b4d-4e8f-9a6b-1c2d3e4f5a6b"
	uidA_  = "7f3e9c1a_2b4d_4e8f_9a6b_1c2d3e4f5a6b" // as the systemd driver names the slice
	hashed = "9e2b1f0c8d7a6b5c4d3e2f1a0b9c8d7e"     // a static pod's config hash
)

func TestSampleIDsAreWellFormed(t *testing.T) {
	if len(cidA) != 64 || len(cidB) != 64 || len(uidA) != 36 || len(hashed) != 32 {
		t.Fatal("test constants have the wrong length")
	}
}

func TestParseCgroup(t *testing.T) {
	for _, tc := range []struct {
		name, content string
		want          Ref
	}{
		{"containerd, systemd driver, cgroup v2 (kubeadm, EKS, GKE)",
			"0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + uidA_ + ".slice/cri-containerd-" + cidA + ".scope\n",
			Ref{PodUID: uidA, ContainerID: cidA, Runtime: "containerd"}},
		{"Guaranteed QoS pods sit directly in kubepods.slice",
			"0::/kubepods.slice/kubepods-pod" + uidA_ + ".slice/cri-containerd-" + cidA + ".scope\n",
			Ref{PodUID: uidA, ContainerID: cidA, Runtime: "containerd"}},
		{"kind: kubelet.slice prefix",
			"0::/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod" + uidA_ + ".slice/cri-containerd-" + cidA + ".scope\n",
			Ref{PodUID: uidA, ContainerID: cidA, Runtime: "containerd"}},
		{"containerd, systemd driver, cgroup v1: every hierarchy names the pod",
			"12:hugetlb:/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + uidA_ + ".slice/cri-containerd-" + cidA + ".scope\n" +
				"11:cpu,cpuacct:/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + uidA_ + ".slice/cri-containerd-" + cidA + ".scope\n" +
				"5:memory:/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + uidA_ + ".slice/cri-containerd-" + cidA + ".scope\n" +
				"1:name=systemd:/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + uidA_ + ".slice/cri-containerd-" + cidA + ".scope\n" +
				"0::/\n",
			Ref{PodUID: uidA, ContainerID: cidA, Runtime: "containerd"}},
		{"cgroupfs driver, cgroup v1 (Docker via dockershim or cri-dockerd, older kubeadm)",
			"12:pids:/kubepods/burstable/pod" + uidA + "/" + cidA + "\n" +
				"4:memory:/kubepods/burstable/pod" + uidA + "/" + cidA + "\n" +
				"1:name=systemd:/kubepods/burstable/pod" + uidA + "/" + cidA + "\n",
			Ref{PodUID: uidA, ContainerID: cidA}},
		{"cgroupfs driver, cgroup v2 (k3s)",
			"0::/kubepods/besteffort/pod" + uidA + "/" + cidA + "\n",
			Ref{PodUID: uidA, ContainerID: cidA}},
		{"cgroupfs driver, Guaranteed QoS",
			"0::/kubepods/pod" + uidA + "/" + cidA + "\n",
			Ref{PodUID: uidA, ContainerID: cidA}},
		{"CRI-O, systemd driver (OpenShift)",
			"0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + uidA_ + ".slice/crio-" + cidA + ".scope\n",
			Ref{PodUID: uidA, ContainerID: cidA, Runtime: "cri-o"}},
		{"CRI-O's conmon: the pod, not a container",
			"0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + uidA_ + ".slice/crio-conmon-" + cidA + ".scope\n",
			Ref{PodUID: uidA}},
		{"CRI-O, cgroupfs driver",
			"0::/kubepods/burstable/pod" + uidA + "/crio-" + cidA + "\n",
			Ref{PodUID: uidA, ContainerID: cidA, Runtime: "cri-o"}},
		{"Docker, systemd driver (cri-dockerd)",
			"0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + uidA_ + ".slice/docker-" + cidA + ".scope\n",
			Ref{PodUID: uidA, ContainerID: cidA, Runtime: "docker"}},
		{"the agent in its own cgroup namespace sees paths relative to it (systemd driver)",
			"0::/../../kubepods-besteffort-pod" + uidA_ + ".slice/cri-containerd-" + cidA + ".scope\n",
			Ref{PodUID: uidA, ContainerID: cidA, Runtime: "containerd"}},
		{"relative to the reader's cgroup namespace, cgroupfs, other QoS class",
			"0::/../../../burstable/pod" + uidA + "/" + cidA + "\n",
			Ref{PodUID: uidA, ContainerID: cidA}},
		{"relative to the reader's cgroup namespace, cgroupfs, same QoS class",
			"0::/../../pod" + uidA + "/" + cidA + "\n",
			Ref{PodUID: uidA, ContainerID: cidA}},
		{"a static pod: the kubelet's UID is the config hash",
			"0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + hashed + ".slice/cri-containerd-" + cidA + ".scope\n",
			Ref{PodUID: hashed, ContainerID: cidA, Runtime: "containerd"}},
		{"a process in a sub-cgroup of its container (systemd inside)",
			"0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + uidA_ + ".slice/cri-containerd-" + cidA + ".scope/system.slice/php-fpm.service\n",
			Ref{PodUID: uidA, ContainerID: cidA, Runtime: "containerd"}},
		{"the pod's own cgroup, no container",
			"0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + uidA_ + ".slice\n",
			Ref{PodUID: uidA}},
		{"upper-case hex is folded",
			"0::/kubepods/burstable/pod" + strings.ToUpper(uidA) + "/" + strings.ToUpper(cidA) + "\n",
			Ref{PodUID: uidA, ContainerID: cidA}},
		{"hybrid host: the v2 line tells more than the v1 lines",
			"9:name=systemd:/\n4:memory:/process_api/702732a2df0db562950e597da673cdd2\n0::/kubepods/besteffort/pod" + uidA + "/" + cidB + "\n",
			Ref{PodUID: uidA, ContainerID: cidB}},
		{"no trailing newline", "0::/kubepods/besteffort/pod" + uidA + "/" + cidA, Ref{PodUID: uidA, ContainerID: cidA}},

		// Containers outside Kubernetes: a container ID, no pod.
		{"Docker, systemd driver", "0::/system.slice/docker-" + cidA + ".scope\n", Ref{ContainerID: cidA, Runtime: "docker"}},
		{"Docker, cgroupfs, v1", "12:memory:/docker/" + cidA + "\n1:name=systemd:/docker/" + cidA + "\n", Ref{ContainerID: cidA, Runtime: "docker"}},
		{"Podman", "0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" + cidA + ".scope/container\n", Ref{ContainerID: cidA, Runtime: "podman"}},
		{"Podman's conmon", "0::/machine.slice/libpod-conmon-" + cidA + ".scope\n", Ref{}},

		// Not Kubernetes, not a container.
		{"php-fpm as a systemd service", "0::/system.slice/php8.2-fpm.service\n", Ref{}},
		{"a login session", "0::/user.slice/user-1000.slice/session-3.scope\n", Ref{}},
		{"root cgroup", "0::/\n", Ref{}},
		{"init", "0::/init.scope\n", Ref{}},
		{"cgroup v1, all at the root", "12:pids:/\n4:memory:/\n1:name=systemd:/init.scope\n", Ref{}},
		{"a sandbox's cgroup named by a hash", "4:memory:/process_api/702732a2df0db562950e597da673cdd2\n0::/\n", Ref{}},
		{"LXC", "0::/lxc.payload.web1\n", Ref{}},
		{"the kubepods slices themselves", "0::/kubepods.slice/kubepods-burstable.slice\n", Ref{}},
		{"pod<uid> outside kubepods is not a pod", "0::/system.slice/pod" + uidA + "/" + cidA + "\n", Ref{}},
		{"a -pod slice that is not kubelet's", "0::/system.slice/myapp-pod" + uidA_ + ".slice\n", Ref{}},
		{"a malformed UID", "0::/kubepods/burstable/pod7f3e9c1a-2b4d-4e8f-9a6b/" + cidA + "\n", Ref{}},
		{"a container ID that is not hex", "0::/system.slice/docker-notanidnotanidnotanid.scope\n", Ref{}},
		{"empty", "", Ref{}},
		{"garbage", "this is not a cgroup file\n::\n:\n", Ref{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ParseCgroup([]byte(tc.content)); got != tc.want {
				t.Errorf("ParseCgroup(%q)\n got %+v\nwant %+v", tc.content, got, tc.want)
			}
		})
	}
}

func TestTrimContainerID(t *testing.T) {
	for in, want := range map[string]string{
		"containerd://" + cidA: cidA,
		"cri-o://" + cidA:      cidA,
		"docker://" + cidA:     cidA,
		cidA:                   cidA,
		"":                     "",
	} {
		if got := TrimContainerID(in); got != want {
			t.Errorf("TrimContainerID(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzParseCgroup: any input parses without panicking into a Ref whose
// fields are well-formed, and a pod found is found again in the systemd
// layout built from it.
func FuzzParseCgroup(f *testing.F) {
	for _, s := range []string{
		"0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + uidA_ + ".slice/cri-containerd-" + cidA + ".scope\n",
		"12:memory:/kubepods/burstable/pod" + uidA + "/" + cidA + "\n0::/\n",
		"0::/../../kubepods-besteffort-pod" + uidA_ + ".slice/crio-" + cidA + ".scope",
		"0::/system.slice/docker-" + cidA + ".scope\n",
		"0::/kubepods/pod" + hashed + "/" + cidB,
		"1:name=systemd:/kubepods-pod.slice/-pod_.slice//pod/",
		"0::/user.slice\n",
		":::\n::",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r := ParseCgroup(b)
		if r.PodUID != "" {
			if _, ok := podUID(r.PodUID); !ok || r.PodUID != strings.ToLower(r.PodUID) {
				t.Fatalf("pod UID %q is malformed (from %q)", r.PodUID, b)
			}
		}
		if r.ContainerID != "" && (!isContainerID(r.ContainerID) || r.ContainerID != strings.ToLower(r.ContainerID)) {
			t.Fatalf("container ID %q is malformed (from %q)", r.ContainerID, b)
		}
		if r.ContainerID != "" && r.Runtime == "" && r.PodUID == "" {
			t.Fatalf("a bare container ID outside a pod (from %q): %+v", b, r)
		}
		if r.PodUID == "" {
			return
		}
		line := "0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" +
			strings.ReplaceAll(r.PodUID, "-", "_") + ".slice"
		if r.ContainerID != "" {
			line += "/cri-containerd-" + r.ContainerID + ".scope"
		}
		again := ParseCgroup([]byte(line))
		if again.PodUID != r.PodUID || again.ContainerID != r.ContainerID {
			t.Fatalf("%+v did not survive the round trip through %q: %+v", r, line, again)
		}
	})
}
