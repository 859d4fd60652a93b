package agentcli

import (
	"bytes"
	"testing"

	"github.com/tusk-php/tusk/pkg/agentapi"
)

func TestPrintCapabilities(t *testing.T) {
	for _, c := range []struct {
		caps *agentapi.Capabilities
		want string
	}{
		{nil, ""},
		{&agentapi.Capabilities{Kept: []string{"CAP_SYS_PTRACE", "CAP_BPF"}, Dropped: []string{"CAP_CHOWN", "CAP_KILL"}, NoNewPrivs: true},
			"capabilities: kept CAP_SYS_PTRACE, CAP_BPF (2 dropped), no_new_privs=true\n"},
		{&agentapi.Capabilities{}, "capabilities: kept none (0 dropped), no_new_privs=false\n"},
		{&agentapi.Capabilities{Error: "built with cgo"}, "capabilities: none dropped: built with cgo\n"},
	} {
		var b bytes.Buffer
		printCapabilities(&b, c.caps)
		if b.String() != c.want {
			t.Errorf("%+v: %q, want %q", c.caps, b.String(), c.want)
		}
	}
}
