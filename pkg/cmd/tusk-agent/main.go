// Command tusk-agent is the Tusk node agent and its terminal client.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/tusk-php/tusk/pkg/agentcli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := agentcli.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
