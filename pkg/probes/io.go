package probes

import (
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"syscall"

	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"

	"github.com/tusk-php/tusk/pkg/iohooks"
)

// IOTarget is one hook resolved in a process: the file holding the function
// and its offset there (pkg/phpfuncs finds them).
type IOTarget struct {
	Hook       iohooks.Hook
	OpenPath   string // opens the file from the agent's mount namespace
	FileOffset uint64
}

// ioKey identifies a hooked function across processes and binaries: two
// PHP binaries loading the same mysqli.so share its uprobes.
type ioKey struct {
	dev, ino uint64
	offset   uint64
}

// fileID is the file part of an ioKey: the sites of one file attached
// together share a uprobe_multi link.
type fileID struct{ dev, ino uint64 }

// ioSite is one hooked function, shared by the binaries that load its file.
type ioSite struct {
	refs  int    // IOProbes using it
	idx   uint32 // its slot in the sites map: the attach cookie
	links *ioLinks
	probe AttachedProbe
}

// ioLinks are the uprobes of sites attached together: with uprobe_multi,
// the new sites of one file (one link for the entries, one for the
// returns); otherwise one site's uprobe and uretprobe. They are closed, and
// the sites' slots freed, once no IOProbes uses any of their sites: a
// uprobe_multi link cannot drop one offset, and a slot must not be reused
// while a link can still fire with it as its cookie. Until then an unused
// site stays in Tracer.ioSites, so asking for it again reuses it.
type ioLinks struct {
	group linkGroup // the links and the sites' slots
	keys  []ioKey
	live  int // sites with refs > 0
	multi bool
}

// IOProbes are the I/O hooks one binary asked for.
type IOProbes struct {
	a    *Attachment
	keys []ioKey
	// Attached lists the hooks in place, Failed the ones that could not be.
	Attached []string
	Failed   []error
	// PerSiteReason says why some of the files were hooked with one uprobe
	// per function instead of a uprobe_multi link per file ("" when none
	// was). The hooks work either way; per-site links are slower to attach
	// and to detach (one RCU grace period each).
	PerSiteReason string
}

// argRegisters are the pt_regs offsets of the first four C arguments and of
// the return value register.
func argRegisters(m elf.Machine) ([4]uint16, uint16, error) {
	switch m {
	case elf.EM_X86_64: // rdi, rsi, rdx, rcx; rax
		return [4]uint16{112, 104, 96, 88}, 80, nil
	case elf.EM_AARCH64: // x0..x3; x0
		return [4]uint16{0, 8, 16, 24}, 0, nil
	}
	return [4]uint16{}, 0, fmt.Errorf("machine %s is not supported (x86-64 and arm64 are)", m)
}

// newIOSite is a site AttachIO has not seen attached yet.
type newIOSite struct {
	tg  IOTarget
	key ioKey
	idx uint32
	err error
}

// AttachIO attaches the I/O hooks. Each target that fails is reported in
// Failed; the others stay attached. The new sites of each file are attached
// with one uprobe_multi link for their entries and one for their returns
// where the kernel has them (6.6+), else with a uprobe per site.
func (a *Attachment) AttachIO(targets []IOTarget) *IOProbes {
	t := a.t
	t.mu.Lock()
	defer t.mu.Unlock()
	p := &IOProbes{a: a}
	keys := make([]ioKey, len(targets))
	errs := make([]error, len(targets))
	fresh := map[ioKey]*newIOSite{}
	files := map[fileID][]*newIOSite{}
	var order []fileID
	for i, tg := range targets {
		key, err := fileKey(tg.OpenPath, tg.FileOffset)
		if err != nil {
			errs[i] = err
			continue
		}
		keys[i] = key
		if _, ok := t.ioSites[key]; ok {
			continue
		}
		if _, ok := fresh[key]; ok {
			continue // a second hook on the same function
		}
		n := &newIOSite{tg: tg, key: key}
		fresh[key] = n
		f := fileID{key.dev, key.ino}
		if _, ok := files[f]; !ok {
			order = append(order, f)
		}
		files[f] = append(files[f], n)
	}
	for _, f := range order {
		t.attachIOFile(a, p, files[f])
	}
	for i, tg := range targets {
		err := errs[i]
		if n, ok := fresh[keys[i]]; err == nil && ok && n.err != nil {
			err = n.err
		}
		if err != nil {
			p.Failed = append(p.Failed, fmt.Errorf("%s: %w", tg.Hook.Name, err))
			continue
		}
		s := t.ioSites[keys[i]]
		if s.refs == 0 {
			s.links.live++
		}
		s.refs++
		p.keys = append(p.keys, keys[i])
		p.Attached = append(p.Attached, tg.Hook.Name)
	}
	return p
}

