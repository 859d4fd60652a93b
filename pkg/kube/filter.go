package kube

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Requirement is one term of a label selector: Key = Value, or Key != Value.
type Requirement struct {
	Key, Value string
	Not        bool
}

// Selector is an equality-based label selector, "app=wordpress,tier!=batch":
// every term must hold. The empty Selector matches every pod.
type Selector []Requirement

// ParseSelector parses the equality-based subset of Kubernetes label
// selectors: comma-separated "key=value", "key==value" or "key!=value".
// Set-based terms (in, notin, exists) are refused with a message that says
// so. Keys and values are checked the way the API checks labels.
func ParseSelector(s string) (Selector, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	var sel Selector
	for _, term := range strings.Split(s, ",") {
		term = strings.TrimSpace(term)
		var r Requirement
		op := "="
		switch {
		case strings.Contains(term, "!="):
			op, r.Not = "!=", true
		case strings.Contains(term, "=="):
			op = "=="
		case !strings.Contains(term, "="):
			return nil, fmt.Errorf("pod selector %q: term %q: want key=value or key!=value (set-based selectors such as \"in\" or a bare key are not supported)", s, term)
		}
		key, value, _ := strings.Cut(term, op)
		r.Key, r.Value = strings.TrimSpace(key), strings.TrimSpace(value)
		if err := checkLabelKey(r.Key); err != nil {
			return nil, fmt.Errorf("pod selector %q: %w", s, err)
		}
		if err := checkLabelValue(r.Value); err != nil {
			return nil, fmt.Errorf("pod selector %q: label %s: %w", s, r.Key, err)
		}
		sel = append(sel, r)
	}
	return sel, nil
}

// Matches tells whether labels satisfy every term. As in Kubernetes,
// "key!=value" holds when the label is absent.
func (s Selector) Matches(labels map[string]string) bool {
	for _, r := range s {
		v, ok := labels[r.Key]
		if r.Not == (ok && v == r.Value) {
			return false
		}
	}
	return true
}

func (s Selector) String() string {
	terms := make([]string, len(s))
	for i, r := range s {
		op := "="
		if r.Not {
			op = "!="
		}
		terms[i] = r.Key + op + r.Value
	}
	return strings.Join(terms, ",")
}

// checkLabelKey: an optional DNS-subdomain prefix and "/", then a name of at
// most 63 characters, alphanumeric at both ends, with - _ . inside.
func checkLabelKey(k string) error {
	prefix, name, hasPrefix := strings.Cut(k, "/")
	if !hasPrefix {
		prefix, name = "", k
	}
	if hasPrefix && (prefix == "" || len(prefix) > 253 || !isDNSSubdomain(prefix)) {
		return fmt.Errorf("label key %q: the prefix must be a DNS subdomain", k)
	}
	if name == "" || len(name) > 63 || !isLabelName(name) {
		return fmt.Errorf("label key %q: want at most 63 characters [A-Za-z0-9_.-], alphanumeric at both ends", k)
	}
	return nil
}

// checkLabelValue: empty, or like a key's name part.
func checkLabelValue(v string) error {
	if v == "" {
		return nil
	}
	if len(v) > 63 || !isLabelName(v) {
		return fmt.Errorf("value %q: want at most 63 characters [A-Za-z0-9_.-], alphanumeric at both ends", v)
	}
	return nil
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

func isLabelName(s string) bool {
	if !isAlnum(s[0]) || !isAlnum(s[len(s)-1]) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && c != '-' && c != '_' && c != '.' {
			return false
		}
	}
	return true
}

func isDNSSubdomain(s string) bool {
	for _, part := range strings.Split(s, ".") {
		if part == "" || len(part) > 63 || !isDNSLabel(part) {
			return false
		}
	}
	return true
}

// isDNSLabel is RFC 1123: lower-case alphanumeric and '-', alphanumeric at
// both ends. Namespace names are such labels.
func isDNSLabel(s string) bool {
	if s == "" || len(s) > 63 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// CheckNamespace reports a name that cannot be a namespace.
func CheckNamespace(ns string) error {
	if !isDNSLabel(ns) {
		return fmt.Errorf("%q is not a namespace name (lower-case letters, digits and '-', at most 63)", ns)
	}
	return nil
}

// Filter decides which pods' PHP processes are traced.
type Filter struct {
	// Namespaces, when not empty, are the only ones traced.
	Namespaces []string
	// ExcludeNamespaces are never traced (checked after Namespaces).
	ExcludeNamespaces []string
	// Selector must match the pod's labels.
	Selector Selector
}

// NewFilter checks and builds a Filter from the configuration's words.
func NewFilter(namespaces, exclude []string, selector string) (Filter, error) {
	var errs []error
	for _, ns := range namespaces {
		if err := CheckNamespace(ns); err != nil {
			errs = append(errs, fmt.Errorf("namespaces: %w", err))
		}
	}
	for _, ns := range exclude {
		if err := CheckNamespace(ns); err != nil {
			errs = append(errs, fmt.Errorf("exclude_namespaces: %w", err))
		}
		if slices.Contains(namespaces, ns) {
			errs = append(errs, fmt.Errorf("namespace %s is both in namespaces and in exclude_namespaces", ns))
		}
	}
	sel, err := ParseSelector(selector)
	if err != nil {
		errs = append(errs, fmt.Errorf("pod_selector: %w", err))
	}
	if len(errs) > 0 {
		return Filter{}, errors.Join(errs...)
	}
	return Filter{Namespaces: namespaces, ExcludeNamespaces: exclude, Selector: sel}, nil
}

// Empty tells whether the filter admits every pod.
func (f Filter) Empty() bool {
	return len(f.Namespaces) == 0 && len(f.ExcludeNamespaces) == 0 && len(f.Selector) == 0
}

// Admit returns "" when the pod's PHP processes are traced, else why not, in
// words for the status and the log.
func (f Filter) Admit(p *Pod) string {
	if len(f.Namespaces) > 0 && !slices.Contains(f.Namespaces, p.Namespace) {
		return fmt.Sprintf("namespace %s is not in kubernetes.namespaces %v", p.Namespace, f.Namespaces)
	}
	if slices.Contains(f.ExcludeNamespaces, p.Namespace) {
		return fmt.Sprintf("namespace %s is in kubernetes.exclude_namespaces", p.Namespace)
	}
	if !f.Selector.Matches(p.Labels) {
		return fmt.Sprintf("labels do not match kubernetes.pod_selector %q", f.Selector.String())
	}
	return ""
}
