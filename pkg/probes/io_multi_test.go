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
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf"

	"github.com/tusk-php/tusk/pkg/events"
	"github.com/tusk-php/tusk/pkg/iohooks"
	"github.com/tusk-php/tusk/pkg/phpbin"
	"github.com/tusk-php/tusk/pkg/phpfuncs"
	"github.com/tusk-php/tusk/pkg/phpoffsets"
)

// allHooksScript calls hooks in five files: the PHP binary (http://
// stream), libcurl, pdo.so (SQLite, no server), mysqli.so, redis.so and
// memcached.so (refused connections: the hooks fire all the same).
const allHooksScript = `<?php
$u = $argv[1];
file_get_contents($u . '/stream');
$c = curl_init($u . '/curl');
curl_setopt($c, CURLOPT_RETURNTRANSFER, true);
curl_exec($c);
curl_getinfo($c, CURLINFO_RESPONSE_CODE);
$pdo = new PDO('sqlite::memory:');
$pdo->exec('CREATE TABLE t (a INTEGER)');
$pdo->query('SELECT 1');
$st = $pdo->prepare('SELECT ?');
$st->execute([1]);
mysqli_report(MYSQLI_REPORT_OFF);
@mysqli_connect('127.0.0.1', 'user', 'secret', 'tuskdb', 1);
$r = new Redis();
try { $r->connect('127.0.0.1', 1, 0.5); } catch (Throwable $e) {}
try { $r->get('rkey'); } catch (Throwable $e) {}
$m = new Memcached();
$m->addServer('127.0.0.1', 1);
$m->get('mkey');
echo "done\n";
`

// wantIO are the I/O events allHooksScript must give: hook → text or key
// ("" checks the hook only).
func wantIO(url string) map[string]string {
	return map[string]string{
		iohooks.StreamOpener:    url + "/stream",
		"curl_easy_setopt":      url + "/curl",
		"curl_easy_perform":     "",
		"curl_easy_getinfo":     "",
		"pdo::__construct":      "sqlite::memory:",
		"pdo::exec":             "CREATE TABLE t (a INTEGER)",
		"pdo::query":            "SELECT 1",
		"pdo::prepare":          "SELECT ?",
		"pdostatement::execute": "SELECT ?",
		"mysqli_connect":        "127.0.0.1",
		"redis::connect":        "127.0.0.1",
		"redis::get":            "rkey",
		"memcached::addserver":  "127.0.0.1",
		"memcached::get":        "mkey",
	}
}

// resolveAllHooks finds every hook in a live php-cli, as the agent does.
// The targets open the files through that process (/proc/PID/map_files),
// which lives until the test ends.
func resolveAllHooks(t *testing.T, info *phpbin.Info) []IOTarget {
	t.Helper()
	idle := exec.Command(phpCLI, "-r", "sleep(120);")
	if err := idle.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idle.Process.Kill(); idle.Wait() })
	time.Sleep(200 * time.Millisecond)
	pid := idle.Process.Pid
	offs, err := phpoffsets.Lookup(info.MajorMinor(), info.Machine)
	if err != nil {
		t.Fatal(err)
	}
	found, refused, err := phpfuncs.Resolve("/proc", pid, info, offs, iohooks.PHPNames())
	if err != nil || len(refused) > 0 {
		t.Fatal(err, refused)
	}
	for lib, syms := range iohooks.LibrarySymbols() {
		libFound, err := phpfuncs.ResolveLibrarySymbols("/proc", pid, lib, syms)
		if err != nil {
			t.Fatalf("%s: %v", lib, err)
		}
		for name, h := range libFound {
			found[name] = h
		}
	}
	h, err := phpfuncs.ResolveStreamOpener("/proc", pid, info, iohooks.StreamWrapperSymbol, iohooks.StreamOpener)
	if err != nil {
		t.Fatal(err)
	}
	found[iohooks.StreamOpener] = h
	var targets []IOTarget
	modules := map[string]int{}
	for _, hook := range iohooks.All {
		if h, ok := found[hook.Name]; ok {
			targets = append(targets, IOTarget{Hook: hook, OpenPath: h.OpenPath, FileOffset: h.FileOffset})
			modules[filepath.Base(h.Module)]++
		}
	}
	for name := range wantIO("") {
		if _, ok := found[name]; !ok {
			t.Fatalf("hook %s not found in php-cli (modules %v)", name, modules)
		}
	}
	t.Logf("%d of %d hooks resolved, per file: %v", len(targets), len(iohooks.All), modules)
	return targets
}

