//go:build integration

package integration

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tusk-php/tusk/pkg/agentapi"
	"github.com/tusk-php/tusk/pkg/termview"
	"github.com/tusk-php/tusk/pkg/trace"
	"github.com/tusk-php/tusk/tests/stack"
)

// WordPress and MariaDB from Debian, installed by the test: the front page
// and a search become traces with the real URL, and in deep mode with
// WordPress's own functions nested.
func TestWordPressEndToEnd(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := stack.StartWordPress(ctx, tempDir(t, "tusk-wp-"), stack.StackOptions{FPMEnv: []string{"USE_ZEND_DTRACE=1"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop() })
	a := startAgent(t, s, "--profile-hz", "499")

	if code, body := get(t, s, "/"); code != 200 || !strings.Contains(body, "</html>") {
		t.Fatalf("GET /: %d", code)
	}
	if code, _ := get(t, s, "/?s=hello"); code != 200 {
		t.Fatalf("GET /?s=hello: %d", code)
	}
	list := a.waitTraces(t, trace.Query{Pool: s.Pool}, 2)
	seen := map[string]bool{}
	for _, sum := range list {
		tr := a.fetch(t, sum.TraceID)
		if tr.Method != "GET" || tr.StatusCode != 200 || tr.Path != "/" {
			t.Errorf("trace %s: %s %s %d", tr.TraceID, tr.Method, tr.Path, tr.StatusCode)
		}
		q, _ := tr.Root().Attributes[trace.AttrURLQuery].(string)
		seen[q] = true
		// PHP itself saw /index.php: the span names what the browser asked for.
		if script, _ := tr.Root().Attributes[trace.AttrPHPScript].(string); !strings.HasSuffix(script, "/index.php") {
			t.Errorf("php.script = %q", script)
		}
	}
	if !seen[""] || !seen["s=hello"] {
		t.Fatalf("queries seen: %v", seen)
	}

	enableDeep(t, a, agentapi.DeepModeRequest{Pool: s.Pool, Threshold: agentapi.Duration(100 * time.Microsecond), For: agentapi.Duration(time.Minute)})
	get(t, s, "/?deep=1")
	var deep *trace.Trace
	for _, sum := range a.waitTraces(t, trace.Query{Pool: s.Pool}, 3) {
		if tr := a.fetch(t, sum.TraceID); tr.Root().Attributes[trace.AttrURLQuery] == "deep=1" {
			deep = tr
		}
	}
	if deep == nil {
		t.Fatal("deep-mode request not traced")
	}
	var tree strings.Builder
	termview.Tree(&tree, deep)
	// WP_Query::get_posts runs in several places; the main query's runs
	// inside wp() → WP::main() → WP::query_posts(): walk up the parents.
	wp := spanNamed(t, deep, "wp")
	byID := map[trace.SpanID]*trace.Span{}
	for i := range deep.Spans {
		byID[deep.Spans[i].SpanID] = &deep.Spans[i]
	}
	var underWP *trace.Span
	for i := range deep.Spans {
		sp := &deep.Spans[i]
		if sp.Name != "WP_Query::get_posts" {
			continue
		}
		for p := byID[sp.ParentSpanID]; p != nil; p = byID[p.ParentSpanID] {
			if p.SpanID == wp.SpanID {
				underWP = sp
			}
		}
	}
	if underWP == nil {
		t.Fatalf("no WP_Query::get_posts nested under wp():\n%s", tree.String())
	}
	if got, _ := underWP.Attributes[trace.AttrCodeFilePath].(string); !strings.HasSuffix(got, "wp-includes/class-wp-query.php") {
		t.Errorf("WP_Query::get_posts file %q", got)
	}
	childOf(t, spanNamed(t, deep, "WP::main"), wp)
	if deep.Incomplete {
		t.Errorf("deep trace marked incomplete: %v", deep.Root().Attributes)
	}
	t.Logf("deep WordPress trace: %d spans, %s", len(deep.Spans), deep.Duration())

	checkIncludeNesting(t, a, s)
}

// checkIncludeNesting: in the pool's flame graph, the top-level code of each
// file WordPress includes sits under the file that includes it, in every
// sample. Opcache copies a script's main op_array into request memory at
// each include, so a sampler that knew such frames by that address named
// them after whichever file had last been there (wp-config.php found
// directly under wp-blog-header.php, wp-load.php under wp-config.php).
func checkIncludeNesting(t *testing.T, a *agentProc, s *stack.Stack) {
	t.Helper()
	for range 20 {
		get(t, s, "/")
	}
	includer := map[string]string{
		"include wp-blog-header.php": "{main}",
		"include wp-load.php":        "include wp-blog-header.php",
		"include wp-config.php":      "include wp-load.php",
		"include wp-settings.php":    "include wp-config.php",
	}
	var fg *agentapi.Flamegraph
	seen := 0
	for deadline := time.Now().Add(20 * time.Second); seen < 3 && time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		var err error
		fg, err = a.client.Flamegraph(context.Background(), agentapi.ProfileQuery{Pool: s.Pool, From: time.Now().Add(-10 * time.Minute)}, agentapi.MaxMaxNodes)
		if err != nil {
			t.Fatal(err)
		}
		seen = 0
		for _, n := range fg.Nodes {
			if _, ok := includer[n.Label]; ok {
				seen++
			}
		}
	}
	if seen < 3 {
		t.Fatalf("the WordPress profile has %d include nodes of wp-blog-header/wp-load/wp-config/wp-settings", seen)
	}
	// Nodes are in depth-first order with their level: a node's parent is
	// the last node one level up.
	var path []string
	for _, n := range fg.Nodes {
		path = append(path[:n.Level], n.Label)
		want, ok := includer[n.Label]
		if !ok || n.Level == 0 {
			continue
		}
		if parent := path[n.Level-1]; parent != want {
			t.Errorf("%s (%s, %d samples) is under %q, want %q: %s", n.Label, n.File, n.Value, parent, want, strings.Join(path, " → "))
		}
	}
	t.Logf("flame graph: %d nodes, %d samples, %d include nodes checked", len(fg.Nodes), fg.Total, seen)
}
