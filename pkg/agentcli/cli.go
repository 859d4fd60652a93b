// Package agentcli is the tusk-agent command line: `run` starts the agent,
// the other subcommands talk to a running agent over its API (the terminal
// view for people without Grafana at hand).
package agentcli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// Exit codes.
const (
	exitOK    = 0
	exitFail  = 1 // something could not be done (no privileges, nothing to trace, agent unreachable)
	exitUsage = 2
)

const usage = `tusk-agent traces PHP requests with eBPF.

Usage:
  tusk-agent run [flags]              start the agent (root)
  tusk-agent top [flags]              slowest recent requests
  tusk-agent trace [flags] <id|slowest>  one trace as a tree
  tusk-agent status [flags]           PHP binaries, pools, probes, drops
  tusk-agent profile [--from 15m] [--pool P] [--endpoint "GET /"] [--trace ID] [--top 20] [--pprof out.pb.gz]
                                      functions using the most CPU
  tusk-agent deep enable --pool P | --pid N[,N] [--threshold 1ms] [--for 10m]
  tusk-agent deep disable <id>
  tusk-agent deep list
  tusk-agent version

Run 'tusk-agent <command> -h' for a command's flags.
`

// Main runs the command line and returns the process exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	cmd, rest := args[0], args[1:]
	var err error
	switch cmd {
	case "run":
		err = runAgent(ctx, rest, stderr)
	case "top":
		err = top(ctx, rest, stdout, stderr)
	case "trace":
		err = showTrace(ctx, rest, stdout, stderr)
	case "status":
		err = status(ctx, rest, stdout, stderr)
	case "deep":
		err = deep(ctx, rest, stdout, stderr)
	case "profile":
		err = profileCmd(ctx, rest, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, versionString())
		return exitOK
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return exitOK
	default:
		fmt.Fprintf(stderr, "tusk-agent: unknown command %q\n\n%s", cmd, usage)
		return exitUsage
	}
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, new(usageError)):
		fmt.Fprintf(stderr, "tusk-agent %s: %v\n", cmd, err)
		return exitUsage
	default:
		fmt.Fprintf(stderr, "tusk-agent %s: %v\n", cmd, err)
		return exitFail
	}
}

// usageError is a mistake in the command line itself.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// newFlagSet returns a flag set that reports errors instead of exiting.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("tusk-agent "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parse parses flags, turning flag errors into usage errors.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	return nil
}

func envOr(name, def string) string {
	if v := strings.TrimSpace(os.Getenv(name)); v != "" {
		return v
	}
	return def
}
