package privdrop

import (
	"strconv"
	"strings"
)

// Status is what a /proc/<pid>/status or /proc/<pid>/task/<tid>/status file
// says of a thread's privileges: how the tests (and an operator) check what
// Drop left, thread by thread.
type Status struct {
	Effective, Permitted, Inheritable, Bounding, Ambient Set
	NoNewPrivs                                           int
}

// ParseStatus reads the Cap* and NoNewPrivs lines of a status file; lines it
// does not know, or cannot parse, leave their field zero.
func ParseStatus(b []byte) Status {
	var st Status
	for _, line := range strings.Split(string(b), "\n") {
		k, v, _ := strings.Cut(line, ":")
		v = strings.TrimSpace(v)
		n, _ := strconv.ParseUint(v, 16, 64)
		switch k {
		case "CapEff":
			st.Effective = Set(n)
		case "CapPrm":
			st.Permitted = Set(n)
		case "CapInh":
			st.Inheritable = Set(n)
		case "CapBnd":
			st.Bounding = Set(n)
		case "CapAmb":
			st.Ambient = Set(n)
		case "NoNewPrivs":
			st.NoNewPrivs, _ = strconv.Atoi(v)
		}
	}
	return st
}