func fileKey(path string, offset uint64) (ioKey, error) {
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		return ioKey{}, &os.PathError{Op: "stat", Path: path, Err: err}
	}
	return ioKey{dev: uint64(st.Dev), ino: st.Ino, offset: offset}, nil
}

// attachIOFile attaches the new sites of one file: it fills their slots in
// the sites and io_hooks maps, then attaches io_enter (and io_return) to
// them, adding each site attached to t.ioSites with no reference yet and
// setting the err of the others. Called with t.mu.
func (t *Tracer) attachIOFile(a *Attachment, p *IOProbes, sites []*newIOSite) {
	var ready []*newIOSite
	for _, n := range sites {
		if n.err = t.storeIOSite(a, n); n.err == nil {
			ready = append(ready, n)
		}
	}
	if len(ready) == 0 {
		return
	}
	path := ready[0].tg.OpenPath
	exe, err := link.OpenExecutable(path)
	if err != nil {
		for _, n := range ready {
			n.err = err
			t.sites.release(n.idx)
		}
		return
	}
	if reason := t.perSiteReason(); reason != "" {
		if p.PerSiteReason == "" {
			p.PerSiteReason = reason
		}
	} else if err := t.attachIOMulti(exe, path, ready); err != nil {
		if errors.Is(err, link.ErrNotSupported) || errors.Is(err, unix.EOPNOTSUPP) {
			t.multiErr = err // not worth trying on the next files
		}
		if p.PerSiteReason == "" {
			p.PerSiteReason = fmt.Sprintf("uprobe_multi link: %v", err)
		}
	} else {
		return
	}
	if err := t.loadPerSiteIO(); err != nil {
		for _, n := range ready {
			n.err = err
			t.sites.release(n.idx)
		}
		return
	}
	for _, n := range ready {
		n.err = t.attachIOSite(exe, n)
	}
}

// storeIOSite takes a slot for a site and fills what the BPF programs read
// for it. Called with t.mu.
func (t *Tracer) storeIOSite(a *Attachment, n *newIOSite) error {
	regs, ret, err := argRegisters(a.Info.Machine)
	if err != nil {
		return err
	}
	ip, _ := ipOffset(a.Info.Machine)
	var site requestUsdtSite
	for i, off := range regs {
		site.Args[i] = requestUsdtArg{RegOff: off, Kind: 1 /* USDT_ARG_REG */, Size: 8}
	}
	site.Nargs = 4
	site.Binary = a.Binary
	site.IpOff = ip
	site.RetOff = ret
	hook := encodeHook(n.tg.Hook)

	idx, err := t.sites.alloc()
	if err != nil {
		return err
	}
	if err := t.objs.Sites.Put(idx, &site); err != nil {
		t.sites.release(idx)
		return fmt.Errorf("store site: %w", err)
	}
	if err := t.io.IoHooks.Put(idx, &hook); err != nil {
		t.sites.release(idx)
		return fmt.Errorf("store hook: %w", err)
	}
	t.setHookName(idx, n.tg.Hook.Name)
	n.idx = idx
	return nil
}

// perSiteReason says why the I/O hooks are not attached with uprobe_multi
// links, or "" when they are. Called with t.mu.
func (t *Tracer) perSiteReason() string {
	switch {
	case t.perSiteIO:
		return "per-site uprobes forced"
	case t.multiErr != nil:
		return fmt.Sprintf("no uprobe_multi links (kernel 6.6+): %v", t.multiErr)
	}
	return ""
}

// attachIOMulti attaches io_enter_multi to all the sites of a file and
// io_return_multi to those timed, for every process. Called with t.mu.
func (t *Tracer) attachIOMulti(exe *link.Executable, path string, sites []*newIOSite) error {
	var enter, ret link.UprobeMultiOptions
	for _, n := range sites {
		enter.Addresses = append(enter.Addresses, n.tg.FileOffset)
		enter.Cookies = append(enter.Cookies, uint64(n.idx))
		if n.tg.Hook.Return {
			ret.Addresses = append(ret.Addresses, n.tg.FileOffset)
			ret.Cookies = append(ret.Cookies, uint64(n.idx))
		}
	}
	ls := &ioLinks{multi: true}
	l, err := exe.UprobeMulti(nil, t.io.IoEnterMulti, &enter)
	if err != nil {
		return fmt.Errorf("%d uprobes in %s: %w", len(enter.Addresses), path, err)
	}
	ls.group.links = append(ls.group.links, l)
	if len(ret.Addresses) > 0 {
		l, err := exe.UretprobeMulti(nil, t.io.IoReturnMulti, &ret)
		if err != nil {
			_ = ls.group.links[0].Close()
			return fmt.Errorf("%d uretprobes in %s: %w", len(ret.Addresses), path, err)
		}
		ls.group.links = append(ls.group.links, l)
	}
	for _, n := range sites {
		t.addIOSite(ls, n)
	}
	return nil
}

