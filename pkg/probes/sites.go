package probes

import (
	"debug/elf"
	"fmt"

	"github.com/tusk-php/tusk/pkg/usdt"
)

// maxSites is TUSK_MAX_SITES in bpf/headers/tusk.h.
const maxSites = 512

// slotTable hands out indices of a BPF array map and takes them back, so a
// long-running agent reuses them: the `sites` map (an index is the attach
// cookie of the uprobe at that site) and the `binaries` map.
type slotTable struct {
	what string // for the error when full
	max  uint32
	next uint32
	free []uint32
}

func (s *slotTable) alloc() (uint32, error) {
	if n := len(s.free); n > 0 {
		idx := s.free[n-1]
		s.free = s.free[:n-1]
		return idx, nil
	}
	if s.next >= s.max {
		return 0, fmt.Errorf("all %d %s slots are in use", s.max, s.what)
	}
	s.next++
	return s.next - 1, nil
}

func (s *slotTable) release(idx uint32) { s.free = append(s.free, idx) }

// ipOffset is where the instruction pointer sits in the pt_regs a uprobe
// program receives: x86-64 struct pt_regs.ip, arm64 user_pt_regs.pc.
func ipOffset(m elf.Machine) (uint16, error) {
	switch m {
	case elf.EM_X86_64:
		return 128, nil
	case elf.EM_AARCH64:
		return 256, nil
	}
	return 0, fmt.Errorf("machine %s is not supported (x86-64 and arm64 are)", m)
}

// bpfArgKind maps pkg/usdt's kinds to the C enum usdt_arg_kind.
var bpfArgKind = map[usdt.ArgKind]uint8{
	usdt.ArgConst:    0,
	usdt.ArgReg:      1,
	usdt.ArgRegDeref: 2,
}

// encodeSite turns a parsed probe into what the BPF programs read for it.
func encodeSite(p usdt.Probe, binary uint32, machine elf.Machine) (requestUsdtSite, error) {
	var site requestUsdtSite
	if p.ArgsErr != nil {
		return site, fmt.Errorf("probe %s:%s: %w", p.Provider, p.Name, p.ArgsErr)
	}
	if len(p.Args) > len(site.Args) {
		return site, fmt.Errorf("probe %s:%s has %d arguments, at most %d are supported", p.Provider, p.Name, len(p.Args), len(site.Args))
	}
	ip, err := ipOffset(machine)
	if err != nil {
		return site, err
	}
	for i, a := range p.Args {
		kind, ok := bpfArgKind[a.Kind]
		if !ok {
			return site, fmt.Errorf("probe %s:%s argument %d: unknown kind %s", p.Provider, p.Name, i, a.Kind)
		}
		site.Args[i] = requestUsdtArg{Value: a.Value, RegOff: a.RegOffset, Kind: kind, Size: a.Size}
		if a.Signed {
			site.Args[i].IsSigned = 1
		}
	}
	site.Vaddr = p.Location
	site.Nargs = uint32(len(p.Args))
	site.Binary = binary
	site.IpOff = ip
	return site, nil
}
