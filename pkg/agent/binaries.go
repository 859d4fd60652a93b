package agent

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tusk-php/tusk/pkg/discover"
	"github.com/tusk-php/tusk/pkg/iohooks"
	"github.com/tusk-php/tusk/pkg/phpbin"
	"github.com/tusk-php/tusk/pkg/phpfuncs"
	"github.com/tusk-php/tusk/pkg/phpoffsets"
	"github.com/tusk-php/tusk/pkg/probes"
	"github.com/tusk-php/tusk/pkg/procmem"
)

// modeNone is the mode of a binary whose requests cannot be traced.
const modeNone = "none"

// idleDetach is how long a binary keeps its probes with no process running
// it, so that a php-fpm restart loses no request.
const idleDetach = 30 * time.Second

// binaryState is one PHP executable the agent has seen.
type binaryState struct {
	id         discover.BinaryID
	exe        string // path as its processes see it
	info       *phpbin.Info
	attachment *probes.Attachment
	io         *probes.IOProbes
	ioReason   string
	mode       string
	reason     string
	idleSince  time.Time // zero while processes run it
}

// discoverLoop follows PHP processes until ctx ends, and runs the periodic
// housekeeping (deep-mode expiry, idle binaries, clock sync).
func (a *Agent) discoverLoop(ctx context.Context) error {
	housekeeping := time.NewTicker(time.Second)
	defer housekeeping.Stop()
	scan := time.NewTicker(a.cfg.ScanInterval)
	defer scan.Stop()
	lastClockSync := time.Now()
	if a.kube != nil {
		a.kube.waitFirstList(ctx) // so that the first scan already knows the pods
	}
	if err := a.poll(); err != nil {
		return err
	}
	if len(a.cfg.PIDs) > 0 {
		if err := a.requireTraceable(); err != nil {
			return err
		}
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-scan.C:
			if err := a.poll(); err != nil {
				return err
			}
		case now := <-housekeeping.C:
			a.housekeep(now)
			if now.Sub(lastClockSync) > 10*time.Second {
				a.clock.Sync()
				lastClockSync = now
			}
		}
	}
}

// requireTraceable fails when the agent was pointed at processes and none
// of their binaries could be attached: it would run tracing nothing.
func (a *Agent) requireTraceable() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	var reasons []string
	for _, b := range a.binaries {
		if b.attachment != nil {
			return nil
		}
		reasons = append(reasons, b.reason)
	}
	if len(reasons) == 0 && len(a.excluded) > 0 {
		// The kubernetes filter holds them back: that may change (labels,
		// the API answering), and the status says why meanwhile.
		a.log.Warn("every given PID is excluded by the kubernetes settings; waiting", "excluded", len(a.excluded))
		return nil
	}
	if len(reasons) == 0 {
		reasons = append(reasons, "none of the given PIDs is a PHP process")
	}
	return fmt.Errorf("%w: %s", ErrNothingToTrace, strings.Join(reasons, "; "))
}

func (a *Agent) poll() error {
	change, changed, err := a.watcher.Poll()
	if err != nil {
		return fmt.Errorf("process discovery: %w", err)
	}
	if changed {
		a.applyChange(change)
	}
	a.mu.Lock()
	a.forgetExitedUnscanned()
	a.mu.Unlock()
	return nil
}

