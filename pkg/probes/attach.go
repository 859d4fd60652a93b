package probes

import (
	"errors"
	"fmt"
	"sync"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"

	"github.com/tusk-php/tusk/pkg/phpbin"
	"github.com/tusk-php/tusk/pkg/phpoffsets"
	"github.com/tusk-php/tusk/pkg/usdt"
)

// probeSpec declares one USDT probe we attach: which PHP probe, which
// program, and whether a binary without it can still be traced.
type probeSpec struct {
	name     string
	program  func(t *Tracer) *ebpf.Program
	required bool
}

const phpProvider = "php"

// requestProbes are always on: they fire without USE_ZEND_DTRACE and rarely.
var requestProbes = []probeSpec{
	{name: "request__startup", program: func(t *Tracer) *ebpf.Program { return t.objs.RequestStartup }, required: true},
	{name: "request__shutdown", program: func(t *Tracer) *ebpf.Program { return t.objs.RequestShutdown }, required: true},
	{name: "exception__thrown", program: func(t *Tracer) *ebpf.Program { return t.objs.ExceptionThrown }},
	// error fires only when USE_ZEND_DTRACE is set (PHP registers its
	// error observer then), so it is missing-in-practice elsewhere.
	{name: "error", program: func(t *Tracer) *ebpf.Program { return t.objs.PhpError }},
}

// deepProbes are attached on demand, per worker PID.
var deepProbes = []probeSpec{
	{name: "function__entry", program: func(t *Tracer) *ebpf.Program { return t.deep.FunctionEntry }, required: true},
	{name: "function__return", program: func(t *Tracer) *ebpf.Program { return t.deep.FunctionReturn }, required: true},
}

// ErrNoDTrace means the binary has no USDT request probes.
var ErrNoDTrace = errors.New("PHP was built without DTrace (no php:request__startup USDT probe)")

// ErrZTS means the binary is a thread-safe build, whose globals live in TLS.
var ErrZTS = errors.New("thread-safe (ZTS) PHP builds are not supported")

// AttachedProbe describes one uprobe in place.
type AttachedProbe struct {
	Name   string // "php:request__startup"
	Offset uint64 // file offset in the binary
	PID    int    // 0: every process running the binary
}

// Attachment is one PHP binary with its request probes attached.
type Attachment struct {
	t      *Tracer
	Binary uint32 // index in the BPF binaries map, as in events.RequestStart
	Info   *phpbin.Info
	// Mode is how requests are caught: ModeUSDT or ModeUprobe.
	Mode RequestMode
	// SAPIOffsets is false when no offsets table matches this PHP version:
	// requests are traced, but status, query and FastCGI params are not read.
	SAPIOffsets bool
	// StackOffsets: executor_globals and the frame offsets are known, so
	// the sampler and the I/O call sites can walk this binary's PHP stacks.
	StackOffsets bool
	group        linkGroup
	closed       bool
}

// linkGroup is a set of uprobes and the sites they use, closed together.
type linkGroup struct {
	links  []link.Link
	sites  []uint32
	probes []AttachedProbe
}

// RequestMode chooses how request spans are caught.
type RequestMode string

const (
	// ModeAuto uses USDT probes when the binary has them, else uprobes.
	ModeAuto RequestMode = "auto"
	// ModeUSDT: PHP's php:request__startup/shutdown probes (--enable-dtrace).
	ModeUSDT RequestMode = "usdt"
	// ModeUprobe: uprobes on the exported php_request_startup() and
	// php_request_shutdown(), method/URI/script read from sapi_globals.
	// Works on any build (official container images have no DTrace).
	ModeUprobe RequestMode = "uprobe"
)

// ParseRequestMode checks a configured mode.
func ParseRequestMode(s string) (RequestMode, error) {
	switch m := RequestMode(s); m {
	case "":
		return ModeAuto, nil
	case ModeAuto, ModeUSDT, ModeUprobe:
		return m, nil
	}
	return "", fmt.Errorf("request probe mode %q: want auto, usdt or uprobe", s)
}

// ErrNoRequestHooks means neither USDT probes nor the functions the uprobe
// fallback needs are usable in the binary.
var ErrNoRequestHooks = errors.New("no way to catch requests in this PHP binary")

