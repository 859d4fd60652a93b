package probes

import (
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"syscall"

	"github.com/cilium/ebpf/link"

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

type ioSite struct {
	refs  int
	group linkGroup
}

// IOProbes are the I/O hooks one binary asked for.
type IOProbes struct {
	a    *Attachment
	keys []ioKey
	// Attached lists the hooks in place, Failed the ones that could not be.
	Attached []string
	Failed   []error
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

// AttachIO attaches the I/O hooks. Each target that fails is reported in
// Failed; the others stay attached.
func (a *Attachment) AttachIO(targets []IOTarget) *IOProbes {
	t := a.t
	t.mu.Lock()
	defer t.mu.Unlock()
	p := &IOProbes{a: a}
	for _, tg := range targets {
		key, err := fileKey(tg.OpenPath, tg.FileOffset)
		if err != nil {
			p.Failed = append(p.Failed, fmt.Errorf("%s: %w", tg.Hook.Name, err))
			continue
		}
		if s, ok := t.ioSites[key]; ok {
			s.refs++
			p.keys = append(p.keys, key)
			p.Attached = append(p.Attached, tg.Hook.Name)
			continue
		}
		s := &ioSite{refs: 1}
		if err := t.attachIOSite(a, tg, &s.group); err != nil {
			t.closeGroup(&s.group)
			p.Failed = append(p.Failed, fmt.Errorf("%s: %w", tg.Hook.Name, err))
			continue
		}
		t.ioSites[key] = s
		p.keys = append(p.keys, key)
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

// attachIOSite puts io_enter (and io_return) on one function. Called with t.mu.
func (t *Tracer) attachIOSite(a *Attachment, tg IOTarget, g *linkGroup) error {
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
	hook := encodeHook(tg.Hook)

	idx, err := t.sites.alloc()
	if err != nil {
		return err
	}
	g.sites = append(g.sites, idx)
	if err := t.objs.Sites.Put(idx, &site); err != nil {
		return fmt.Errorf("store site: %w", err)
	}
	if err := t.io.IoHooks.Put(idx, &hook); err != nil {
		return fmt.Errorf("store hook: %w", err)
	}
	t.setHookName(idx, tg.Hook.Name)
	exe, err := link.OpenExecutable(tg.OpenPath)
	if err != nil {
		return err
	}
	opts := &link.UprobeOptions{Address: tg.FileOffset, Cookie: uint64(idx)}
	l, err := exe.Uprobe("", t.io.IoEnter, opts)
	if err != nil {
		return fmt.Errorf("uprobe at %#x in %s: %w", tg.FileOffset, tg.OpenPath, err)
	}
	g.links = append(g.links, l)
	g.probes = append(g.probes, AttachedProbe{Name: "io:" + tg.Hook.Name, Offset: tg.FileOffset})
	if tg.Hook.Return {
		l, err := exe.Uretprobe("", t.io.IoReturn, opts)
		if err != nil {
			return fmt.Errorf("uretprobe at %#x in %s: %w", tg.FileOffset, tg.OpenPath, err)
		}
		g.links = append(g.links, l)
	}
	return nil
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
	t.hookMu.RLock()
	defer t.hookMu.RUnlock()
	return t.hookNames[site]
}

// Probes lists the I/O uprobes of these hooks.
func (p *IOProbes) Probes() []AttachedProbe {
	t := p.a.t
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []AttachedProbe
	for _, k := range p.keys {
		if s, ok := t.ioSites[k]; ok {
			out = append(out, s.group.probes...)
		}
	}
	return out
}

// Close detaches the hooks no other binary still uses.
func (p *IOProbes) Close() error {
	t := p.a.t
	t.mu.Lock()
	defer t.mu.Unlock()
	var errs []error
	for _, k := range p.keys {
		s, ok := t.ioSites[k]
		if !ok {
			continue
		}
		if s.refs--; s.refs == 0 {
			errs = append(errs, t.closeGroup(&s.group))
			delete(t.ioSites, k)
		}
	}
	p.keys = nil
	return errors.Join(errs...)
}
