package store

import (
	"context"
	"testing"
	"time"
)

func TestAnalyzeRunsWhenTheDataChanged(t *testing.T) {
	s := openTestStore(t, Options{})
	ctx := context.Background()
	m := newTraceMaker(1)
	now := time.Now()
	for _, step := range []struct {
		add          int
		wantAnalyzed int64
	}{
		{analyzeMinRows - 1, 0},                  // too small to matter
		{1, analyzeMinRows},                      // first statistics
		{analyzeMinRows / 2, analyzeMinRows},     // grew by half: keep them
		{analyzeMinRows / 2, 2 * analyzeMinRows}, // doubled: refresh
	} {
		addAll(t, s, m.makeN(step.add, now))
		if err := s.ApplyRetention(ctx, now); err != nil {
			t.Fatal(err)
		}
		// Read after ApplyRetention returned: the writer goroutine that set
		// it has handed over through the result channel.
		if s.analyzedRows != step.wantAnalyzed {
			t.Errorf("after adding %d (total %d): analyzed at %d rows, want %d",
				step.add, s.Stats().Traces, s.analyzedRows, step.wantAnalyzed)
		}
	}
}