// Attach registers a PHP binary and attaches the request probes to every
// process that runs it. openPath must open the binary from the agent's
// mount namespace (e.g. /proc/<pid>/exe for PHP in a container).
func (t *Tracer) Attach(info *phpbin.Info, openPath string, mode RequestMode) (*Attachment, error) {
	if info.ZTS {
		return nil, ErrZTS
	}
	hasUSDT := info.HasProbe(phpProvider, "request__startup") && info.HasProbe(phpProvider, "request__shutdown")
	switch {
	case mode == ModeUSDT && !hasUSDT:
		return nil, ErrNoDTrace
	case mode == ModeAuto && hasUSDT:
		mode = ModeUSDT
	case mode == ModeAuto:
		mode = ModeUprobe
	}
	exe, err := link.OpenExecutable(openPath)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", openPath, err)
	}

	t.mu.Lock()
	defer t.mu.Unlock()
	idx, err := t.binaries.alloc()
	if err != nil {
		return nil, err
	}
	a := &Attachment{t: t, Binary: idx, Info: info, Mode: mode}
	bin, sapi := binaryEntry(info)
	a.SAPIOffsets = sapi
	a.StackOffsets = bin.Flags&binaryExecutor != 0
	if mode == ModeUprobe && !sapi {
		t.binaries.release(idx)
		return nil, fmt.Errorf("%w: no USDT probes, and the uprobe fallback needs sapi_globals and struct offsets for PHP %s (%s)",
			ErrNoRequestHooks, info.MajorMinor(), offsetsProblem(info))
	}
	if err := t.objs.Binaries.Put(a.Binary, &bin); err != nil {
		t.binaries.release(idx)
		return nil, fmt.Errorf("register binary: %w", err)
	}
	if mode == ModeUSDT {
		for _, ps := range requestProbes {
			if err = t.attachProbe(a, exe, &a.group, ps, 0); err != nil {
				break
			}
		}
	} else {
		err = t.attachRequestFunctions(a, exe)
	}
	if err != nil {
		t.closeGroup(&a.group)
		t.binaries.release(idx)
		return nil, err
	}
	return a, nil
}

func offsetsProblem(info *phpbin.Info) string {
	if _, ok := info.Symbols["sapi_globals"]; !ok {
		return "sapi_globals is not exported"
	}
	if _, err := phpoffsets.Lookup(info.MajorMinor(), info.Machine); err != nil {
		return err.Error()
	}
	return "unknown"
}

// requestFunctions are the uprobe fallback: entries of the exported engine
// functions every SAPI calls around a request.
var requestFunctions = []struct {
	symbol  string
	program func(t *Tracer) *ebpf.Program
}{
	{"php_request_startup", func(t *Tracer) *ebpf.Program { return t.objs.RequestStartupFn }},
	{"php_request_shutdown", func(t *Tracer) *ebpf.Program { return t.objs.RequestShutdown }},
}

// attachRequestFunctions attaches the fallback. Called with t.mu held.
func (t *Tracer) attachRequestFunctions(a *Attachment, exe *link.Executable) error {
	for _, rf := range requestFunctions {
		sym, ok := a.Info.Symbols[rf.symbol]
		if !ok {
			return fmt.Errorf("%w: %s is not exported by %s", ErrNoRequestHooks, rf.symbol, a.Info.Path)
		}
		// A site with no arguments: the programs use it for the load bias
		// (ip − the symbol's link-time address) and the binary index.
		p := usdt.Probe{Provider: "fn", Name: rf.symbol, Location: sym.Value}
		if err := t.attachSite(a, exe, &a.group, probeSpec{name: rf.symbol, program: rf.program}, p, 0); err != nil {
			return err
		}
	}
	return nil
}

// maxBinaries is TUSK_MAX_BINARIES in bpf/headers/tusk.h.
const maxBinaries = 64

