package httpapi

import (
	"bufio"
	"os"
	"regexp"
	"strings"
	"testing"
)

const openAPIFile = "../../agentapi/openapi.yaml"

var (
	yamlPath      = regexp.MustCompile(`^  (/\S*):\s*$`)
	yamlOperation = regexp.MustCompile(`^    (get|put|post|delete|patch|head|options):\s*$`)
	yamlPublic    = regexp.MustCompile(`^      security:\s*\[\]\s*$`)
)

// documentedOperations reads "METHOD /path" → public from the paths section
// of openapi.yaml. A line scanner is enough for the layout the file keeps
// (two-space indents) and needs no YAML dependency.
func documentedOperations(t *testing.T) map[string]bool {
	t.Helper()
	f, err := os.Open(openAPIFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ops := map[string]bool{}
	inPaths := false
	var path, op string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "paths:":
			inPaths = true
		case !inPaths:
		case line != "" && line[0] != ' ' && line[0] != '#':
			inPaths = false // the next top-level key
		case yamlPath.MatchString(line):
			path, op = yamlPath.FindStringSubmatch(line)[1], ""
		case yamlOperation.MatchString(line):
			op = strings.ToUpper(yamlOperation.FindStringSubmatch(line)[1]) + " " + path
			ops[op] = false
		case op != "" && yamlPublic.MatchString(line):
			ops[op] = true
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(ops) == 0 {
		t.Fatalf("no operations found in %s: has its layout changed?", openAPIFile)
	}
	return ops
}

// TestOpenAPIDescribesEveryRoute keeps openapi.yaml and the route table in
// step, both ways, including which operations need no token.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	documented := documentedOperations(t)
	registered := map[string]bool{}
	for _, rt := range (&server{}).routes() {
		key := rt.method + " " + rt.path
		registered[key] = true
		public, ok := documented[key]
		switch {
		case !ok:
			t.Errorf("route %s is not in %s", key, openAPIFile)
		case public != rt.public:
			t.Errorf("%s: openapi.yaml says public=%v (security: []), the server says %v", key, public, rt.public)
		}
	}
	for key := range documented {
		if !registered[key] {
			t.Errorf("%s documents %s, which the server does not register", openAPIFile, key)
		}
	}
}
