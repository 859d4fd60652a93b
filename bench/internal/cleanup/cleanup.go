// Package cleanup undoes what a benchmark set up (agents, services,
// sysctls) on every way out: the normal end, and a fatal error.
package cleanup

import (
	"log"
	"os"
	"sync"
)

var (
	mu    sync.Mutex
	funcs []func()
)

// AtExit registers f to run at the end, also after Die; the last
// registered runs first.
func AtExit(f func()) {
	mu.Lock()
	defer mu.Unlock()
	funcs = append(funcs, f)
}

// Run runs and forgets what AtExit registered.
func Run() {
	mu.Lock()
	fs := funcs
	funcs = nil
	mu.Unlock()
	for i := len(fs) - 1; i >= 0; i-- {
		fs[i]()
	}
}

// Die logs, cleans up and exits with status 1.
func Die(format string, args ...any) {
	log.Printf(format, args...)
	Run()
	os.Exit(1)
}
