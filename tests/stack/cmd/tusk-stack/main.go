// Command tusk-stack starts the test services (WordPress or the PHP fixture app behind nginx and
// php-fpm) in a directory, leaves them running in the background, and stops them again:
//
//	tusk-stack up wordpress|fixture --dir DIR [--http-port N] [--fpm-env USE_ZEND_DTRACE=1] [--fpm-ini K=V]
//	tusk-stack status --dir DIR [--json]
//	tusk-stack down --dir DIR
//
// Everything lives in DIR (configs, logs, pids, MariaDB data); DIR/state.json records the processes.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/tusk-php/tusk/tests/stack"
)

const usage = `usage:
  tusk-stack up wordpress|fixture --dir DIR [--http-port N] [--workers N]
             [--fpm-env NAME=VALUE]... [--fpm-ini KEY=VALUE]... [--app DIR]
  tusk-stack status --dir DIR [--json]
  tusk-stack down --dir DIR
`

// Exit codes: status uses 3 for "not running", like LSB init scripts.
const (
	exitFailure    = 1
	exitUsage      = 2
	exitNotRunning = 3
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(exitUsage)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var code int
	switch os.Args[1] {
	case "up":
		code = up(ctx, os.Args[2:])
	case "down":
		code = down(ctx, os.Args[2:])
	case "status":
		code = status(os.Args[2:])
	case "-h", "--help", "help":
		fmt.Print(usage)
	default:
		fmt.Fprintf(os.Stderr, "tusk-stack: unknown command %q\n%s", os.Args[1], usage)
		code = exitUsage
	}
	stop()
	os.Exit(code)
}

// listFlag collects a repeatable flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func up(ctx context.Context, args []string) int {
	fs := flag.NewFlagSet("up", flag.ContinueOnError)
	dir := fs.String("dir", "", "base directory for configs, logs, pids and data (required)")
	httpPort := fs.Int("http-port", 0, "nginx port on 127.0.0.1 (default: a free one)")
	workers := fs.Int("workers", 0, "php-fpm workers (pm = static; default 2)")
	app := fs.String("app", "", "fixture app directory (default: tests/fixtures/app of this repository)")
	var fpmEnv, fpmIni listFlag
	fs.Var(&fpmEnv, "fpm-env", "NAME=VALUE for php-fpm's master environment, repeatable (USE_ZEND_DTRACE=1)")
	fs.Var(&fpmIni, "fpm-ini", "php.ini override KEY=VALUE, repeatable (opcache.enable=0)")
	kind, err := parseWithKind(fs, args)
	if err != nil {
		return exitUsage
	}
	if *dir == "" || (kind != "wordpress" && kind != "fixture") {
		fmt.Fprint(os.Stderr, "tusk-stack up: need wordpress or fixture, and --dir\n"+usage)
		return exitUsage
	}
	for _, kv := range fpmEnv {
		if !strings.Contains(kv, "=") {
			fmt.Fprintf(os.Stderr, "tusk-stack up: --fpm-env %q: want NAME=VALUE\n", kv)
			return exitUsage
		}
	}
	opts := stack.StackOptions{HTTPPort: *httpPort, Workers: *workers, FPMEnv: fpmEnv, FPMIniArgs: fpmIni,
		AppDir: *app, Detach: true}
	started := time.Now()
	var s *stack.Stack
	if kind == "wordpress" {
		s, err = stack.StartWordPress(ctx, *dir, opts)
	} else {
		s, err = stack.StartFixture(ctx, *dir, opts)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "tusk-stack up: %v\n", err)
		return exitFailure
	}
	fmt.Printf("%s stack up in %.1fs: %s\n", kind, time.Since(started).Seconds(), s.URL())
	printState(s.State())
	fmt.Printf("stop with: tusk-stack down --dir %s\n", s.Dir)
	return 0
}

// parseWithKind accepts the kind before or after the flags: `up wordpress --dir D` and `up --dir D wordpress`.
func parseWithKind(fs *flag.FlagSet, args []string) (string, error) {
	kind := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		kind, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return "", err
	}
	if rest := fs.Args(); kind == "" && len(rest) == 1 {
		kind = rest[0]
	} else if len(rest) > 0 {
		fmt.Fprintf(os.Stderr, "tusk-stack: unexpected arguments %q\n", rest)
		return "", errors.New("unexpected arguments")
	}
	return kind, nil
}

func down(ctx context.Context, args []string) int {
	fs := flag.NewFlagSet("down", flag.ContinueOnError)
	dir := fs.String("dir", "", "base directory of the stack (required)")
	if err := fs.Parse(args); err != nil || *dir == "" || fs.NArg() > 0 {
		fmt.Fprint(os.Stderr, usage)
		return exitUsage
	}
	st, err := stack.LoadState(*dir)
	if errors.Is(err, os.ErrNotExist) {
		fmt.Printf("no stack recorded in %s: nothing to stop\n", *dir)
		return 0
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "tusk-stack down: %v\n", err)
		return exitFailure
	}
	if err := stack.StopDir(ctx, *dir); err != nil {
		fmt.Fprintf(os.Stderr, "tusk-stack down: %v\n", err)
		return exitFailure
	}
	for i := len(st.Processes) - 1; i >= 0; i-- { // StopDir stops the newest first
		fmt.Printf("stopped %s (pid %d)\n", st.Processes[i].Name, st.Processes[i].PID)
	}
	return 0
}

func status(args []string) int {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	dir := fs.String("dir", "", "base directory of the stack (required)")
	asJSON := fs.Bool("json", false, "print state.json with live worker PIDs")
	if err := fs.Parse(args); err != nil || *dir == "" || fs.NArg() > 0 {
		fmt.Fprint(os.Stderr, usage)
		return exitUsage
	}
	st, err := stack.LoadState(*dir)
	if errors.Is(err, os.ErrNotExist) {
		fmt.Printf("no stack recorded in %s\n", *dir)
		return exitNotRunning
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "tusk-stack status: %v\n", err)
		return exitFailure
	}
	if *asJSON {
		return printJSON(st)
	}
	fmt.Printf("%s stack in %s, started %s: %s\n", st.Kind, st.Dir, st.StartedAt.Local().Format(time.DateTime), st.URL)
	printState(*st)
	alive := 0
	for _, p := range st.Processes {
		if p.Alive() {
			alive++
		}
	}
	switch {
	case alive == 0:
		return exitNotRunning
	case alive < len(st.Processes) || !st.Ready:
		return exitFailure
	}
	return 0
}
