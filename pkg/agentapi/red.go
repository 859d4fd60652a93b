package agentapi

import (
	"cmp"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tusk-php/tusk/pkg/red"
)

// PathREDMetrics serves request rate, errors and durations per time step,
// for dashboards and alerts.
const PathREDMetrics = "/api/v1/metrics/red"

// Parameters of GET /api/v1/metrics/red beyond the profile routes' from/to
// and the search's service, pool, method, pathPrefix and limit.
const (
	ParamStep    = "step"
	ParamGroupBy = "groupBy"
)

// REDGroupBy says what one series stands for.
type REDGroupBy string

const (
	GroupByEndpoint REDGroupBy = "endpoint" // "GET /cart" within a service and pool (default)
	GroupByPool     REDGroupBy = "pool"
	GroupByService  REDGroupBy = "service"
	GroupByNone     REDGroupBy = "none" // one series for everything that matched
)

// Bounds of a RED query.
const (
	// DefaultREDStep is the step when none is asked for; MinREDStep the
	// finest, MaxREDPoints the most steps one answer may have.
	DefaultREDStep = time.Minute
	MinREDStep     = time.Second
	MaxREDPoints   = 11000
	// DefaultREDLimit is how many series are returned, the busiest first;
	// the requests of the others are summed into one series whose Other is
	// true. MaxREDLimit is the most that may be asked for.
	DefaultREDLimit = 20
	MaxREDLimit     = 500
)

// REDQuery selects the traces counted. From/To default like ProfileQuery.
type REDQuery struct {
	From       time.Time     `json:"from,omitzero"`
	To         time.Time     `json:"to,omitzero"`
	Step       time.Duration `json:"step,omitempty"`
	Service    string        `json:"service,omitempty"`
	Pool       string        `json:"pool,omitempty"`
	Method     string        `json:"method,omitempty"`
	PathPrefix string        `json:"pathPrefix,omitempty"`
	// Endpoint is exactly one endpoint, as REDSeries.Endpoint names it
	// ("GET /cart"): the panel of one endpoint's series.
	Endpoint string     `json:"endpoint,omitempty"`
	GroupBy  REDGroupBy `json:"groupBy,omitempty"`
	Limit    int        `json:"limit,omitempty"`
}

// REDResponse is the answer to GET /api/v1/metrics/red. Steps start at
// From truncated to Step (in Unix time), so the answers of several agents
// for the same query line up and can be merged step by step.
//
// Only traces that started in the query's [From, To) are counted, so when
// From or To falls inside a step, that first or last step holds only part
// of its time: a rate should be read over the part that was counted.
type REDResponse struct {
	From   time.Time   `json:"from"`
	To     time.Time   `json:"to"`
	Step   Duration    `json:"step"`
	Series []REDSeries `json:"series"`
}

// REDSeries is one group's figures. The fields not grouped by are empty;
// Endpoint is "METHOD /path" (the query string left out), or as the
// profiles name a request without method or path (trace.Summary.Name), so
// that it can filter a flame graph.
type REDSeries struct {
	Service  string `json:"service,omitempty"`
	Pool     string `json:"pool,omitempty"`
	Endpoint string `json:"endpoint,omitempty"`
	// Other marks the sum of the series past the limit.
	Other bool `json:"other,omitempty"`
	// Points holds only the steps with at least one request, oldest first.
	Points []REDPoint `json:"points"`
}

// REDPoint is one step of a series: the traces that started in
// [StartUnixMs, StartUnixMs+Step) and in the query's [From, To).
type REDPoint struct {
	StartUnixMs int64  `json:"startUnixMs"`
	Requests    uint64 `json:"requests"`
	// Errors counts traces with the error flag (HTTP 5xx, uncaught
	// exception, fatal error).
	Errors    uint64        `json:"errors"`
	Durations red.Histogram `json:"durations"`
}

// REDParams lists every parameter DecodeREDParams accepts, in documentation
// order; openapi.yaml is tested against it.
var REDParams = []string{
	ParamFrom, ParamTo, ParamStep, ParamService, ParamPool, ParamMethod, ParamPathPrefix,
	ParamEndpoint, ParamGroupBy, ParamLimit,
}

// redGroupBys are the values groupBy accepts.
var redGroupBys = []REDGroupBy{GroupByEndpoint, GroupByPool, GroupByService, GroupByNone}

// WithDefaults fills the zero fields: To is now, From DefaultProfileRange
// before To, Step DefaultREDStep, GroupBy GroupByEndpoint, Limit
// DefaultREDLimit. The server applies it to every query.
func (q REDQuery) WithDefaults(now time.Time) REDQuery {
	if q.To.IsZero() {
		q.To = now
	}
	if q.From.IsZero() {
		q.From = q.To.Add(-DefaultProfileRange)
	}
	q.Step = cmp.Or(q.Step, DefaultREDStep)
	q.GroupBy = cmp.Or(q.GroupBy, GroupByEndpoint)
	q.Limit = cmp.Or(q.Limit, DefaultREDLimit)
	return q
}

