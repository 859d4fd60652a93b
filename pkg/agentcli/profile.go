package agentcli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tusk-php/tusk/pkg/agentapi"
	"github.com/tusk-php/tusk/pkg/trace"
)

// profileCmd is `tusk-agent profile`: the functions using the most CPU,
// from the agent's continuous profiles, and optionally the profile itself
// in pprof format.
func profileCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("profile", stderr)
	conn := addConnFlags(fs)
	from := fs.Duration("from", 15*time.Minute, "look this far back")
	service := fs.String("service", "", "only this service")
	pool := fs.String("pool", "", "only this php-fpm pool")
	endpoint := fs.String("endpoint", "", `only this endpoint, method and path, e.g. "GET /wp-admin/"`)
	traceID := fs.String("trace", "", "only this request (trace id); --from is then not used")
	top := fs.Int("top", 20, "functions to show")
	pprofOut := fs.String("pprof", "", "also write the profile in pprof format to this file (for go tool pprof)")
	asJSON := fs.Bool("json", false, "print the functions as JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected arguments %q", fs.Args())
	}
	if *from <= 0 {
		return usagef("--from: want a positive duration like 15m or 2h")
	}
	if *top < 1 || *top > agentapi.MaxTopLimit {
		return usagef("--top: want a number from 1 to %d", agentapi.MaxTopLimit)
	}
	now := time.Now()
	q := agentapi.ProfileQuery{From: now.Add(-*from), To: now, Service: *service, Pool: *pool, Endpoint: *endpoint}
	if *traceID != "" {
		id, err := trace.ParseTraceID(*traceID)
		if err != nil {
			return usagef("--trace: %v", err)
		}
		q = agentapi.ProfileQuery{TraceID: id, Service: *service, Pool: *pool, Endpoint: *endpoint}
	}
	c, err := conn.client()
	if err != nil {
		return err
	}
	resp, err := c.TopFunctions(ctx, q, *top)
	if err != nil {
		return err
	}
	if *pprofOut != "" {
		if err := writePprof(ctx, c, q, *pprofOut); err != nil {
			return err
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(resp)
	}
	what := describeProfileQuery(q, *from)
	if resp.Total == 0 {
		if !q.TraceID.IsZero() {
			return fmt.Errorf("no stack samples %s (the request may have been too short, or its profile expired)", what)
		}
		fmt.Fprintf(stdout, "no stack samples %s\n", what)
		return nil
	}
	printTopFunctions(stdout, resp, what)
	if *pprofOut != "" {
		fmt.Fprintf(stdout, "\npprof profile written to %s (go tool pprof -top %s)\n", *pprofOut, *pprofOut)
	}
	return nil
}

func writePprof(ctx context.Context, c *agentapi.Client, q agentapi.ProfileQuery, path string) error {
	b, err := c.Pprof(ctx, q)
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("writing the pprof profile: %w", err)
	}
	return nil
}

// describeProfileQuery says what was asked for: "in the last 15m, pool www".
func describeProfileQuery(q agentapi.ProfileQuery, from time.Duration) string {
	var parts []string
	if !q.TraceID.IsZero() {
		parts = append(parts, "for trace "+q.TraceID.String())
	} else {
		parts = append(parts, "in the last "+from.String())
	}
	for _, f := range []struct{ name, v string }{{"service", q.Service}, {"pool", q.Pool}, {"endpoint", q.Endpoint}} {
		if f.v != "" {
			parts = append(parts, fmt.Sprintf("%s %q", f.name, f.v))
		}
	}
	return strings.Join(parts, ", ")
}

func printTopFunctions(w io.Writer, resp *agentapi.TopFunctionsResponse, what string) {
	fmt.Fprintf(w, "%d samples %s", resp.Total, what)
	if resp.PeriodNs > 0 {
		cpu := time.Duration(resp.Total * resp.PeriodNs)
		fmt.Fprintf(w, " (≈ %s of CPU at %.0f Hz)", cpu.Round(10*time.Millisecond), 1e9/float64(resp.PeriodNs))
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "%7s  %8s  %7s  %8s\tFUNCTION\tFILE\n", "SELF%", "SELF", "TOTAL%", "TOTAL")
	for _, f := range resp.Functions {
		fmt.Fprintf(tw, "%6.1f%%  %8d  %6.1f%%  %8d\t%s\t%s\n", f.SelfPercent, f.Self, f.TotalPercent, f.Total, f.Function, orDash(f.File))
	}
	tw.Flush()
}
