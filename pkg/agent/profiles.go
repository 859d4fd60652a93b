package agent

import (
	"github.com/tusk-php/tusk/pkg/profile"
	"github.com/tusk-php/tusk/pkg/trace"
)

// addSamples takes a finished request's stack samples (from the assembler,
// on the event loop's goroutine) into the per-minute and per-trace profiles.
func (a *Agent) addSamples(_ *trace.Trace, samples []profile.Sample) {
	for _, s := range samples {
		a.profiles.Add(s)
	}
}
