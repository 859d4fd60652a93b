package agentapi

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tusk-php/tusk/pkg/trace"
)

// Paths of the profile routes. A trace's own profile is at
// PathTraces + "/{id}" + PathTraceProfileSuffix.
const (
	PathProfileFlamegraph  = "/api/v1/profiles/flamegraph"
	PathProfileTop         = "/api/v1/profiles/top"
	PathProfilePprof       = "/api/v1/profiles/pprof"
	PathTraceProfileSuffix = "/profile"
)

// Names of the profile parameters that the search does not already have
// (service, pool and limit are shared with it).
const (
	ParamFrom     = "from"
	ParamTo       = "to"
	ParamEndpoint = "endpoint"
	ParamTraceID  = "traceId"
	ParamMaxNodes = "maxNodes"
)

// ProfileFilterParams are the parameters every profile route over a time
// range takes, in documentation order; the flame graph adds ParamMaxNodes,
// the top list ParamLimit.
var ProfileFilterParams = []string{ParamFrom, ParamTo, ParamService, ParamPool, ParamEndpoint, ParamTraceID}

// Defaults and bounds of the profile routes.
const (
	// DefaultProfileRange is how far back from "to" (itself defaulting to
	// now) a profile query without "from" looks.
	DefaultProfileRange = time.Hour
	// DefaultMaxNodes is the flame graph size when maxNodes is absent;
	// MaxMaxNodes the most that may be asked for.
	DefaultMaxNodes = 20000
	MaxMaxNodes     = 200000
	// DefaultTopLimit and MaxTopLimit bound the top-functions list.
	DefaultTopLimit = 50
	MaxTopLimit     = 5000
)

// ProfileUnitSamples is the only Flamegraph unit so far: values count
// samples, each worth PeriodNs of CPU time.
const ProfileUnitSamples = "samples"

// ProfileQuery selects stack samples. Zero fields do not filter. Service,
// Pool and Endpoint match exactly. With TraceID set, only that request's
// samples count and From/To are not used.
type ProfileQuery struct {
	From     time.Time     `json:"from,omitzero"`
	To       time.Time     `json:"to,omitzero"`
	Service  string        `json:"service,omitempty"`
	Pool     string        `json:"pool,omitempty"`
	Endpoint string        `json:"endpoint,omitempty"` // "GET /wp-admin/"
	TraceID  trace.TraceID `json:"traceId,omitzero"`
}

// WithDefaults fills a missing To with now and a missing From with
// DefaultProfileRange before To; the server applies it to every query.
func (q ProfileQuery) WithDefaults(now time.Time) ProfileQuery {
	if q.To.IsZero() {
		q.To = now
	}
	if q.From.IsZero() {
		q.From = q.To.Add(-DefaultProfileRange)
	}
	return q
}

// Flamegraph is a profile as a flame graph: the call tree in depth-first
// pre-order with each node's depth (the nested-set form Grafana's flame
// graph panel reads as the fields level, value, self and label). Nodes[0] is
// the root, Level 0, Label "total", whose Value is Total. Children follow
// their parent ordered by Label, then File. A node is a function in a file:
// samples on different lines of it are one node.
type Flamegraph struct {
	Unit     string      `json:"unit"`     // ProfileUnitSamples
	PeriodNs int64       `json:"periodNs"` // CPU time one sample stands for
	Total    int64       `json:"total"`    // samples in the profile
	Nodes    []FlameNode `json:"nodes"`
}

// FlameNode is one node of a Flamegraph.
type FlameNode struct {
	Level int    `json:"level"`
	Label string `json:"label"` // "Class::function", "function" or "[php-fpm]"-style
	File  string `json:"file,omitempty"`
	Value int64  `json:"value"` // samples in this node and below it
	Self  int64  `json:"self"`  // samples in this node itself
}

// TopFunction is one function of a top-functions list: Self counts samples
// with it as the leaf, Total samples with it anywhere on the stack (once per
// sample, however deep it recursed).
type TopFunction struct {
	Function     string  `json:"function"`
	File         string  `json:"file,omitempty"`
	Self         int64   `json:"self"`
	Total        int64   `json:"total"`
	SelfPercent  float64 `json:"selfPercent"`
	TotalPercent float64 `json:"totalPercent"`
}

// TopFunctionsResponse is the answer to GET /api/v1/profiles/top: the
// functions by Self, highest first.
type TopFunctionsResponse struct {
	Unit      string        `json:"unit"`
	PeriodNs  int64         `json:"periodNs"`
	Total     int64         `json:"total"` // samples in the profile, the 100%
	Functions []TopFunction `json:"functions"`
}

