package profile

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/pprof/profile"
)

func TestPprofRoundTrip(t *testing.T) {
	start := time.Date(2026, 11, 25, 9, 30, 0, 0, time.UTC)
	var buf bytes.Buffer
	if err := WritePprof(&buf, handProfile(), start, time.Minute); err != nil {
		t.Fatal(err)
	}
	if b := buf.Bytes(); len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
		t.Fatal("not gzipped")
	}
	pp, err := profile.Parse(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if err := pp.CheckValid(); err != nil {
		t.Fatal(err)
	}
	if len(pp.SampleType) != 2 || pp.SampleType[0].Type != "samples" || pp.SampleType[0].Unit != "count" ||
		pp.SampleType[1].Type != "cpu" || pp.SampleType[1].Unit != "nanoseconds" {
		t.Errorf("sample types %v %v", pp.SampleType[0], pp.SampleType[1])
	}
	if pp.Period != testPeriod || pp.TimeNanos != start.UnixNano() || pp.DurationNanos != int64(time.Minute) {
		t.Errorf("period %d time %d duration %d", pp.Period, pp.TimeNanos, pp.DurationNanos)
	}
	var samples, cpu int64
	lines := map[int64]bool{}
	for _, s := range pp.Sample {
		samples += s.Value[0]
		cpu += s.Value[1]
		if s.Label["pool"][0] != "www" || s.Label["endpoint"][0] != "GET /wp-admin/" || s.Label["service"][0] != "php-fpm" {
			t.Errorf("labels %v", s.Label)
		}
		leaf := s.Location[0].Line[0]
		root := s.Location[len(s.Location)-1].Line[0]
		if root.Function.Name != "{main}" || root.Function.Filename != "/www/index.php" {
			t.Errorf("root %+v: want {main} (locations leaf first)", root.Function)
		}
		if leaf.Function.Name == "db_query" {
			lines[leaf.Line] = true
		}
	}
	if samples != 8 || cpu != 8*testPeriod {
		t.Errorf("samples %d cpu %d", samples, cpu)
	}
	if !lines[5] || !lines[7] {
		t.Errorf("db_query lines %v, want 5 and 7 kept apart", lines)
	}
	if n := len(pp.Function); n != 5 {
		t.Errorf("%d functions, want 5 (one per name and file)", n)
	}
}

// TestGoToolPprofOpensIt runs the real pprof over the file, when a Go
// toolchain is at hand.
func TestGoToolPprofOpensIt(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go on PATH")
	}
	path := filepath.Join(t.TempDir(), "php.pb.gz")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := WritePprof(f, handProfile(), time.Now(), time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	for _, sampleIndex := range []string{"cpu", "samples"} {
		out, err := exec.Command(gobin, "tool", "pprof", "-top", "-sample_index="+sampleIndex, path).CombinedOutput()
		if err != nil {
			t.Fatalf("go tool pprof -top: %v\n%s", err, out)
		}
		text := string(out)
		for _, want := range []string{"db_query", "render", "A::run", "B::helper"} {
			if !strings.Contains(text, want) {
				t.Errorf("-sample_index=%s: output lacks %s:\n%s", sampleIndex, want, text)
			}
		}
		if sampleIndex == "samples" && !strings.Contains(text, "50.00%") { // db_query's flat share
			t.Errorf("no 50%% row:\n%s", text)
		}
	}
	out, err := exec.Command(gobin, "tool", "pprof", "-top", "-tagfocus=pool=www", path).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "db_query") {
		t.Errorf("-tagfocus=pool=www: %v\n%s", err, out)
	}
}
