package privdrop

import (
	"testing"

	"golang.org/x/sys/unix"
)

func TestParseStatus(t *testing.T) {
	b := []byte("Name:\ttusk-agent\nCapInh:\t0000000000000000\nCapPrm:\t000000c000280004\nCapEff:\t000000c000280004\n" +
		"CapBnd:\t000000c000280004\nCapAmb:\t0000000000000000\nNoNewPrivs:\t1\nSeccomp:\t0\n")
	want := Of(unix.CAP_BPF, unix.CAP_PERFMON, unix.CAP_SYS_ADMIN, unix.CAP_SYS_PTRACE, unix.CAP_DAC_READ_SEARCH)
	got := ParseStatus(b)
	if got != (Status{Effective: want, Permitted: want, Bounding: want, NoNewPrivs: 1}) {
		t.Fatalf("ParseStatus = %+v, want CapEff = CapPrm = CapBnd = %v, NoNewPrivs 1", got, want)
	}
	if got := ParseStatus([]byte("CapEff:\tzz\nNoNewPrivs")); got != (Status{}) {
		t.Fatalf("unparsable lines gave %+v", got)
	}
}