// applyChange updates the process table, attaches new binaries and keeps
// deep mode on the workers it was asked for.
func (a *Agent) applyChange(c discover.Change) {
	if len(c.Denied) > 0 {
		a.log.Warn("cannot inspect some PHP processes: run the agent as root (CAP_SYS_PTRACE)", "pids", c.Denied)
	}
	type deepTarget struct {
		g *grant
		p discover.Process
	}
	var attach []deepTarget
	var detach []*probes.DeepProbes
	a.mu.Lock()
	a.noteExcluded(c.Excluded)
	for _, p := range c.Removed {
		delete(a.processes, p.PID)
		delete(a.unscanned, p.PID)
		for _, g := range a.grants {
			if d := g.take(p.PID); d != nil {
				detach = append(detach, d)
			}
		}
		a.nice.forget(p.PID)
		a.loop.processGone(uint32(p.PID))
	}
	// The whole table first: attachBinary reads a new binary's function
	// tables in its php-fpm master (ioSource), which may come after one of
	// its workers in PID order (PIDs wrap).
	for _, p := range c.Added {
		a.processes[p.PID] = p
		delete(a.unscanned, p.PID)
	}
	for _, p := range c.Added {
		b := a.binaries[p.BinaryID]
		if b == nil {
			b = a.attachBinary(p)
			a.binaries[p.BinaryID] = b
		}
		b.idleSince = time.Time{}
		for _, g := range a.grants {
			if g.wants(p) {
				attach = append(attach, deepTarget{g, p})
			}
		}
	}
	a.markIdleBinaries(time.Now())
	a.mu.Unlock()
	// Deep-mode uprobes come and go with workers. Attaching and closing them
	// waits for the kernel (closing: an RCU grace period per uprobe), so not
	// under a.mu, which the event loop takes to name every request's process.
	_ = probes.CloseDeep(detach)
	for _, t := range attach {
		_ = a.attachDeep(t.g, t.p)
	}
}

// attachBinary inspects a newly seen PHP executable and attaches the
// request probes. Failures are kept as the binary's mode and reason, which
// the status API shows: the agent goes on with the other binaries.
func (a *Agent) attachBinary(p discover.Process) *binaryState {
	b := &binaryState{id: p.BinaryID, exe: p.Exe, mode: modeNone}
	info, err := phpbin.Inspect(p.ExeOpenPath)
	if err != nil {
		b.reason = err.Error()
		a.log.Warn("not tracing PHP binary", "binary", p.Exe, "reason", b.reason)
		return b
	}
	b.info = info
	att, err := a.tracer.Attach(info, p.ExeOpenPath, a.cfg.RequestProbes)
	switch {
	case errors.Is(err, probes.ErrNoDTrace):
		b.reason = fmt.Sprintf("PHP %s at %s was built without DTrace (--enable-dtrace): it has no USDT request probes, "+
			"and request_probes is usdt; set it to auto or uprobe to trace it through php_request_startup/shutdown", info.Version, p.Exe)
	case errors.Is(err, probes.ErrZTS):
		b.reason = fmt.Sprintf("PHP %s at %s is a thread-safe (ZTS) build, which is not supported yet", info.Version, p.Exe)
	case err != nil:
		b.reason = fmt.Sprintf("attaching probes to %s failed: %v", p.Exe, err)
	case errors.Is(err, probes.ErrNoRequestHooks):
		b.reason = fmt.Sprintf("PHP %s at %s: %v", info.Version, p.Exe, err)
	default:
		b.attachment = att
		b.mode = string(att.Mode)
		if att.Mode == probes.ModeUSDT {
			b.reason = "USDT probes php:request__startup/shutdown (PHP built with DTrace)"
		} else {
			b.reason = "uprobes on php_request_startup/php_request_shutdown, request read from sapi_globals"
			if !info.HasProbe("php", "request__startup") {
				b.reason += " (PHP built without DTrace)"
			}
		}
		a.attachIO(b, p)
		if !att.SAPIOffsets {
			b.reason += fmt.Sprintf("; no struct offsets for PHP %s: HTTP status, query and FastCGI params are not read", info.MajorMinor())
		}
		a.byIndex[att.Binary] = b
		a.log.Info("tracing PHP binary", "binary", p.Exe, "version", info.Version, "sapi", info.SAPI, "probes", len(att.Probes()))
		return b
	}
	a.log.Warn("not tracing PHP binary", "binary", p.Exe, "reason", b.reason)
	return b
}

