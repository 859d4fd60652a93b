// Package kube attributes PHP processes to Kubernetes pods: their pod UID and
// container ID from /proc/<pid>/cgroup (ParseCgroup, pure), the pod's name,
// namespace, labels and container names from the Kubernetes API (Client, a
// small hand-written client for the one call needed: list the pods of this
// node), kept in a Cache that never blocks its readers, and Filter, which
// decides from the configuration which pods are traced.
package kube

import (
	"bytes"
	"strings"
)

// Ref is what a process's cgroup says about where it runs. The zero Ref
// means "not in a pod nor a container we recognise".
type Ref struct {
	// PodUID is the pod's UID as the kubelet knows it, with dashes
	// ("1a2b3c4d-5e6f-…"), or for a static pod its 32-hex config hash (the
	// API's mirror pod carries it in the kubernetes.io/config.mirror
	// annotation). Empty outside Kubernetes.
	PodUID string
	// ContainerID is the runtime's container ID without prefix or suffix
	// (64 hex for containerd, CRI-O and Docker): the part after "://" in
	// status.containerStatuses[].containerID.
	ContainerID string
	// Runtime is "containerd", "cri-o", "docker" or "podman" when the cgroup
	// name tells; cgroupfs names a container by its bare ID, so it stays
	// empty there.
	Runtime string
}

// InPod tells whether the process runs in a Kubernetes pod.
func (r Ref) InPod() bool { return r.PodUID != "" }

// ParseCgroup reads the contents of /proc/<pid>/cgroup: one
// "hierarchy-ID:controllers:path" line per hierarchy (cgroup v1), or the
// single "0::path" line of cgroup v2, or both on a hybrid host. The line that
// tells the most wins (pod and container, then pod, then container); among
// equals, the first. Paths may be relative to the reader's cgroup namespace
// ("/../../kubepods-…"), as they are for an agent in a container.
func ParseCgroup(content []byte) Ref {
	var best Ref
	for len(content) > 0 {
		line := content
		if i := bytes.IndexByte(content, '\n'); i >= 0 {
			line, content = content[:i], content[i+1:]
		} else {
			content = nil
		}
		// hierarchy-ID:controller-list:path; the path may itself hold colons.
		first := bytes.IndexByte(line, ':')
		if first < 0 {
			continue
		}
		second := bytes.IndexByte(line[first+1:], ':')
		if second < 0 {
			continue
		}
		r := ParseCgroupPath(string(line[first+1+second+1:]))
		if score(r) > score(best) {
			best = r
		}
	}
	return best
}

func score(r Ref) int {
	s := 0
	if r.PodUID != "" {
		s += 2
	}
	if r.ContainerID != "" {
		s++
	}
	return s
}

// ParseCgroupPath parses one cgroup path, in the layouts kubelet and the
// container runtimes use:
//
//	systemd driver: /kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<uid_with_underscores>.slice/cri-containerd-<id>.scope
//	                (crio-<id>.scope, docker-<id>.scope; Guaranteed pods sit directly in kubepods.slice)
//	cgroupfs driver: /kubepods/burstable/pod<uid>/<id>   (besteffort; Guaranteed: /kubepods/pod<uid>/<id>)
//	outside Kubernetes: /system.slice/docker-<id>.scope, /docker/<id>, /machine.slice/libpod-<id>.scope
func ParseCgroupPath(path string) Ref {
	parts := strings.Split(strings.TrimSpace(path), "/")
	var r Ref
	for i, part := range parts {
		uid, ok := podComponent(part, parts[:i])
		if !ok {
			continue
		}
		r.PodUID = uid
		if i+1 < len(parts) {
			r.ContainerID, r.Runtime = containerComponent(parts[i+1], true)
		}
		return r
	}
	// No pod: a plain Docker or Podman container, named by its runtime.
	for i, part := range parts {
		if id, runtime := containerComponent(part, false); id != "" {
			return Ref{ContainerID: id, Runtime: runtime}
		}
		// cgroupfs Docker: /docker/<id>
		if part == "docker" && i+1 < len(parts) && isContainerID(parts[i+1]) {
			return Ref{ContainerID: strings.ToLower(parts[i+1]), Runtime: "docker"}
		}
	}
	return Ref{}
}

// podComponent recognises the cgroup of a pod: "kubepods-<qos>-pod<uid>.slice"
// (systemd driver, dashes of the UID turned to underscores, maybe under a
// "kubelet-" prefix as in kind) or "pod<uid>" under kubepods, besteffort,
// burstable or a ".." of a path relative to the reader's cgroup namespace
// (cgroupfs driver).
func podComponent(part string, before []string) (string, bool) {
	if name, ok := strings.CutSuffix(part, ".slice"); ok {
		i := strings.LastIndex(name, "-pod")
		if i < 0 || !strings.Contains(name[:i+1], "kubepods-") {
			return "", false
		}
		return podUID(strings.ReplaceAll(name[i+len("-pod"):], "_", "-"))
	}
	rest, ok := strings.CutPrefix(part, "pod")
	if !ok || len(before) == 0 {
		return "", false
	}
	switch before[len(before)-1] {
	case "kubepods", "besteffort", "burstable", "..":
		return podUID(rest)
	}
	return "", false
}

// podUID accepts a UID as the API writes it (8-4-4-4-12 hex) or a static
// pod's 32-hex config hash, and returns it lower-case.
func podUID(s string) (string, bool) {
	s = strings.ToLower(s)
	switch len(s) {
	case 36:
		for i := 0; i < len(s); i++ {
			if i == 8 || i == 13 || i == 18 || i == 23 {
				if s[i] != '-' {
					return "", false
				}
			} else if !isHex(s[i]) {
				return "", false
			}
		}
		return s, true
	case 32:
		return s, isHexString(s)
	}
	return "", false
}

// containerComponent recognises a container's cgroup: "<prefix><id>.scope"
// for the systemd driver, "<id>" (or "crio-<id>") for cgroupfs. bare allows a
// prefix-less ID, which only means a container right under a pod.
func containerComponent(part string, bare bool) (id, runtime string) {
	name := strings.TrimSuffix(part, ".scope")
	for _, p := range []struct{ prefix, runtime string }{
		{"cri-containerd-", "containerd"},
		{"crio-conmon-", ""}, // CRI-O's monitor process, not the container
		{"crio-", "cri-o"},
		{"docker-", "docker"},
		{"libpod-conmon-", ""},
		{"libpod-", "podman"},
	} {
		if rest, ok := strings.CutPrefix(name, p.prefix); ok {
			if p.runtime == "" || !isContainerID(rest) {
				return "", ""
			}
			return strings.ToLower(rest), p.runtime
		}
	}
	if bare && name == part && isContainerID(name) {
		return strings.ToLower(name), ""
	}
	return "", ""
}

// isContainerID accepts the hex IDs runtimes use (64 characters for all of
// containerd, CRI-O, Docker and Podman; shorter ones from 12 on).
func isContainerID(s string) bool { return len(s) >= 12 && len(s) <= 128 && isHexString(s) }

func isHexString(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isHex(s[i]) {
			return false
		}
	}
	return s != ""
}

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

// TrimContainerID turns the API's "containerd://<id>" (cri-o://, docker://)
// into the bare ID a cgroup carries.
func TrimContainerID(s string) string {
	if i := strings.Index(s, "://"); i >= 0 {
		s = s[i+3:]
	}
	return strings.ToLower(s)
}
