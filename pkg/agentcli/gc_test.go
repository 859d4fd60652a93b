package agentcli

import (
	"os"
	"runtime/debug"
	"testing"
)

func TestTuneGCLeavesEnvironmentSettingsAlone(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))

	t.Setenv("GOGC", "150")
	t.Setenv("GOMEMLIMIT", "1GiB")
	debug.SetGCPercent(150)
	if gc, limit := tuneGC(); gc != -1 || limit != -1 {
		t.Fatalf("tuneGC with GOGC and GOMEMLIMIT set changed %d / %d", gc, limit)
	}
	if got := debug.SetGCPercent(150); got != 150 {
		t.Fatalf("GC percent %d, want the environment's 150", got)
	}
}

func TestTuneGCSetsAgentDefaults(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	for _, name := range []string{"GOGC", "GOMEMLIMIT"} {
		t.Setenv(name, "") // restored after the test
		os.Unsetenv(name)
	}
	if gc, limit := tuneGC(); gc != agentGCPercent || limit != agentMemoryLimit {
		t.Fatalf("tuneGC = %d, %d; want %d, %d", gc, limit, agentGCPercent, agentMemoryLimit)
	}
	if got := debug.SetGCPercent(100); got != agentGCPercent {
		t.Fatalf("GC percent %d after tuneGC", got)
	}
	if got := debug.SetMemoryLimit(-1); got != agentMemoryLimit {
		t.Fatalf("memory limit %d after tuneGC", got)
	}
}
