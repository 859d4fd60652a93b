package agentcli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tusk-php/tusk/pkg/agentapi"
	"github.com/tusk-php/tusk/pkg/termview"
	"github.com/tusk-php/tusk/pkg/trace"
)

// connFlags are how the client subcommands reach the agent.
type connFlags struct {
	url       *string
	token     *string
	tokenFile *string
}

func addConnFlags(fs *flag.FlagSet) connFlags {
	return connFlags{
		url:       fs.String("agent", envOr("TUSK_AGENT_URL", "http://127.0.0.1:7070"), "agent API URL ($TUSK_AGENT_URL)"),
		token:     fs.String("token", "", "API token (default $TUSK_TOKEN, else --token-file)"),
		tokenFile: fs.String("token-file", envOr("TUSK_TOKEN_FILE", "/var/lib/tusk/token"), "file holding the API token ($TUSK_TOKEN_FILE)"),
	}
}

func (c connFlags) client() (*agentapi.Client, error) {
	token := *c.token
	if token == "" {
		token = os.Getenv("TUSK_TOKEN")
	}
	if token == "" {
		b, err := os.ReadFile(*c.tokenFile)
		if err != nil {
			return nil, fmt.Errorf("no API token: set $TUSK_TOKEN or --token, or make %s readable (%v)", *c.tokenFile, err)
		}
		token = strings.TrimSpace(string(b))
	}
	return agentapi.NewClient(*c.url, token), nil
}

// top lists the slowest recent requests.
func top(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("top", stderr)
	conn := addConnFlags(fs)
	since := fs.Duration("since", 15*time.Minute, "look this far back")
	limit := fs.Int("limit", 20, "requests to show")
	pool := fs.String("pool", "", "only this php-fpm pool")
	errorsOnly := fs.Bool("errors", false, "only failed requests")
	if err := parse(fs, args); err != nil {
		return err
	}
	c, err := conn.client()
	if err != nil {
		return err
	}
	q := trace.Query{Start: time.Now().Add(-*since), Limit: *limit, Pool: *pool, ErrorsOnly: *errorsOnly, Order: trace.OrderSlowest}
	list, err := c.Search(ctx, q)
	if err != nil {
		return err
	}
	if len(list) == 0 {
		fmt.Fprintf(stdout, "no requests traced in the last %s\n", *since)
		return nil
	}
	termview.Summaries(stdout, list)
	return nil
}

// showTrace prints one trace as a tree; "slowest" picks the slowest of the
// last 15 minutes.
func showTrace(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("trace", stderr)
	conn := addConnFlags(fs)
	asJSON := fs.Bool("json", false, "print the trace as JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("give one trace id, or 'slowest'")
	}
	c, err := conn.client()
	if err != nil {
		return err
	}
	var id trace.TraceID
	if fs.Arg(0) == "slowest" {
		list, err := c.Search(ctx, trace.Query{Start: time.Now().Add(-15 * time.Minute), Limit: 1, Order: trace.OrderSlowest})
		if err != nil {
			return err
		}
		if len(list) == 0 {
			return errors.New("no requests traced in the last 15 minutes")
		}
		id = list[0].TraceID
	} else if id, err = trace.ParseTraceID(fs.Arg(0)); err != nil {
		return usagef("%v", err)
	}
	t, err := c.Trace(ctx, id)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(t)
	}
	termview.Tree(stdout, t)
	return nil
}

// status prints what the agent traces and how.
func status(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("status", stderr)
	conn := addConnFlags(fs)
	asJSON := fs.Bool("json", false, "print the status as JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	c, err := conn.client()
	if err != nil {
		return err
	}
	st, err := c.Status(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(st)
	}
	fmt.Fprintf(stdout, "agent %s on %s, up since %s\n", st.Version, st.Host, st.StartedAt.Format(time.RFC3339))
	fmt.Fprintf(stdout, "events: %d total, %.1f/s, %d lost (ring buffer %d KiB)", st.Events.Total, st.Events.PerSecond, st.Events.Lost, st.Events.RingBytes>>10)
	if st.Events.SymbolsLimited > 0 {
		// Names held back by a process's symbol budget: a process meeting
		// that many new functions is unusual, and its frames show as
		// [unknown] until the names go out.
		fmt.Fprintf(stdout, ", %d function names held back (symbol budget)", st.Events.SymbolsLimited)
	}
	fmt.Fprintln(stdout)
	fmt.Fprintf(stdout, "store: %d traces, %.1f MiB at %s", st.Store.Traces, float64(st.Store.SizeBytes)/(1<<20), st.Store.Path)
	if st.Store.LastError != "" {
		fmt.Fprintf(stdout, " (last error: %s)", st.Store.LastError)
	}
	fmt.Fprintln(stdout)
	printCapabilities(stdout, st.Capabilities)
	for _, b := range st.Binaries {
		fmt.Fprintf(stdout, "\n%s  PHP %s %s  zts=%v dtrace=%v  mode=%s\n  %s\n", b.Path, b.Version, b.SAPI, b.ZTS, b.DTrace, b.Mode, b.ModeReason)
		if b.Mode != "none" || len(b.IOHooks) > 0 || b.IOReason != "" {
			fmt.Fprintf(stdout, "  I/O hooks: %d", len(b.IOHooks))
			if b.IOReason != "" {
				fmt.Fprintf(stdout, " (%s)", b.IOReason)
			}
			fmt.Fprintln(stdout)
		}
		if b.DeepAvailable {
			fmt.Fprintln(stdout, "  deep mode: available")
		} else if b.DeepReason != "" {
			fmt.Fprintf(stdout, "  deep mode: unavailable: %s\n", b.DeepReason)
		}
		for _, p := range b.Pools {
			fmt.Fprintf(stdout, "  pool %-12s master %-7d workers %v%s\n", p.Name, p.MasterPID, p.WorkerPIDs, podOf(p))
		}
	}
	printKubernetes(stdout, st.Kubernetes)
	printDeepModes(stdout, st.DeepModes)
	return nil
}

func printDeepModes(w io.Writer, modes []agentapi.DeepMode) {
	if len(modes) == 0 {
		fmt.Fprintln(w, "\nno deep mode active")
		return
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "DEEP MODE\tPOOL\tPIDS\tTHRESHOLD\tDEPTH\tNICE\tEXPIRES")
	for _, d := range modes {
		nice := "-"
		switch {
		case d.NiceError != "":
			nice = "not set (below)"
		case d.Nice > 0:
			nice = strconv.Itoa(d.Nice)
		}
		fmt.Fprintf(tw, "%s\t%s\t%v\t%s\t%d\t%s\t%s (in %s)\n", d.ID, orDash(d.Pool), d.AttachedPIDs, d.Threshold, d.MaxDepth,
			nice, d.ExpiresAt.Format(time.TimeOnly), time.Until(d.ExpiresAt).Round(time.Second))
	}
	tw.Flush()
	for _, d := range modes {
		if d.NiceError != "" {
			fmt.Fprintf(w, "%s: nice %d not set: %s\n", d.ID, d.Nice, d.NiceError)
		}
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
