package agentcli

import (
	"context"
	"fmt"
	"io"

	"github.com/tusk-php/tusk/pkg/agentapi"
)

// deep is `tusk-agent deep enable|disable|list`.
func deep(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("want enable, disable or list")
	}
	sub, args := args[0], args[1:]
	fs := newFlagSet("deep "+sub, stderr)
	conn := addConnFlags(fs)
	switch sub {
	case "enable":
		pool := fs.String("pool", "", "php-fpm pool whose workers get function spans")
		pids := fs.String("pid", "", "worker PIDs, comma-separated (instead of --pool)")
		threshold := fs.Duration("threshold", agentapi.DefaultDeepThreshold, "report calls at least this long")
		dur := fs.Duration("for", agentapi.DefaultDeepFor, "turn deep mode off after this long")
		depth := fs.Int("max-depth", agentapi.DefaultDeepMaxDepth, "deepest call level reported")
		nice := fs.Int("nice", -1, fmt.Sprintf("nice value (0–19) the processes run at while deep mode is on (default %d with --pid, unchanged with --pool)", agentapi.DefaultDeepNice))
		if err := parse(fs, args); err != nil {
			return err
		}
		req := agentapi.DeepModeRequest{Pool: *pool, Threshold: agentapi.Duration(*threshold), For: agentapi.Duration(*dur), MaxDepth: *depth}
		switch {
		case *nice >= 0: // the agent checks the upper bound
			req.Nice = nice
		case *nice != -1:
			return usagef("--nice %d: want 0 to 19", *nice)
		}
		if *pids != "" {
			list, err := parsePIDs(*pids)
			if err != nil {
				return usagef("--pid: %v", err)
			}
			req.PIDs = list
		}
		if (req.Pool == "") == (len(req.PIDs) == 0) {
			return usagef("give --pool or --pid")
		}
		c, err := conn.client()
		if err != nil {
			return err
		}
		d, err := c.EnableDeepMode(ctx, req)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "deep mode %s on for PIDs %v (calls ≥ %s%s) until %s\n", d.ID, d.AttachedPIDs, d.Threshold, niceNote(*d), d.ExpiresAt.Format("15:04:05"))
		if d.NiceError != "" {
			fmt.Fprintf(stderr, "warning: %s\n", d.NiceError)
		}
		return nil
	case "disable":
		if err := parse(fs, args); err != nil {
			return err
		}
		if fs.NArg() != 1 {
			return usagef("give the deep mode id (see 'tusk-agent deep list')")
		}
		c, err := conn.client()
		if err != nil {
			return err
		}
		if err := c.DisableDeepMode(ctx, fs.Arg(0)); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "deep mode %s off\n", fs.Arg(0))
		return nil
	case "list":
		if err := parse(fs, args); err != nil {
			return err
		}
		c, err := conn.client()
		if err != nil {
			return err
		}
		modes, err := c.DeepModes(ctx)
		if err != nil {
			return err
		}
		printDeepModes(stdout, modes)
		return nil
	}
	return usagef("unknown deep subcommand %q: want enable, disable or list", sub)
}

// niceNote says how deep mode's processes are reniced, for its one line.
func niceNote(d agentapi.DeepMode) string {
	if d.Nice == 0 || d.NiceError != "" {
		return ""
	}
	return fmt.Sprintf(", at nice %d", d.Nice)
}
