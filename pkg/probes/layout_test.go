package probes

import (
	"debug/elf"
	"testing"

	"github.com/tusk-php/tusk/pkg/phpoffsets"
)

// The block reads of the stack walker and of the I/O hooks
// (bpf/headers/phpstack.h) must cover the fields of every shipped table, and
// a layout they do not cover must turn the walk and the I/O hooks off.
func TestWalkableLayout(t *testing.T) {
	for _, v := range []string{"7.4", "8.2", "8.4"} {
		offs, err := phpoffsets.Lookup(v, elf.EM_X86_64)
		if err != nil {
			t.Fatal(err)
		}
		x := offs.Executor
		if !walkableLayout(x) {
			t.Errorf("PHP %s: %+v does not fit the block reads", v, x)
		}
		bad := map[string]func(*phpoffsets.Executor){
			"arguments past the call block":  func(e *phpoffsets.Executor) { e.CallArgs = callBlock - 5*zvalSize },
			"arguments at the frame's start": func(e *phpoffsets.Executor) { e.CallArgs = 0 },
			"$this among the arguments":      func(e *phpoffsets.Executor) { e.ExThis = e.CallArgs },
			"num_args among the arguments":   func(e *phpoffsets.Executor) { e.ExNumArgs = e.CallArgs },
			"num_args unaligned":             func(e *phpoffsets.Executor) { e.ExNumArgs++ },
			"zval type outside the zval":     func(e *phpoffsets.Executor) { e.ZvalType = zvalSize },
			"prev past the frame block":      func(e *phpoffsets.Executor) { e.ExPrev = exBlock },
		}
		for name, f := range bad {
			y := x
			f(&y)
			if walkableLayout(y) {
				t.Errorf("PHP %s, %s: accepted", v, name)
			}
		}
	}
}