// ioSource picks the process whose memory attachIO reads for the binary p
// runs. A php-fpm worker runs whatever PHP it is sent, and PHP with FFI or
// a memory-safety bug can rewrite the engine's function tables to point a
// "handler" anywhere. The master loads the extensions and fills the tables
// before it forks the workers, which share them, and it never runs a
// request: its tables are the ones to trust. So: the worker's master when it
// is known, from the process table or, when only workers are traced
// (--pid of a worker), from /proc if the parent is a php-fpm master of the
// same binary. Otherwise (CLI, other SAPIs, no master in sight) p itself.
// Either way phpfuncs refuses handlers outside the PHP binary and its
// extensions. Called with a.mu held.
func (a *Agent) ioSource(p discover.Process) discover.Process {
	if p.Role != discover.RoleFPMWorker {
		return p
	}
	isMaster := func(m discover.Process) bool {
		return m.PID == p.PPID && m.Role == discover.RoleFPMMaster && m.BinaryID == p.BinaryID
	}
	if m, ok := a.processes[p.PPID]; ok && isMaster(m) {
		return m
	}
	if m, err := discover.Lookup(discover.Options{ProcRoot: a.procRoot}, p.PPID); err == nil && isMaster(*m) {
		return *m
	}
	return p
}

// attachIO finds the I/O functions in the memory of the binary's php-fpm
// master, or of p (ioSource): the engine's function tables, libcurl's
// exports. It hooks them for every process of the binary. Called with a.mu
// held.
func (a *Agent) attachIO(b *binaryState, p discover.Process) {
	if !a.cfg.IO.Enabled {
		b.ioReason = "disabled in the configuration (io.enabled)"
		return
	}
	if !b.attachment.StackOffsets {
		b.ioReason = fmt.Sprintf("no executor offsets for PHP %s: I/O calls cannot be read", b.info.MajorMinor())
		return
	}
	offs, err := phpoffsets.Lookup(b.info.MajorMinor(), b.info.Machine)
	if err != nil {
		b.ioReason = err.Error()
		return
	}
	start := time.Now()
	src := a.ioSource(p)
	found, rejected, err := phpfuncs.Resolve(a.procRoot, src.PID, b.info, offs, iohooks.PHPNames())
	if err != nil {
		b.ioReason = fmt.Sprintf("reading PHP's function tables in PID %d: %v", src.PID, err)
		a.log.Warn("I/O hooks unavailable", "binary", p.Exe, "reason", b.ioReason)
		return
	}
	for lib, syms := range iohooks.LibrarySymbols() {
		// From the library's ELF exports, not from the process's memory.
		libFound, err := phpfuncs.ResolveLibrarySymbols(a.procRoot, src.PID, lib, syms)
		if err != nil {
			a.log.Debug("library symbols", "library", lib, "error", err)
		}
		for name, h := range libFound {
			found[name] = h
		}
	}
	h, err := phpfuncs.ResolveStreamOpener(a.procRoot, src.PID, b.info, iohooks.StreamWrapperSymbol, iohooks.StreamOpener)
	var refused *phpfuncs.Rejected
	switch {
	case err == nil:
		found[iohooks.StreamOpener] = h
	case errors.As(err, &refused):
		rejected = append(rejected, *refused)
	default:
		a.log.Debug("http stream wrapper", "error", err)
	}
	var targets []probes.IOTarget
	for _, hook := range iohooks.All {
		if h, ok := found[hook.Name]; ok {
			targets = append(targets, probes.IOTarget{Hook: hook, OpenPath: h.OpenPath, FileOffset: h.FileOffset})
		}
	}
	b.io = b.attachment.AttachIO(targets)
	var reasons []string
	var missing []string
	for _, e := range b.io.Failed {
		missing = append(missing, e.Error())
	}
	if len(missing) > 0 {
		reasons = append(reasons, "some hooks failed: "+strings.Join(missing, "; "))
	} else if len(targets) == 0 && len(rejected) == 0 {
		reasons = append(reasons, "none of mysqli, PDO, curl, redis, memcached is loaded")
	}
	if len(rejected) > 0 {
		// Not a PHP engine as shipped: a forged table, or an extension
		// that points handlers at code outside itself. Once per binary.
		var what []string
		for _, r := range rejected {
			what = append(what, r.Error())
		}
		refusedText := fmt.Sprintf("refused %d handler(s) read from PID %d (%s) that are not code of the PHP binary or a PHP extension: %s",
			len(rejected), src.PID, src.Role, strings.Join(what, "; "))
		reasons = append(reasons, refusedText)
		a.log.Warn("I/O hooks refused", "binary", p.Exe, "pid", src.PID, "role", src.Role.String(), "refused", strings.Join(what, "; "))
	}
	if b.io.PerSiteReason != "" {
		// Still traced, but each hook is its own uprobe: slower to detach.
		reasons = append(reasons, "one uprobe per hook: "+b.io.PerSiteReason)
	}
	b.ioReason = strings.Join(reasons, "; ")
	a.log.Info("I/O hooks", "binary", p.Exe, "pid", src.PID, "role", src.Role.String(), "attached", len(b.io.Attached), "failed", len(b.io.Failed),
		"refused", len(rejected), "uprobeMulti", b.io.Multi(), "took", time.Since(start).Round(time.Millisecond))
}