// Validate reports the first thing wrong with q, naming the parameter. Zero
// fields pass, being WithDefaults' to fill; the number of steps is checked
// once From and To are both set, with DefaultREDStep for a missing Step.
func (q REDQuery) Validate() error {
	switch {
	case q.Step != 0 && q.Step < MinREDStep:
		return errStepTooFine(q.Step)
	case q.Step%time.Millisecond != 0:
		// Points start at multiples of Step in whole milliseconds
		// (StartUnixMs); a finer step would make them uneven.
		return fmt.Errorf("%s: want a whole number of milliseconds, got %s", ParamStep, q.Step)
	case q.GroupBy != "" && !slices.Contains(redGroupBys, q.GroupBy):
		return fmt.Errorf("%s: want %s, %s, %s or %s, got %q", ParamGroupBy, GroupByEndpoint, GroupByPool, GroupByService, GroupByNone, q.GroupBy)
	case q.Limit < 0 || q.Limit > MaxREDLimit:
		return fmt.Errorf("%s: want a whole number from 1 to %d, got %d", ParamLimit, MaxREDLimit, q.Limit)
	case q.From.IsZero() || q.To.IsZero():
		return nil
	case q.To.Before(q.From):
		return fmt.Errorf("%s: %s is before %s %s", ParamTo, q.To.Format(time.RFC3339Nano), ParamFrom, q.From.Format(time.RFC3339Nano))
	}
	q.Step = cmp.Or(q.Step, DefaultREDStep)
	if n := q.Steps(); n > MaxREDPoints {
		return fmt.Errorf("%s: %s from %s to %s makes %d points, more than %d; use a step of at least %s",
			ParamStep, q.Step, q.From.Format(time.RFC3339Nano), q.To.Format(time.RFC3339Nano), n, MaxREDPoints, q.stepThatFits())
	}
	return nil
}

func errStepTooFine(step time.Duration) error {
	return fmt.Errorf("%s: want at least %s, got %s", ParamStep, MinREDStep, step)
}

// StepStartUnixMs is the start of the step holding the instant t: t rounded
// down to a multiple of Step counted from the Unix epoch (time.Truncate
// counts from year 1), so that every agent answering the same query cuts
// the same steps. Step must be valid and not zero.
func (q REDQuery) StepStartUnixMs(t time.Time) int64 {
	// Step is whole milliseconds, so rounding t down to a millisecond
	// first (UnixMilli does, before 1970 too) changes nothing.
	ms, step := t.UnixMilli(), q.Step.Milliseconds()
	return ms - ((ms%step)+step)%step
}

// Steps is how many steps [From, To) touches: the most points one series of
// the answer can have. From, To and Step must be set and valid.
func (q REDQuery) Steps() int64 {
	if !q.To.After(q.From) {
		return 0
	}
	last := q.StepStartUnixMs(q.To.Add(-time.Nanosecond))
	return (last-q.StepStartUnixMs(q.From))/q.Step.Milliseconds() + 1
}

// stepThatFits is a step in whole seconds that keeps [From, To) within
// MaxREDPoints steps, for the error message: the span over MaxREDPoints-1,
// rounded up, since a span cut into MaxREDPoints-1 equal steps touches at
// most MaxREDPoints of them however it is aligned.
func (q REDQuery) stepThatFits() time.Duration {
	spanMs := q.To.UnixMilli() - q.From.UnixMilli() + 1
	ms := (spanMs + MaxREDPoints - 2) / (MaxREDPoints - 1)
	return time.Duration((ms+999)/1000) * time.Second
}

// EncodeREDQuery turns q into URL parameters; zero fields are left out.
// Times travel as RFC 3339 in UTC with full precision, the step as a Go
// duration.
func EncodeREDQuery(q REDQuery) url.Values {
	v := url.Values{}
	for name, t := range map[string]time.Time{ParamFrom: q.From, ParamTo: q.To} {
		if !t.IsZero() {
			v.Set(name, t.UTC().Format(time.RFC3339Nano))
		}
	}
	if q.Step != 0 {
		v.Set(ParamStep, q.Step.String())
	}
	for name, s := range map[string]string{
		ParamService: q.Service, ParamPool: q.Pool, ParamMethod: strings.ToUpper(q.Method),
		ParamPathPrefix: q.PathPrefix, ParamEndpoint: q.Endpoint, ParamGroupBy: string(q.GroupBy),
	} {
		if s != "" {
			v.Set(name, s)
		}
	}
	if q.Limit != 0 {
		v.Set(ParamLimit, strconv.Itoa(q.Limit))
	}
	return v
}

// DecodeREDParams reads the parameters of GET /api/v1/metrics/red, naming
// the parameter and what it expects when a value is wrong, then validates
// the query as a whole. As for the search, empty values count as absent and
// unknown or repeated parameters are refused. Absent fields stay zero for
// WithDefaults.
func DecodeREDParams(v url.Values) (REDQuery, error) {
	if err := checkNames(v, REDParams); err != nil {
		return REDQuery{}, err
	}
	var q REDQuery
	var err error
	if q.From, q.To, err = decodeFromTo(v); err != nil {
		return REDQuery{}, err
	}
	if s := v.Get(ParamStep); s != "" {
		if q.Step, err = parseQueryDuration(ParamStep, s); err != nil {
			return REDQuery{}, err
		}
		if q.Step == 0 { // Validate takes zero for absent; "0s" was asked for
			return REDQuery{}, errStepTooFine(q.Step)
		}
	}
	q.Service = v.Get(ParamService)
	q.Pool = v.Get(ParamPool)
	q.Method = strings.ToUpper(v.Get(ParamMethod))
	q.PathPrefix = v.Get(ParamPathPrefix)
	q.Endpoint = v.Get(ParamEndpoint)
	q.GroupBy = REDGroupBy(v.Get(ParamGroupBy))
	// A default of 0 keeps an absent limit absent.
	if q.Limit, err = decodeBoundedInt(v, ParamLimit, 0, MaxREDLimit); err != nil {
		return REDQuery{}, err
	}
	if err := q.Validate(); err != nil {
		return REDQuery{}, err
	}
	return q, nil
}