// TestIOHooksMultiOnRealPHP attaches every I/O hook to php-cli and its
// extensions and libcurl, with uprobe_multi links and with per-site
// uprobes, checks that each hooked call reports its own site, and times
// attaching and detaching.
func TestIOHooksMultiOnRealPHP(t *testing.T) {
	info, err := phpbin.Inspect(phpCLI)
	if err != nil {
		t.Skipf("needs Debian's %s: %v", phpCLI, err)
	}
	targets := resolveAllHooks(t, info)
	for _, perSite := range []bool{false, true} {
		name := "multi"
		if perSite {
			name = "per-site"
		}
		t.Run(name, func(t *testing.T) { testIOHooks(t, info, targets, perSite) })
	}
}

func testIOHooks(t *testing.T, info *phpbin.Info, targets []IOTarget, perSite bool) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") }))
	defer upstream.Close()
	tr, err := Load(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	if !perSite {
		if err := tr.UprobeMulti(); err != nil {
			t.Skipf("kernel without uprobe_multi links: %v", err)
		}
	}
	tr.perSiteIO = perSite
	a, err := tr.Attach(info, phpCLI, ModeAuto)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if perSite { // loaded on first use: not part of the attach time
		tr.mu.Lock()
		err := tr.loadPerSiteIO()
		tr.mu.Unlock()
		if err != nil {
			t.Fatal(err)
		}
	}

	start := time.Now()
	io := a.AttachIO(targets)
	attachTook := time.Since(start)
	closed := false
	defer func() {
		if !closed {
			io.Close()
		}
	}()
	if len(io.Failed) > 0 {
		t.Fatal(io.Failed)
	}
	links := countLinks(tr)
	t.Logf("AttachIO of %d hooks: %v, %d links, per-site reason %q", len(io.Attached), attachTook, links, io.PerSiteReason)
	if got := io.Multi(); got == perSite {
		t.Fatalf("Multi() = %v with perSiteIO %v (reason %q)", got, perSite, io.PerSiteReason)
	}
	if perSite != (io.PerSiteReason != "") {
		t.Fatalf("per-site reason %q", io.PerSiteReason)
	}
	if probes := io.Probes(); len(probes) != len(targets) {
		t.Fatalf("%d probes listed for %d hooks", len(probes), len(targets))
	}

	checkIOEvents(t, tr, wantIO(upstream.URL), upstream.URL)
	if t.Failed() {
		return
	}

	if !perSite {
		checkSharedSites(t, tr, a, io, targets)
	}
	start = time.Now()
	err = io.Close()
	closed = true
	closeTook := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("IOProbes.Close of %d hooks (%d links): %v", len(targets), links, closeTook)
	tr.mu.Lock()
	left := len(tr.ioSites)
	tr.mu.Unlock()
	if left != 0 {
		t.Fatalf("%d I/O sites left after Close", left)
	}
}

// countLinks counts the links of the I/O sites in place.
func countLinks(tr *Tracer) int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	seen := map[*ioLinks]bool{}
	n := 0
	for _, s := range tr.ioSites {
		if !seen[s.links] {
			seen[s.links] = true
			n += len(s.links.group.links)
		}
	}
	return n
}

