package phpfuncs

import (
	"encoding/binary"
	"errors"
	"testing"
)

const wrapperBase = 0x7f0000200000

// streamOpenerSeeds are memory around a php_stream_wrapper: data at
// wrapperBase, the wrapper at the offset given.
func streamOpenerSeeds() map[string][]any {
	mem := func(words ...uint64) []byte {
		b := make([]byte, 8*len(words))
		for i, w := range words {
			binary.LittleEndian.PutUint64(b[8*i:], w)
		}
		return b
	}
	return map[string][]any{
		"real":          {mem(wrapperBase+16, 0, 0x55550000_3000), uint64(0)},
		"null-ops":      {mem(0, 0x55550000_3000), uint64(0)},
		"ops-unmapped":  {mem(0xdead0000), uint64(0)},
		"ops-is-itself": {mem(wrapperBase), uint64(0)},
		"null-opener":   {mem(wrapperBase+8, 0), uint64(0)},
	}
}

func TestStreamOpener(t *testing.T) {
	for name, seed := range streamOpenerSeeds() {
		mem := &fakeMem{segs: []fakeSeg{{base: wrapperBase, data: seed[0].([]byte)}}}
		got, err := streamOpener(mem, wrapperBase+seed[1].(uint64))
		switch name {
		case "real":
			if err != nil || got != 0x55550000_3000 {
				t.Errorf("%s: %#x, %v", name, got, err)
			}
		case "ops-is-itself": // the "opener" is the wrapper's address: handlers() refuses it
			if err != nil || got != wrapperBase {
				t.Errorf("%s: %#x, %v", name, got, err)
			}
		default:
			if !errors.Is(err, ErrImplausible) {
				t.Errorf("%s: %#x, %v; want ErrImplausible", name, got, err)
			}
		}
		if mem.reads > 2 {
			t.Errorf("%s: %d reads", name, mem.reads)
		}
	}
}

// FuzzStreamOpener: two reads at most, an opener that is not 0, or an error.
func FuzzStreamOpener(f *testing.F) {
	for _, seed := range streamOpenerSeeds() {
		f.Add(seed[0].([]byte), seed[1].(uint64))
	}
	f.Fuzz(func(t *testing.T, data []byte, off uint64) {
		mem := &fakeMem{segs: []fakeSeg{{base: wrapperBase, data: data}}}
		got, err := streamOpener(mem, wrapperBase+off%uint64(len(data)+1))
		if mem.reads > 2 || (err == nil && got == 0) {
			t.Fatalf("%d reads, opener %#x, %v", mem.reads, got, err)
		}
	})
}
