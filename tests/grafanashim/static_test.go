package grafanashim

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestStaticFilesAndClientRoutes(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("index.html", "<html>harness</html>")
	write("assets/harness.js", "console.log(1)")
	s := startFakeShim(t, &fakePlugin{}, dir)

	for path, want := range map[string]string{
		"/":                                  "harness</html>",
		"/a/tusk-php-app/overview":           "harness</html>",
		"/a/tusk-php-app/requests/trace/abc": "harness</html>",
		"/a/tusk-php-app/endpoint/GET%20%2Fwp-login.php": "harness</html>",
		"/index.html":        "harness</html>",
		"/assets/harness.js": "console.log",
	} {
		code, _, body := s.do("GET", path, "")
		if code != 200 || !strings.Contains(body, want) {
			t.Errorf("GET %s: %d %q, want %q", path, code, body, want)
		}
	}
	for path, wantCode := range map[string]int{
		"/assets/missing.js":   404,
		"/public/img/logo.svg": 404,
		"/../../etc/passwd":    200, // cleaned to /etc/passwd: not in dir, so the page
	} {
		if code, _, body := s.do("GET", path, ""); code != wantCode || strings.Contains(body, "root:") {
			t.Errorf("GET %s: %d, want %d", path, code, wantCode)
		}
	}
	if code, _, _ := s.do("POST", "/a/tusk-php-app/overview", "{}"); code != 405 {
		t.Errorf("POST to a page: %d", code)
	}

	empty := startFakeShim(t, &fakePlugin{}, t.TempDir())
	if code, _, body := empty.do("GET", "/a/tusk-php-app/overview", ""); code != 404 || !strings.Contains(body, "build:harness") {
		t.Errorf("no harness built: %d %s", code, body)
	}
}
