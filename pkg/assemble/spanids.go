package assemble

import (
	crand "crypto/rand"
	"encoding/binary"
	"math/rand/v2"

	"github.com/tusk-php/tusk/pkg/trace"
)

// spanIDs hands out span ids from a ChaCha8 stream seeded from the
// system's random source. A deep-mode trace needs up to 10,000 of them and
// crypto/rand cost ~7% of assembling it; span ids must be unique within a
// trace and unpredictable enough not to collide across agents, not secret.
// Trace ids still come from crypto/rand (trace.NewTraceID). One per
// Assembler: not safe for concurrent use.
type spanIDs struct {
	src *rand.ChaCha8
}

func newSpanIDs() spanIDs {
	var seed [32]byte
	_, _ = crand.Read(seed[:]) // never fails on Linux (getrandom)
	return spanIDs{src: rand.NewChaCha8(seed)}
}

// next returns a new non-zero span id.
func (g spanIDs) next() trace.SpanID {
	var id trace.SpanID
	for id.IsZero() {
		binary.LittleEndian.PutUint64(id[:], g.src.Uint64())
	}
	return id
}
