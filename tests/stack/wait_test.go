package stack

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestWaitReadyTimeoutSaysWhat(t *testing.T) {
	err := waitReady(context.Background(), readiness{
		What:    "the moon to turn blue",
		Timeout: 60 * time.Millisecond,
		Check:   func(context.Context) (bool, string) { return false, "still grey" },
	})
	if err == nil || !strings.Contains(err.Error(), "the moon to turn blue") || !strings.Contains(err.Error(), "still grey") {
		t.Errorf("err = %v", err)
	}
}

func TestWaitReadyNoticesExit(t *testing.T) {
	p := spawnShell(t, "echo config is broken; exit 78", time.Second)
	start := time.Now()
	err := waitReady(context.Background(), readiness{
		What:    "a service that never comes",
		Timeout: 10 * time.Second,
		Proc:    p,
		Check:   func(context.Context) (bool, string) { return false, "no answer" },
	})
	if err == nil || !strings.Contains(err.Error(), "exit status 78") || !strings.Contains(err.Error(), "config is broken") {
		t.Errorf("err = %v", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Error("did not stop waiting when the process exited")
	}
}