// binaryEntry fills the BPF binaries entry: where sapi_globals is and the
// offsets inside it. Without an offsets table the entry says so and the BPF
// programs skip those reads.
func binaryEntry(info *phpbin.Info) (requestPhpBinary, bool) {
	var b requestPhpBinary
	if info.SAPI == "fpm" {
		b.Flags |= binaryFPM
	}
	sym, hasSym := info.Symbols["sapi_globals"]
	offs, err := phpoffsets.Lookup(info.MajorMinor(), info.Machine)
	if !hasSym || err != nil {
		return b, false
	}
	b.Flags |= binarySAPI
	b.SapiGlobals = sym.Value
	b.SgServerContext = offs.SAPIGlobals.ServerContext
	b.SgRequestMethod = offs.SAPIGlobals.RequestMethod
	b.SgQueryString = offs.SAPIGlobals.QueryString
	b.SgRequestUri = offs.SAPIGlobals.RequestURI
	b.SgPathTranslated = offs.SAPIGlobals.PathTranslated
	b.SgResponseCode = offs.SAPIGlobals.ResponseCode
	b.FcgiEnv = offs.FCGI.RequestEnv
	b.FcgiBucketVarLen = offs.FCGI.BucketVarLen
	b.FcgiBucketVar = offs.FCGI.BucketVar
	b.FcgiBucketVal = offs.FCGI.BucketVal
	b.FcgiBucketNext = offs.FCGI.BucketNext
	b.FcgiHashMask = offs.FCGI.HashTableSize - 1
	if eg, ok := info.Symbols["executor_globals"]; ok && walkableLayout(offs.Executor) {
		b.Flags |= binaryExecutor
		b.ExecutorGlobals = eg.Value
		x := offs.Executor
		b.Ex = requestPhpExecutor{
			CurrentExecuteData: x.CurrentExecuteData,
			ExOpline:           x.ExOpline,
			ExFunc:             x.ExFunc,
			ExThis:             x.ExThis,
			ExPrev:             x.ExPrev,
			ExNumArgs:          x.ExNumArgs,
			CallArgs:           x.CallArgs,
			FuncType:           x.FuncType,
			FuncName:           x.FuncName,
			FuncScope:          x.FuncScope,
			OpFilename:         x.OpArrayFilename,
			OpLineStart:        x.OpArrayLineStart,
			CeName:             x.ClassEntryName,
			StrLen:             x.StringLen,
			StrVal:             x.StringVal,
			OpLineno:           x.OpLineno,
			ZvalType:           x.ZvalType,
			ObjProps:           x.ObjectProperties,
		}
	}
	return b, true
}

// walkableLayout tells whether the stack walker's and the I/O hooks' block
// reads cover the fields (bpf/headers/phpstack.h: EX_BLOCK, FUNC_BLOCK,
// CALL_BLOCK): true for every PHP from 7.0 to 8.4, checked rather than
// assumed for the versions to come. The I/O hooks read a call's frame
// through its first ioArgs argument zvals at once; $this and num_args must
// come before the arguments, which is where the frame is read when the
// block would run past the end of the VM stack.
func walkableLayout(x phpoffsets.Executor) bool {
	inBlock := func(off, size, block uint16) bool { return off%size == 0 && off <= block-size }
	return inBlock(x.ExOpline, 8, exBlock) && inBlock(x.ExFunc, 8, exBlock) && inBlock(x.ExPrev, 8, exBlock) &&
		x.FuncType < funcBlock && inBlock(x.FuncName, 8, funcBlock) &&
		x.ZvalType < zvalSize && x.CallArgs >= zvalSize &&
		inBlock(x.CallArgs, 8, callBlock-ioArgs*zvalSize+8) &&
		inBlock(x.ExThis, 8, x.CallArgs-zvalSize+8) && inBlock(x.ExNumArgs, 4, x.CallArgs)
}

// The block sizes of bpf/headers/phpstack.h, TUSK_IO_ARGS of tusk.h and
// sizeof(zval).
const (
	exBlock   = 64
	funcBlock = 16
	callBlock = 256
	ioArgs    = 6
	zvalSize  = 16
)

// The C enum binary_flags.
const (
	binaryFPM      = 1 << 0
	binarySAPI     = 1 << 1
	binaryExecutor = 1 << 2
)

