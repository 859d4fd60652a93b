package agentapi

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestOpenAPISearchParams checks that openapi.yaml documents exactly the
// query parameters DecodeQuery accepts. The route list itself is checked
// against the server in pkg/agent/httpapi.
func TestOpenAPISearchParams(t *testing.T) {
	b, err := os.ReadFile("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, p := range []string{PathHealth, PathMetrics, PathTraces, PathStatus, PathDeepModes} {
		if !strings.Contains(doc, "\n  "+p+":\n") {
			t.Errorf("openapi.yaml has no path %s", p)
		}
	}

	// The search operation runs from its path key to the next path key.
	start := strings.Index(doc, "\n  "+PathTraces+":\n")
	if start < 0 {
		t.Fatal("no search operation")
	}
	section := doc[start+1:]
	if next := regexp.MustCompile(`\n  /`).FindStringIndex(section); next != nil {
		section = section[:next[0]]
	}
	var documented []string
	for _, m := range regexp.MustCompile(`(?m)^\s+- name: (\S+)\n\s+in: query$`).FindAllStringSubmatch(section, -1) {
		documented = append(documented, m[1])
	}
	if !slices.Equal(documented, SearchParams) {
		t.Errorf("openapi.yaml documents the search parameters\n  %v\nDecodeQuery accepts\n  %v", documented, SearchParams)
	}
}