// EncodeProfileQuery turns q into URL parameters; zero fields are left out.
func EncodeProfileQuery(q ProfileQuery) url.Values {
	v := url.Values{}
	if !q.From.IsZero() {
		v.Set(ParamFrom, q.From.UTC().Format(time.RFC3339Nano))
	}
	if !q.To.IsZero() {
		v.Set(ParamTo, q.To.UTC().Format(time.RFC3339Nano))
	}
	for name, s := range map[string]string{ParamService: q.Service, ParamPool: q.Pool, ParamEndpoint: q.Endpoint} {
		if s != "" {
			v.Set(name, s)
		}
	}
	if !q.TraceID.IsZero() {
		v.Set(ParamTraceID, q.TraceID.String())
	}
	return v
}

// DecodeFlamegraphParams reads the parameters of GET
// /api/v1/profiles/flamegraph; maxNodes is DefaultMaxNodes when absent.
func DecodeFlamegraphParams(v url.Values) (q ProfileQuery, maxNodes int, err error) {
	if err := checkNames(v, append(slices.Clip(ProfileFilterParams), ParamMaxNodes)); err != nil {
		return ProfileQuery{}, 0, err
	}
	if q, err = decodeProfileFilter(v); err != nil {
		return ProfileQuery{}, 0, err
	}
	if maxNodes, err = decodeBoundedInt(v, ParamMaxNodes, DefaultMaxNodes, MaxMaxNodes); err != nil {
		return ProfileQuery{}, 0, err
	}
	return q, maxNodes, nil
}

// DecodeTopParams reads the parameters of GET /api/v1/profiles/top; limit is
// DefaultTopLimit when absent.
func DecodeTopParams(v url.Values) (q ProfileQuery, limit int, err error) {
	if err := checkNames(v, append(slices.Clip(ProfileFilterParams), ParamLimit)); err != nil {
		return ProfileQuery{}, 0, err
	}
	if q, err = decodeProfileFilter(v); err != nil {
		return ProfileQuery{}, 0, err
	}
	if limit, err = decodeBoundedInt(v, ParamLimit, DefaultTopLimit, MaxTopLimit); err != nil {
		return ProfileQuery{}, 0, err
	}
	return q, limit, nil
}

// DecodePprofParams reads the parameters of GET /api/v1/profiles/pprof.
func DecodePprofParams(v url.Values) (ProfileQuery, error) {
	if err := checkNames(v, ProfileFilterParams); err != nil {
		return ProfileQuery{}, err
	}
	return decodeProfileFilter(v)
}

// DecodeTraceProfileParams reads the parameters of GET
// /api/v1/traces/{id}/profile: only maxNodes.
func DecodeTraceProfileParams(v url.Values) (maxNodes int, err error) {
	if err := checkNames(v, []string{ParamMaxNodes}); err != nil {
		return 0, err
	}
	return decodeBoundedInt(v, ParamMaxNodes, DefaultMaxNodes, MaxMaxNodes)
}

// decodeFromTo reads the from and to of the routes over a time range; an
// absent one is zero.
func decodeFromTo(v url.Values) (from, to time.Time, err error) {
	if s := v.Get(ParamFrom); s != "" {
		if from, err = parseQueryTime(ParamFrom, s); err != nil {
			return from, to, err
		}
	}
	if s := v.Get(ParamTo); s != "" {
		to, err = parseQueryTime(ParamTo, s)
	}
	return from, to, err
}

func decodeProfileFilter(v url.Values) (ProfileQuery, error) {
	var q ProfileQuery
	var err error
	if q.From, q.To, err = decodeFromTo(v); err != nil {
		return ProfileQuery{}, err
	}
	if !q.From.IsZero() && !q.To.IsZero() && q.To.Before(q.From) {
		return ProfileQuery{}, fmt.Errorf("%s: %s is before %s %s", ParamTo, v.Get(ParamTo), ParamFrom, v.Get(ParamFrom))
	}
	q.Service = v.Get(ParamService)
	q.Pool = v.Get(ParamPool)
	q.Endpoint = v.Get(ParamEndpoint)
	if s := v.Get(ParamTraceID); s != "" {
		if q.TraceID, err = trace.ParseTraceID(s); err != nil {
			return ProfileQuery{}, fmt.Errorf("%s: %w", ParamTraceID, err)
		}
	}
	return q, nil
}

func decodeBoundedInt(v url.Values, name string, def, most int) (int, error) {
	s := v.Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > most {
		return 0, fmt.Errorf("%s: want a whole number from 1 to %d, got %q", name, most, s)
	}
	return n, nil
}

// checkNames is checkParamNames for any list of known parameters.
func checkNames(v url.Values, known []string) error {
	var unknown []string
	for name := range v {
		if !slices.Contains(known, name) {
			unknown = append(unknown, strconv.Quote(name))
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		word := "parameter"
		if len(unknown) > 1 {
			word = "parameters"
		}
		return fmt.Errorf("unknown %s %s; known: %s", word, strings.Join(unknown, ", "), strings.Join(known, ", "))
	}
	for _, name := range known {
		if n := len(v[name]); n > 1 {
			return fmt.Errorf("%s: given %d times, want at most once", name, n)
		}
	}
	return nil
}