// markIdleBinaries notes binaries no process runs any more. Called with a.mu.
func (a *Agent) markIdleBinaries(now time.Time) {
	running := map[discover.BinaryID]bool{}
	for _, p := range a.processes {
		running[p.BinaryID] = true
	}
	for id, b := range a.binaries {
		if !running[id] && b.idleSince.IsZero() {
			b.idleSince = now
		}
	}
}

// housekeep expires deep mode and forgets binaries idle for long.
func (a *Agent) housekeep(now time.Time) {
	a.mu.Lock()
	expired := a.expireGrants(now)
	a.detachIdleBinaries(now)
	a.mu.Unlock()
	_ = probes.CloseDeep(expired) // waits for the kernel: not under a.mu
}

// detachIdleBinaries detaches the binaries no process has run for
// idleDetach. Called with a.mu.
func (a *Agent) detachIdleBinaries(now time.Time) {
	for id, b := range a.binaries {
		if b.idleSince.IsZero() || now.Sub(b.idleSince) < idleDetach {
			continue
		}
		if b.io != nil {
			b.io.Close()
		}
		if b.attachment != nil {
			b.attachment.Close()
			delete(a.byIndex, b.attachment.Binary)
		}
		delete(a.binaries, id)
		a.log.Info("detached idle PHP binary", "binary", b.exe)
	}
}

// deepAvailable tells whether function probes can fire in pid: PHP sets
// zend_dtrace_enabled at engine start when USE_ZEND_DTRACE=1 was in the
// environment of the master.
func (a *Agent) deepAvailable(b *binaryState, pid int) (bool, string) {
	if b.info == nil || !b.info.HasProbe("php", "function__entry") {
		return false, "this PHP build has no function probes"
	}
	sym, ok := b.info.Symbols["zend_dtrace_enabled"]
	if !ok {
		return false, "this PHP build does not export zend_dtrace_enabled"
	}
	bias, err := procmem.LoadBias(a.procRoot, pid, b.info.LinkBase())
	if err != nil {
		return false, err.Error()
	}
	v := make([]byte, 1)
	if err := procmem.Read(a.procRoot, pid, sym.Value+bias, v); err != nil {
		return false, err.Error()
	}
	if v[0] == 0 {
		return false, "PHP was started without USE_ZEND_DTRACE=1: function probes never fire. " +
			"Start the php-fpm master with USE_ZEND_DTRACE=1 in its environment (it disables the opcache JIT)"
	}
	return true, ""
}
