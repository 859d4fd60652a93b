package agentapi

import (
	"fmt"
	"net/url"
	"time"

	"github.com/tusk-php/tusk/pkg/trace"
)

// PathProfileTraces lists the requests whose stack samples contain one
// function, hottest first: a flame graph's "traces where this function was
// hot".
const PathProfileTraces = "/api/v1/profiles/traces"

// Parameters of GET /api/v1/profiles/traces beyond the profile routes' and
// the search's.
const (
	ParamFunction = "function"
	ParamFile     = "file"
)

// FunctionTracesParams lists every parameter DecodeFunctionTracesParams
// accepts, in documentation order; openapi.yaml is tested against it.
var FunctionTracesParams = []string{
	ParamFunction, ParamFile, ParamFrom, ParamTo, ParamService, ParamPool, ParamEndpoint,
	ParamMethod, ParamPathPrefix, ParamStatus, ParamMinDuration, ParamMaxDuration, ParamErrorsOnly, ParamLimit,
}

// FunctionTracesQuery selects the requests whose samples contain a function.
type FunctionTracesQuery struct {
	// Function is the function as the flame graph labels it:
	// "Class::method" or "function". Required.
	Function string
	// File, when set, is the function's file, which tells apart functions
	// of one name in different files.
	File string
	// Traces filters the requests as a search does. Its Start and End are
	// the range (from and to on the wire, defaulted by WithDefaults) and
	// Limit the most requests answered (trace.DefaultLimit when 0). Order
	// is not used: the hottest come first.
	Traces trace.Query
	// Endpoint is the profiles' endpoint ("GET /cart"), as the flame graph
	// routes filter it.
	Endpoint string
}

// FunctionTracesResponse is the answer to GET /api/v1/profiles/traces.
type FunctionTracesResponse struct {
	// Scanned counts the stored request profiles read. Truncated says the
	// range held more profiled requests matching the filters than the agent
	// reads for one search: the newest were read, and older requests where
	// the function was hot may be missing (a narrower range or more
	// filters find them).
	Scanned   int  `json:"scanned"`
	Truncated bool `json:"truncated"`
	// Traces are the requests that ran the function, by FunctionSamples,
	// highest first (ties: newest first).
	Traces []FunctionTrace `json:"traces"`
}

// FunctionTrace is one request of a FunctionTracesResponse.
type FunctionTrace struct {
	trace.Summary
	// FunctionSamples counts the request's samples with the function on
	// the stack, once per sample however deep it recursed; FunctionCPUNs
	// is their CPU time, samples times the sampling period.
	FunctionSamples int64 `json:"functionSamples"`
	FunctionCPUNs   int64 `json:"functionCpuNs"`
	// Samples counts all of the request's samples.
	Samples int64 `json:"samples"`
}

// WithDefaults fills a missing end of the range with now and a missing
// start with DefaultProfileRange before it, as the profile routes do; the
// server applies it to every query.
func (q FunctionTracesQuery) WithDefaults(now time.Time) FunctionTracesQuery {
	if q.Traces.End.IsZero() {
		q.Traces.End = now
	}
	if q.Traces.Start.IsZero() {
		q.Traces.Start = q.Traces.End.Add(-DefaultProfileRange)
	}
	return q
}

// Validate reports the first thing wrong with q, naming the parameter.
func (q FunctionTracesQuery) Validate() error {
	from, to := q.Traces.Start, q.Traces.End
	switch {
	case q.Function == "":
		return fmt.Errorf("%s: name the function as the flame graph labels it, Class::method or function", ParamFunction)
	case !from.IsZero() && !to.IsZero() && to.Before(from):
		return fmt.Errorf("%s: %s is before %s %s", ParamTo, to.Format(time.RFC3339Nano), ParamFrom, from.Format(time.RFC3339Nano))
	}
	return q.Traces.Validate()
}

// EncodeFunctionTracesQuery turns q into URL parameters; zero fields are
// left out.
func EncodeFunctionTracesQuery(q FunctionTracesQuery) url.Values {
	v := url.Values{}
	for name, s := range map[string]string{ParamFunction: q.Function, ParamFile: q.File, ParamEndpoint: q.Endpoint} {
		if s != "" {
			v.Set(name, s)
		}
	}
	for name, t := range map[string]time.Time{ParamFrom: q.Traces.Start, ParamTo: q.Traces.End} {
		if !t.IsZero() {
			v.Set(name, t.UTC().Format(time.RFC3339Nano))
		}
	}
	encodeTraceFilters(v, q.Traces)
	return v
}

// DecodeFunctionTracesParams reads the parameters of GET
// /api/v1/profiles/traces, naming the parameter and what it expects when a
// value is wrong, then validates the query as a whole. As for the search,
// empty values count as absent and unknown or repeated parameters are
// refused.
func DecodeFunctionTracesParams(v url.Values) (FunctionTracesQuery, error) {
	if err := checkNames(v, FunctionTracesParams); err != nil {
		return FunctionTracesQuery{}, err
	}
	q := FunctionTracesQuery{Function: v.Get(ParamFunction), File: v.Get(ParamFile), Endpoint: v.Get(ParamEndpoint)}
	var err error
	if q.Traces.Start, q.Traces.End, err = decodeFromTo(v); err != nil {
		return FunctionTracesQuery{}, err
	}
	if err := decodeTraceFilters(v, &q.Traces); err != nil {
		return FunctionTracesQuery{}, err
	}
	if err := q.Validate(); err != nil {
		return FunctionTracesQuery{}, err
	}
	return q, nil
}
