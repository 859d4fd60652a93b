// Command jaeger-build builds the Jaeger v2 binary the tests run (see
// package jaegertest) into its cache, unless it is there already, and
// prints its path. scripts/test.sh runs it before the tests, so that the
// first build (minutes) is not inside a test's timeout.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/tusk-php/tusk/tests/jaegertest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, 20*time.Minute)
	defer cancel()
	start := time.Now()
	path, err := jaegertest.Build(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("jaeger: %s (%s)\n", path, time.Since(start).Round(time.Second))
}
