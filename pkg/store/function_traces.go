package store

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/tusk-php/tusk/pkg/agentapi"
	"github.com/tusk-php/tusk/pkg/profile"
	"github.com/tusk-php/tusk/pkg/trace"
)

// MaxFunctionSearchProfiles bounds the request profiles one FunctionTraces
// call reads. A profile blob cannot be indexed by the functions in it, so
// each one is inflated and its frame table read: 20-60 µs for a request's
// profile (BenchmarkFunctionTraces), so 10000 keep a search within about
// half a second of one core, far inside the plugin's per-agent timeout
// (10 s by default), while still reaching back 100 minutes for a pool
// with 100 profiled requests a minute.
const MaxFunctionSearchProfiles = 10000

// FunctionTraces returns the requests whose samples contain q.Function,
// ranked by those samples (once per sample, however deep the function
// recursed), highest first, ties newest first, at most q.Traces's limit of
// them. It reads the newest request profiles that match the filters, at
// most MaxFunctionSearchProfiles, and says when the range held more.
//
// A request counts when it started in the range (as a search has it) and
// its first sample was taken before the range's end; only the latter is
// indexed, so it is what the scan walks. The function is matched in the
// blobs without decoding them whole (profile.FunctionMatcher). A blob that
// does not decode is left out and counted in ProfileStats().Corrupt. A
// query that fails q.Validate is rejected with an error matching
// ErrInvalidQuery.
func (s *Store) FunctionTraces(ctx context.Context, q agentapi.FunctionTracesQuery) (*agentapi.FunctionTracesResponse, error) {
	return s.functionTraces(ctx, q, MaxFunctionSearchProfiles)
}

// functionTraces is FunctionTraces reading at most maxProfiles profiles.
func (s *Store) functionTraces(ctx context.Context, q agentapi.FunctionTracesQuery, maxProfiles int) (*agentapi.FunctionTracesResponse, error) {
	if err := q.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidQuery, err)
	}
	if s.closed.Load() {
		return nil, ErrClosed
	}
	s.settleProfiles(ctx)
	query, args := functionTracesSQL(&q, maxProfiles+1)
	rows, err := s.readDB.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: function traces: %w", err)
	}
	defer rows.Close()

	m := profile.NewFunctionMatcher(profile.FunctionRef{Label: q.Function, File: q.File})
	resp := &agentapi.FunctionTracesResponse{Traces: []agentapi.FunctionTrace{}}
	// A long request has a profile per part the aggregator handed on: the
	// parts add up to the request.
	byTrace := map[trace.TraceID]*agentapi.FunctionTrace{}
	var corrupt int
	var firstErr error
	for rows.Next() {
		if resp.Scanned == maxProfiles {
			resp.Truncated = true
			break
		}
		resp.Scanned++
		var sum trace.Summary
		var samples int64
		var blob sql.RawBytes // read in place: only valid until Next
		if err := scanSummary(rows, &sum, &samples, &blob); err != nil {
			return nil, fmt.Errorf("store: function traces: %w", err)
		}
		found, err := m.Count(blob)
		if err != nil {
			corrupt++
			firstErr = cmp.Or(firstErr, err)
			continue
		}
		hit := byTrace[sum.TraceID]
		if hit == nil {
			hit = &agentapi.FunctionTrace{Summary: sum}
			byTrace[sum.TraceID] = hit
		}
		hit.Samples += samples
		hit.FunctionSamples += found.Samples
		hit.FunctionCPUNs += found.Samples * found.PeriodNs
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: function traces: %w", err)
	}
	if corrupt > 0 {
		s.profiles.corrupt.Add(uint64(corrupt))
		s.log.Warn("left corrupt stored profiles out of a function search", "corrupt", corrupt, "error", firstErr)
	}
	for _, hit := range byTrace {
		if hit.FunctionSamples > 0 {
			resp.Traces = append(resp.Traces, *hit)
		}
	}
	slices.SortFunc(resp.Traces, func(a, b agentapi.FunctionTrace) int {
		return cmp.Or(cmp.Compare(b.FunctionSamples, a.FunctionSamples), cmp.Compare(b.StartUnixNano, a.StartUnixNano),
			slices.Compare(a.TraceID[:], b.TraceID[:]))
	})
	if limit := q.Traces.EffectiveLimit(); len(resp.Traces) > limit {
		resp.Traces = resp.Traces[:limit]
	}
	return resp, nil
}

// functionTracesSQL selects, for the request profiles matching q (newest
// first, at most limit rows), the summary of their trace, then the
// profile's samples and blob.
//
// The profiles are renamed in a subquery so that queryWhere's unqualified
// columns mean the trace's. CROSS JOIN makes SQLite walk trace_profiles
// (by its start_ns index, already newest first) in the outer loop and look
// each trace up by its key: with any other order the planner may pick a
// traces index for a filter and then sort every joined row, blobs
// included, to find the newest.
func functionTracesSQL(q *agentapi.FunctionTracesQuery, limit int) (string, []any) {
	var profileWhere []string
	var args []any
	if !q.Traces.Start.IsZero() {
		// The first sample is never before the request's start.
		profileWhere = append(profileWhere, "start_ns >= ?")
		args = append(args, unixNano(q.Traces.Start))
	}
	if !q.Traces.End.IsZero() {
		profileWhere = append(profileWhere, "start_ns < ?")
		args = append(args, unixNano(q.Traces.End))
	}
	if q.Endpoint != "" {
		profileWhere = append(profileWhere, "endpoint = ?")
		args = append(args, q.Endpoint)
	}
	profiles := "SELECT rowid AS tp_row, trace_id AS tp_trace, start_ns AS tp_start, samples AS tp_samples, profile AS tp_profile FROM trace_profiles"
	if len(profileWhere) > 0 {
		profiles += " WHERE " + strings.Join(profileWhere, " AND ")
	}
	traceWhere, traceArgs := queryWhere(&q.Traces, searchPlan{})
	args = append(args, traceArgs...)
	args = append(args, limit)
	return "SELECT " + summaryColumns + ", tp_samples, tp_profile FROM (" + profiles + ")" +
		" CROSS JOIN traces ON traces.trace_id = tp_trace" + traceWhere +
		" ORDER BY tp_start DESC, tp_row DESC LIMIT ?", args
}
