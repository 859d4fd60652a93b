//go:build integration

package probes

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tusk-php/tusk/pkg/events"
	"github.com/tusk-php/tusk/pkg/iohooks"
	"github.com/tusk-php/tusk/pkg/phpbin"
	"github.com/tusk-php/tusk/pkg/phpfuncs"
)

// ioScript fetches a URL from a named function, then burns CPU in another,
// so one run shows an I/O call with its call site and stack samples.
const ioScript = `<?php
function fetch_page(string $url): string
{
    return file_get_contents($url);
}

function burn_cpu(): int
{
    $x = 0;
    for ($i = 0; $i < 40000000; $i++) { $x += $i % 7; }
    return $x;
}

fetch_page($argv[1]);
file_get_contents(__FILE__); // a local file: not an HTTP call, not reported
echo burn_cpu(), "\n";
`

// TestIOHookAndSamplerOnRealPHP hooks the http:// stream wrapper's opener
// (found through php_stream_http_wrapper) under file_get_contents and samples
// a CPU-bound function, with the opcache-less CLI.
func TestIOHookAndSamplerOnRealPHP(t *testing.T) {
	info, err := phpbin.Inspect(phpCLI)
	if err != nil {
		t.Skipf("needs Debian's %s: %v", phpCLI, err)
	}
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") }))
	defer upstream.Close()

	tr, err := Load(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	a, err := tr.Attach(info, phpCLI, ModeAuto)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if !a.StackOffsets {
		t.Fatal("no stack offsets for php 8.2")
	}

	// The function table is read from a live process of the binary.
	idle := exec.Command(phpCLI, "-r", "sleep(30);")
	if err := idle.Start(); err != nil {
		t.Fatal(err)
	}
	defer idle.Process.Kill()
	time.Sleep(200 * time.Millisecond)
	h, err := phpfuncs.ResolveStreamOpener("/proc", idle.Process.Pid, info, iohooks.StreamWrapperSymbol, iohooks.StreamOpener)
	if err != nil {
		t.Fatal(err)
	}
	hook, _ := iohooks.ByName(iohooks.StreamOpener)
	io := a.AttachIO([]IOTarget{{Hook: hook, OpenPath: h.OpenPath, FileOffset: h.FileOffset}})
	defer io.Close()
	if len(io.Failed) > 0 {
		t.Fatal(io.Failed)
	}
	sampler, err := tr.StartSampler(999)
	if err != nil {
		t.Fatal(err)
	}
	defer sampler.Close()

	script := filepath.Join(t.TempDir(), "io.php")
	if err := os.WriteFile(script, []byte(ioScript), 0o644); err != nil {
		t.Fatal(err)
	}
	run := exec.Command(phpCLI, script, upstream.URL+"/page?x=1")
	out, err := run.CombinedOutput()
	if err != nil {
		t.Fatalf("php: %v\n%s", err, out)
	}

	symbols := map[[2]uint64]*events.Symbol{}
	var ios []*events.IO
	var samples []*events.Sample
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		tr.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		ev, err := tr.ReadEvent()
		if errors.Is(err, os.ErrDeadlineExceeded) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		switch e := ev.(type) {
		case *events.Symbol:
			symbols[[2]uint64{e.Func, e.Name}] = e
		case *events.IO:
			ios = append(ios, e)
		case *events.Sample:
			if int(e.PID) == run.Process.Pid {
				samples = append(samples, e)
			}
		}
	}
	name := func(f events.FrameRef) string {
		s := symbols[[2]uint64{f.Func, f.Name}]
		if s == nil {
			return "?"
		}
		if s.Class != "" {
			return s.Class + "::" + s.Function
		}
		return s.Function
	}

	t.Logf("events: %d io, %d samples, %d symbols; handler %+v", len(ios), len(samples), len(symbols), h)
	if len(ios) != 1 {
		t.Fatalf("want 1 I/O event (the http:// fetch only), got %d", len(ios))
	}
	e := ios[0]
	if e.Hook != iohooks.StreamOpener || e.Text != upstream.URL+"/page?x=1" {
		t.Errorf("I/O event: hook %q text %q", e.Hook, e.Text)
	}
	if e.TS <= e.Start {
		t.Errorf("I/O call has no duration: %d..%d", e.Start, e.TS)
	}
	if e.Ret == 0 { // the php_stream *
		t.Error("the opener returned no stream")
	}
	if len(e.Frames) < 2 || name(e.Frames[0]) != "file_get_contents" || name(e.Frames[1]) != "fetch_page" {
		var got []string
		for _, f := range e.Frames {
			got = append(got, name(f))
		}
		t.Fatalf("call stack %v, want file_get_contents, fetch_page, …", got)
	}
	if e.Frames[1].Line != 4 {
		t.Errorf("call site line %d, want 4", e.Frames[1].Line)
	}
	if s := symbols[[2]uint64{e.Frames[1].Func, e.Frames[1].Name}]; s.File != script {
		t.Errorf("call site file %q, want %q", s.File, script)
	}

	inBurn := 0
	for _, s := range samples {
		if len(s.Frames) > 0 && name(s.Frames[0]) == "burn_cpu" {
			inBurn++
		}
	}
	t.Logf("%d samples of the script, %d in burn_cpu, %d symbols", len(samples), inBurn, len(symbols))
	if inBurn < 10 || inBurn*2 < len(samples) {
		var tops []string
		for _, s := range samples {
			if len(s.Frames) > 0 {
				tops = append(tops, name(s.Frames[0]))
			}
		}
		t.Fatalf("want most samples in burn_cpu, got %d of %d: %s", inBurn, len(samples), strings.Join(tops, " "))
	}
}
