package agentapi

import (
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// jsonFields lists a struct's JSON names and which of them are always
// present (no omitempty/omitzero).
func jsonFields(t reflect.Type) (all, required []string) {
	for i := range t.NumField() {
		tag := t.Field(i).Tag.Get("json")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" || name == "-" {
			continue
		}
		all = append(all, name)
		if !strings.Contains(opts, "omitempty") && !strings.Contains(opts, "omitzero") {
			required = append(required, name)
		}
	}
	slices.Sort(all)
	slices.Sort(required)
	return all, required
}

// TestOpenAPISchemasMatchTheTypes checks, for the status types of pods and
// pools and the function search, that openapi.yaml documents every JSON field, no other, and marks
// as required exactly those always sent.
func TestOpenAPISchemasMatchTheTypes(t *testing.T) {
	b, err := os.ReadFile("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Required   []string       `yaml:"required"`
				Properties map[string]any `yaml:"properties"`
			} `yaml:"schemas"`
		} `yaml:"components"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	for schema, typ := range map[string]reflect.Type{
		"Pool":         reflect.TypeFor[Pool](),
		"Kubernetes":   reflect.TypeFor[Kubernetes](),
		"ExcludedPod":  reflect.TypeFor[ExcludedPod](),
		"Capabilities": reflect.TypeFor[Capabilities](),
		// FunctionTrace is Summary and three fields, an allOf.
		"FunctionTracesResponse": reflect.TypeFor[FunctionTracesResponse](),
	} {
		s, ok := doc.Components.Schemas[schema]
		if !ok {
			t.Errorf("openapi.yaml has no schema %s", schema)
			continue
		}
		var documented []string
		for k := range s.Properties {
			documented = append(documented, k)
		}
		slices.Sort(documented)
		required := slices.Sorted(slices.Values(s.Required))
		all, always := jsonFields(typ)
		if !slices.Equal(documented, all) {
			t.Errorf("%s: openapi.yaml documents %v, the type has %v", schema, documented, all)
		}
		if !slices.Equal(required, always) {
			t.Errorf("%s: openapi.yaml requires %v, the type always sends %v", schema, required, always)
		}
	}
	if _, ok := doc.Components.Schemas["AgentStatus"].Properties["kubernetes"]; !ok {
		t.Error("AgentStatus does not document kubernetes")
	}
}
