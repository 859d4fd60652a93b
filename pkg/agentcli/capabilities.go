package agentcli

import (
	"fmt"
	"io"
	"strings"

	"github.com/tusk-php/tusk/pkg/agentapi"
)

// printCapabilities prints what the agent kept of its privileges.
func printCapabilities(w io.Writer, c *agentapi.Capabilities) {
	switch {
	case c == nil:
	case c.Error != "":
		fmt.Fprintf(w, "capabilities: none dropped: %s\n", c.Error)
	default:
		fmt.Fprintf(w, "capabilities: kept %s (%d dropped), no_new_privs=%v\n", orNone(c.Kept), len(c.Dropped), c.NoNewPrivs)
	}
}

func orNone(list []string) string {
	if len(list) == 0 {
		return "none"
	}
	return strings.Join(list, ", ")
}