// checkSharedSites: a second binary asking for some of the same sites
// shares them; a multi link lives, its unused sites in the table, until
// none of its sites is used, and asking again for a site revives it.
func checkSharedSites(t *testing.T, tr *Tracer, a *Attachment, io *IOProbes, targets []IOTarget) {
	t.Helper()
	sitesInUse := func() int {
		tr.mu.Lock()
		defer tr.mu.Unlock()
		return int(tr.sites.next) - len(tr.sites.free)
	}
	before, links := sitesInUse(), countLinks(tr)
	some := a.AttachIO(targets[:3])
	if len(some.Failed) > 0 || !some.Multi() || sitesInUse() != before || countLinks(tr) != links {
		t.Fatalf("second AttachIO: failed %v, multi %v, sites %d→%d, links %d→%d",
			some.Failed, some.Multi(), before, sitesInUse(), links, countLinks(tr))
	}
	if err := some.Close(); err != nil {
		t.Fatal(err)
	}
	if sitesInUse() != before || countLinks(tr) != links || len(io.Probes()) != len(targets) {
		t.Fatal("closing the second IOProbes detached shared sites")
	}
	// Now the other way round: the first goes; the second keeps the links
	// of its sites' file, with the file's other sites, unused, in the table.
	some = a.AttachIO(targets[:3])
	tr.mu.Lock()
	kept := tr.ioSites[some.keys[0]].links
	keptSites := len(kept.keys)
	oneFile := true
	for _, k := range some.keys {
		oneFile = oneFile && tr.ioSites[k].links == kept
	}
	tr.mu.Unlock()
	if !oneFile {
		t.Fatal("the first three hooks are not in one file")
	}
	requestSites := before - len(io.Probes())
	if err := io.Close(); err != nil {
		t.Fatal(err)
	}
	tr.mu.Lock()
	left := len(tr.ioSites)
	tr.mu.Unlock()
	if left != keptSites || sitesInUse() != requestSites+keptSites || countLinks(tr) != 2 ||
		len(some.Probes()) != 3 || !some.Multi() {
		t.Fatalf("after closing the first: %d sites in the table, want %d; %d slots, want %d; %d links; probes %v",
			left, keptSites, sitesInUse(), requestSites+keptSites, countLinks(tr), some.Probes())
	}
	// Revive every site: no new slot, no new link.
	*io = *a.AttachIO(targets)
	if len(io.Failed) > 0 || sitesInUse() != before || countLinks(tr) != links {
		t.Fatalf("revived: failed %v, sites %d→%d, links %d→%d", io.Failed, before, sitesInUse(), links, countLinks(tr))
	}
	if err := some.Close(); err != nil {
		t.Fatal(err)
	}
}

// checkIOEvents runs allHooksScript and checks that each hook in want
// reported its call, with its text or key.
func checkIOEvents(t *testing.T, tr *Tracer, want map[string]string, url string) {
	t.Helper()
	script := filepath.Join(t.TempDir(), "hooks.php")
	if err := os.WriteFile(script, []byte(allHooksScript), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(phpCLI, script, url).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "done") {
		t.Fatalf("php: %v\n%s", err, out)
	}
	got := map[string][]*events.IO{}
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
		if e, ok := ev.(*events.IO); ok {
			got[e.Hook] = append(got[e.Hook], e)
		}
	}
	var seen []string
	for h, es := range got {
		seen = append(seen, fmt.Sprintf("%s×%d", h, len(es)))
	}
	sort.Strings(seen)
	t.Logf("I/O events: %s", strings.Join(seen, " "))
	for hook, text := range want {
		es := got[hook]
		if len(es) == 0 {
			t.Errorf("no event from %s", hook)
			continue
		}
		h, _ := iohooks.ByName(hook)
		e := es[0]
		if text != "" && e.Text != text && e.Key != text {
			t.Errorf("%s: text %q key %q, want %q", hook, e.Text, e.Key, text)
		}
		if h.Return && e.TS <= e.Start {
			t.Errorf("%s: a timed call with no duration", hook)
		}
	}
}