// attachProbe attaches prog at every location of the named probe, in the
// binary exe opens. Called with t.mu held.
func (t *Tracer) attachProbe(a *Attachment, exe *link.Executable, g *linkGroup, ps probeSpec, pid int) error {
	locations := a.Info.ProbesNamed(phpProvider, ps.name)
	if len(locations) == 0 {
		if ps.required {
			return fmt.Errorf("probe %s:%s is missing from %s", phpProvider, ps.name, a.Info.Path)
		}
		return nil
	}
	for _, p := range locations {
		if err := t.attachSite(a, exe, g, ps, p, pid); err != nil {
			return err
		}
	}
	return nil
}

func (t *Tracer) attachSite(a *Attachment, exe *link.Executable, g *linkGroup, ps probeSpec, p usdt.Probe, pid int) error {
	offset, err := a.Info.FileOffset(p.Location)
	if err != nil {
		return fmt.Errorf("probe %s:%s: %w", p.Provider, p.Name, err)
	}
	opts := &link.UprobeOptions{Address: offset, PID: pid}
	if p.Semaphore != 0 {
		// The kernel raises the semaphore in every process while the probe
		// is attached, which is what makes PHP call the probe at all.
		if opts.RefCtrOffset, err = a.Info.FileOffset(p.Semaphore); err != nil {
			return fmt.Errorf("probe %s:%s semaphore: %w", p.Provider, p.Name, err)
		}
	}
	site, err := encodeSite(p, a.Binary, a.Info.Machine)
	if err != nil {
		return err
	}
	idx, err := t.sites.alloc()
	if err != nil {
		return err
	}
	if err := t.objs.Sites.Put(idx, &site); err != nil {
		t.sites.release(idx)
		return fmt.Errorf("store site of %s:%s: %w", p.Provider, p.Name, err)
	}
	opts.Cookie = uint64(idx)
	l, err := exe.Uprobe("", ps.program(t), opts)
	if err != nil {
		t.sites.release(idx)
		return fmt.Errorf("attach %s:%s at %#x in %s: %w", p.Provider, p.Name, offset, a.Info.Path, err)
	}
	g.links = append(g.links, l)
	g.sites = append(g.sites, idx)
	g.probes = append(g.probes, AttachedProbe{Name: p.Provider + ":" + p.Name, Offset: offset, PID: pid})
	return nil
}

// closeGroup detaches a group's uprobes and frees its sites. Called with
// t.mu held.
func (t *Tracer) closeGroup(g *linkGroup) error {
	var errs []error
	for _, l := range g.links {
		errs = append(errs, l.Close())
	}
	for _, idx := range g.sites {
		t.sites.release(idx)
	}
	*g = linkGroup{}
	return errors.Join(errs...)
}

// closeGroups closes several groups at once: their links concurrently,
// which lets the kernel wait for one RCU grace period for all the
// uprobe_multi links rather than one after the other, then frees their
// sites. Called with t.mu held.
func (t *Tracer) closeGroups(groups []*linkGroup) error {
	errs := closeLinks(takeLinks(groups))
	for _, g := range groups {
		errs = append(errs, t.closeGroup(g))
	}
	return errors.Join(errs...)
}

// takeLinks empties the groups' links and returns them. Called with t.mu.
func takeLinks(groups []*linkGroup) []link.Link {
	var links []link.Link
	for _, g := range groups {
		links = append(links, g.links...)
		g.links = nil
	}
	return links
}

// closeLinks closes links concurrently and returns their errors.
func closeLinks(links []link.Link) []error {
	errs := make([]error, len(links))
	var wg sync.WaitGroup
	for i, l := range links {
		wg.Go(func() { errs[i] = l.Close() })
	}
	wg.Wait()
	return errs
}

// Probes lists the request probes in place.
func (a *Attachment) Probes() []AttachedProbe {
	a.t.mu.Lock()
	defer a.t.mu.Unlock()
	return append([]AttachedProbe(nil), a.group.probes...)
}

// Close detaches the binary's request probes and frees its slot. Deep
// groups must be closed first (the agent does).
func (a *Attachment) Close() error {
	a.t.mu.Lock()
	defer a.t.mu.Unlock()
	if a.closed {
		return nil
	}
	a.closed = true
	a.t.binaries.release(a.Binary)
	return a.t.closeGroup(&a.group)
}
