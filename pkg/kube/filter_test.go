package kube

import (
	"strings"
	"testing"
)

func TestParseSelector(t *testing.T) {
	for in, want := range map[string]string{
		"":                                    "",
		"app=wordpress":                       "app=wordpress",
		" app = wordpress , tier==frontend ":  "app=wordpress,tier=frontend",
		"app.kubernetes.io/name=shop":         "app.kubernetes.io/name=shop",
		"tier!=batch":                         "tier!=batch",
		"env=":                                "env=",
		"example.com/team=php,app=wordpress":  "example.com/team=php,app=wordpress",
		"a_b.c-d=V_1.x-2,app!=legacy-cron-99": "a_b.c-d=V_1.x-2,app!=legacy-cron-99",
	} {
		sel, err := ParseSelector(in)
		if err != nil || sel.String() != want {
			t.Errorf("ParseSelector(%q) = %q, %v; want %q", in, sel.String(), err, want)
		}
	}
	for in, why := range map[string]string{
		"app in (wordpress,drupal)":      "set-based",
		"app":                            "set-based",
		"!app":                           "set-based",
		"app=wordpress,":                 "set-based",
		"=wordpress":                     "label key",
		"-app=x":                         "label key",
		"app=-x":                         "value",
		"Example.COM/app=x":              "prefix",
		"app=" + strings.Repeat("x", 64): "value",
		"app=a=b":                        "value",
	} {
		if _, err := ParseSelector(in); err == nil || !strings.Contains(err.Error(), why) {
			t.Errorf("ParseSelector(%q): %v, want an error about %s", in, err, why)
		}
	}
}

func TestSelectorMatches(t *testing.T) {
	labels := map[string]string{"app": "wordpress", "tier": "frontend"}
	for sel, want := range map[string]bool{
		"":                            true,
		"app=wordpress":               true,
		"app=wordpress,tier=frontend": true,
		"app=wordpress,tier=backend":  false,
		"app=drupal":                  false,
		"missing=x":                   false,
		"tier!=batch":                 true,
		"missing!=x":                  true, // as in Kubernetes: absent is "not equal"
		"app!=wordpress":              false,
		"env=":                        false,
	} {
		s, err := ParseSelector(sel)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.Matches(labels); got != want {
			t.Errorf("%q matches %v: %v, want %v", sel, labels, got, want)
		}
	}
}

func TestFilterAdmit(t *testing.T) {
	wp := &Pod{Name: "wordpress-1", Namespace: "shop", Labels: map[string]string{"app": "wordpress"}}
	sys := &Pod{Name: "php-exporter", Namespace: "kube-system", Labels: map[string]string{"app": "wordpress"}}
	other := &Pod{Name: "drupal-1", Namespace: "blog", Labels: map[string]string{"app": "drupal"}}
	for _, tc := range []struct {
		name           string
		ns, exclude    []string
		selector       string
		pod            *Pod
		wantReasonHas  string // "" admitted
		wantEmptyFiltr bool
	}{
		{"nothing configured admits all", nil, nil, "", sys, "", true},
		{"default exclusion", nil, []string{"kube-system"}, "", sys, "namespace kube-system is in kubernetes.exclude_namespaces", false},
		{"default exclusion, other namespace", nil, []string{"kube-system"}, "", wp, "", false},
		{"only some namespaces", []string{"shop"}, nil, "", other, "namespace blog is not in kubernetes.namespaces [shop]", false},
		{"only some namespaces, in", []string{"shop", "blog"}, nil, "", other, "", false},
		{"selector", nil, nil, "app=wordpress", other, `labels do not match kubernetes.pod_selector "app=wordpress"`, false},
		{"selector, matching", nil, []string{"kube-system"}, "app=wordpress", wp, "", false},
		{"exclusion wins over the selector", nil, []string{"kube-system"}, "app=wordpress", sys, "exclude_namespaces", false},
	} {
		f, err := NewFilter(tc.ns, tc.exclude, tc.selector)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if f.Empty() != tc.wantEmptyFiltr {
			t.Errorf("%s: Empty() = %v", tc.name, f.Empty())
		}
		got := f.Admit(tc.pod)
		if (tc.wantReasonHas == "") != (got == "") || !strings.Contains(got, tc.wantReasonHas) {
			t.Errorf("%s: Admit = %q, want %q", tc.name, got, tc.wantReasonHas)
		}
	}
}

func TestNewFilterRefusesBadSettings(t *testing.T) {
	for _, tc := range []struct {
		ns, exclude []string
		selector    string
		why         string
	}{
		{[]string{"Shop"}, nil, "", "namespaces"},
		{nil, []string{"kube_system"}, "", "exclude_namespaces"},
		{[]string{"shop"}, []string{"shop"}, "", "both"},
		{nil, nil, "app in (a)", "pod_selector"},
	} {
		if _, err := NewFilter(tc.ns, tc.exclude, tc.selector); err == nil || !strings.Contains(err.Error(), tc.why) {
			t.Errorf("%+v: %v", tc, err)
		}
	}
}