// attachIOSite puts io_enter (and io_return) on one site with their own
// links. On failure the site's slot is freed. Called with t.mu.
func (t *Tracer) attachIOSite(exe *link.Executable, n *newIOSite) error {
	ls := &ioLinks{}
	fail := func(what string, err error) error {
		t.closeGroup(&ls.group)
		t.sites.release(n.idx)
		return fmt.Errorf("%s at %#x in %s: %w", what, n.tg.FileOffset, n.tg.OpenPath, err)
	}
	opts := &link.UprobeOptions{Address: n.tg.FileOffset, Cookie: uint64(n.idx)}
	l, err := exe.Uprobe("", t.io.IoEnter, opts)
	if err != nil {
		return fail("uprobe", err)
	}
	ls.group.links = append(ls.group.links, l)
	if n.tg.Hook.Return {
		l, err := exe.Uretprobe("", t.io.IoReturn, opts)
		if err != nil {
			return fail("uretprobe", err)
		}
		ls.group.links = append(ls.group.links, l)
	}
	t.addIOSite(ls, n)
	return nil
}

// addIOSite records an attached site, not referenced yet. Called with t.mu.
func (t *Tracer) addIOSite(ls *ioLinks, n *newIOSite) {
	ls.keys = append(ls.keys, n.key)
	ls.group.sites = append(ls.group.sites, n.idx)
	t.ioSites[n.key] = &ioSite{idx: n.idx, links: ls,
		probe: AttachedProbe{Name: "io:" + n.tg.Hook.Name, Offset: n.tg.FileOffset}}
}

// The C enum io_hook_flags.
const (
	ioPHPHandler = 1 << 0
	ioReturn     = 1 << 1
	ioThisProp0  = 1 << 3
	ioFilterArg  = 1 << 4
	ioDerefArg2  = 1 << 5
)

func encodeHook(h iohooks.Hook) ioIoHook {
	var b ioIoHook
	if h.Library == "" {
		b.Flags |= ioPHPHandler
	}
	if h.Return {
		b.Flags |= ioReturn
	}
	if h.TextFromThis {
		b.Flags |= ioThisProp0
	}
	if len(h.FilterValues) > 0 {
		b.Flags |= ioFilterArg
		b.FilterArg = h.FilterArg
		// Unused slots repeat the first value: the C compares all four.
		for i := range b.FilterValues {
			b.FilterValues[i] = h.FilterValues[min(i, len(h.FilterValues)-1)]
		}
	}
	if h.DerefArg2 {
		b.Flags |= ioDerefArg2
	}
	b.TextArg = h.TextArg
	b.KeyArg = h.KeyArg
	return b
}

func (t *Tracer) setHookName(site uint32, name string) {
	t.hookMu.Lock()
	t.hookNames[site] = name
	t.hookMu.Unlock()
}

func (t *Tracer) hookName(site uint32) string {
	if site >= uint32(len(t.hookNames)) {
		return "" // not a site we attached: decoded, then dropped as an unknown hook
	}
	t.hookMu.RLock()
	defer t.hookMu.RUnlock()
	return t.hookNames[site]
}

// Probes lists the I/O uprobes of these hooks, one per hooked function
// whether a uprobe_multi link carries it or not.
func (p *IOProbes) Probes() []AttachedProbe {
	t := p.a.t
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []AttachedProbe
	for _, k := range p.keys {
		if s, ok := t.ioSites[k]; ok {
			out = append(out, s.probe)
		}
	}
	return out
}

// Multi tells whether every hook in place is trapped through a uprobe_multi
// link (false when none is in place).
func (p *IOProbes) Multi() bool {
	t := p.a.t
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, k := range p.keys {
		if s, ok := t.ioSites[k]; !ok || !s.links.multi {
			return false
		}
	}
	return len(p.keys) > 0
}

// Close detaches the hooks no other binary still uses.
func (p *IOProbes) Close() error {
	t := p.a.t
	t.mu.Lock()
	defer t.mu.Unlock()
	var unused []*linkGroup
	for _, k := range p.keys {
		s, ok := t.ioSites[k]
		if !ok || s.refs == 0 {
			continue
		}
		if s.refs--; s.refs > 0 {
			continue
		}
		ls := s.links
		if ls.live--; ls.live == 0 {
			unused = append(unused, &ls.group)
			for _, k := range ls.keys {
				delete(t.ioSites, k)
			}
			ls.keys = nil
		}
	}
	p.keys = nil
	return t.closeGroups(unused)
}