// TestIOHooksWithoutUprobeMulti: on a kernel without uprobe_multi links
// (faked) only the per-site programs are loaded, and the hooks work.
func TestIOHooksWithoutUprobeMulti(t *testing.T) {
	info, err := phpbin.Inspect(phpCLI)
	if err != nil {
		t.Skipf("needs Debian's %s: %v", phpCLI, err)
	}
	var targets []IOTarget
	for _, tg := range resolveAllHooks(t, info) {
		if tg.Hook.Library != "" { // libcurl and the stream opener
			targets = append(targets, tg)
		}
	}
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") }))
	defer upstream.Close()

	saved := haveUprobeMulti
	haveUprobeMulti = func() error { return fmt.Errorf("faked: %w", ebpf.ErrNotSupported) }
	tr, err := Load(Options{})
	haveUprobeMulti = saved
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	if tr.UprobeMulti() == nil || tr.io.IoEnterMulti != nil || tr.io.IoEnter == nil {
		t.Fatalf("uprobe_multi %v, programs %+v", tr.UprobeMulti(), tr.io.ioPrograms)
	}
	a, err := tr.Attach(info, phpCLI, ModeAuto)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	io := a.AttachIO(targets)
	defer io.Close()
	if len(io.Failed) > 0 {
		t.Fatal(io.Failed)
	}
	t.Logf("per-site reason: %s", io.PerSiteReason)
	if io.Multi() || !strings.Contains(io.PerSiteReason, "faked") {
		t.Fatalf("multi %v, reason %q", io.Multi(), io.PerSiteReason)
	}
	want := map[string]string{}
	for hook, text := range wantIO(upstream.URL) {
		if h, _ := iohooks.ByName(hook); h.Library != "" {
			want[hook] = text
		}
	}
	checkIOEvents(t, tr, want, upstream.URL)
}

// TestIOMultiFallsBackPerFile: when a file's uprobe_multi link fails (here
// one offset is past the end of libcurl), that file is hooked site by site,
// so only the bad site fails; the other files keep their multi links.
func TestIOMultiFallsBackPerFile(t *testing.T) {
	info, err := phpbin.Inspect(phpCLI)
	if err != nil {
		t.Skipf("needs Debian's %s: %v", phpCLI, err)
	}
	var targets []IOTarget
	for _, tg := range resolveAllHooks(t, info) {
		if tg.Hook.Library != "" {
			targets = append(targets, tg)
		}
	}
	var bad IOTarget
	for _, tg := range targets {
		if tg.Hook.Library == "libcurl" {
			bad = tg
		}
	}
	bad.Hook.Name = "no_such_function"
	bad.FileOffset = 1 << 40
	targets = append(targets, bad)

	tr, err := Load(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	if err := tr.UprobeMulti(); err != nil {
		t.Skipf("kernel without uprobe_multi links: %v", err)
	}
	a, err := tr.Attach(info, phpCLI, ModeAuto)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	io := a.AttachIO(targets)
	defer io.Close()
	t.Logf("attached %d, failed %v, per-site reason %q", len(io.Attached), io.Failed, io.PerSiteReason)
	if len(io.Failed) != 1 || !strings.HasPrefix(io.Failed[0].Error(), "no_such_function: ") ||
		len(io.Attached) != len(targets)-1 || io.PerSiteReason == "" {
		t.Fatal("want only the bad site failed, after a per-site fallback")
	}
	if tr.UprobeMulti() != nil {
		t.Fatal("one file's failure turned uprobe_multi off")
	}
	tr.mu.Lock()
	defer tr.mu.Unlock()
	for _, k := range io.keys {
		s := tr.ioSites[k]
		if isCurl := strings.HasPrefix(s.probe.Name, "io:curl_"); s.links.multi == isCurl {
			t.Errorf("%s: multi %v", s.probe.Name, s.links.multi)
		}
	}
}
