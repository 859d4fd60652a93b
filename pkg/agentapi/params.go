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

// Names of the search parameters of GET /api/v1/traces. They are spelled
// here and nowhere else: the server decodes with DecodeQuery, the client and
// the plugin encode with EncodeQuery, and openapi.yaml is tested against
// this list.
const (
	ParamStart       = "start"
	ParamEnd         = "end"
	ParamMinDuration = "minDuration"
	ParamMaxDuration = "maxDuration"
	ParamService     = "service"
	ParamPool        = "pool"
	ParamMethod      = "method"
	ParamPathPrefix  = "pathPrefix"
	ParamStatus      = "status"
	ParamErrorsOnly  = "errorsOnly"
	ParamLimit       = "limit"
	ParamOrder       = "order"
)

// SearchParams lists every parameter DecodeQuery accepts, in documentation
// order.
var SearchParams = []string{
	ParamStart, ParamEnd, ParamMinDuration, ParamMaxDuration,
	ParamService, ParamPool, ParamMethod, ParamPathPrefix, ParamStatus,
	ParamErrorsOnly, ParamLimit, ParamOrder,
}

// Times are only accepted in the range RFC 3339 can print back, so that a
// decoded query always survives EncodeQuery unchanged.
var (
	minQueryTime = time.Unix(0, 0)
	maxQueryTime = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
)

// EncodeQuery turns q into URL parameters; zero fields are left out. Times
// travel as RFC 3339 in UTC with full precision, durations as Go durations.
func EncodeQuery(q trace.Query) url.Values {
	v := url.Values{}
	setTime := func(name string, t time.Time) {
		if !t.IsZero() {
			v.Set(name, t.UTC().Format(time.RFC3339Nano))
		}
	}
	setTime(ParamStart, q.Start)
	setTime(ParamEnd, q.End)
	encodeTraceFilters(v, q)
	if q.Order != "" {
		v.Set(ParamOrder, string(q.Order))
	}
	return v
}

// encodeTraceFilters sets the parameters of q's filters and limit, the
// part of a search other routes share; zero fields are left out.
func encodeTraceFilters(v url.Values, q trace.Query) {
	setString := func(name, s string) {
		if s != "" {
			v.Set(name, s)
		}
	}
	if q.MinDuration != 0 {
		v.Set(ParamMinDuration, q.MinDuration.String())
	}
	if q.MaxDuration != 0 {
		v.Set(ParamMaxDuration, q.MaxDuration.String())
	}
	setString(ParamService, q.Service)
	setString(ParamPool, q.Pool)
	setString(ParamMethod, strings.ToUpper(q.Method))
	setString(ParamPathPrefix, q.PathPrefix)
	if q.StatusCode != 0 {
		v.Set(ParamStatus, strconv.Itoa(q.StatusCode))
	}
	if q.ErrorsOnly {
		v.Set(ParamErrorsOnly, "true")
	}
	if q.Limit != 0 {
		v.Set(ParamLimit, strconv.Itoa(q.Limit))
	}
}

// DecodeQuery reads search parameters, naming the parameter and what it
// expects when a value is wrong, then validates the query as a whole.
// An empty value counts as absent, because form-built URLs send empty
// fields. Unknown and repeated parameters are errors rather than being
// ignored: a misspelt filter silently matching everything misleads.
func DecodeQuery(v url.Values) (trace.Query, error) {
	if err := checkParamNames(v); err != nil {
		return trace.Query{}, err
	}
	var q trace.Query
	var err error
	if s := v.Get(ParamStart); s != "" {
		if q.Start, err = parseQueryTime(ParamStart, s); err != nil {
			return trace.Query{}, err
		}
	}
	if s := v.Get(ParamEnd); s != "" {
		if q.End, err = parseQueryTime(ParamEnd, s); err != nil {
			return trace.Query{}, err
		}
	}
	if err := decodeTraceFilters(v, &q); err != nil {
		return trace.Query{}, err
	}
	if s := v.Get(ParamOrder); s != "" {
		q.Order = trace.Order(s)
		if q.Order != trace.OrderNewest && q.Order != trace.OrderSlowest {
			return trace.Query{}, fmt.Errorf("%s: want %q or %q, got %q", ParamOrder, trace.OrderNewest, trace.OrderSlowest, s)
		}
	}
	if err := q.Validate(); err != nil {
		return trace.Query{}, err
	}
	return q, nil
}

// decodeTraceFilters reads the parameters encodeTraceFilters writes into
// q. The names must have been checked: each is there at most once.
func decodeTraceFilters(v url.Values, q *trace.Query) error {
	var err error
	if s := v.Get(ParamMinDuration); s != "" {
		if q.MinDuration, err = parseQueryDuration(ParamMinDuration, s); err != nil {
			return err
		}
	}
	if s := v.Get(ParamMaxDuration); s != "" {
		if q.MaxDuration, err = parseQueryDuration(ParamMaxDuration, s); err != nil {
			return err
		}
	}
	q.Service = v.Get(ParamService)
	q.Pool = v.Get(ParamPool)
	q.Method = strings.ToUpper(v.Get(ParamMethod))
	q.PathPrefix = v.Get(ParamPathPrefix)
	if s := v.Get(ParamStatus); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 100 || n > 599 {
			return fmt.Errorf("%s: want an HTTP status code from 100 to 599, got %q", ParamStatus, s)
		}
		q.StatusCode = n
	}
	if s := v.Get(ParamErrorsOnly); s != "" {
		if q.ErrorsOnly, err = strconv.ParseBool(s); err != nil {
			return fmt.Errorf("%s: want true or false, got %q", ParamErrorsOnly, s)
		}
	}
	if s := v.Get(ParamLimit); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > trace.MaxLimit {
			return fmt.Errorf("%s: want a whole number from 1 to %d, got %q", ParamLimit, trace.MaxLimit, s)
		}
		q.Limit = n
	}
	return nil
}

// checkParamNames rejects unknown parameters, all of them named at once, and
// parameters given more than once.
func checkParamNames(v url.Values) error {
	var unknown []string
	for name := range v {
		if !slices.Contains(SearchParams, name) {
			unknown = append(unknown, strconv.Quote(name))
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		word := "parameter"
		if len(unknown) > 1 {
			word = "parameters"
		}
		return fmt.Errorf("unknown %s %s; known: %s", word, strings.Join(unknown, ", "), strings.Join(SearchParams, ", "))
	}
	for _, name := range SearchParams {
		if n := len(v[name]); n > 1 {
			return fmt.Errorf("%s: given %d times, want at most once", name, n)
		}
	}
	return nil
}

// parseQueryTime accepts RFC 3339 (what EncodeQuery writes) or unix
// milliseconds (what Grafana's time range gives the plugin).
func parseQueryTime(name, s string) (time.Time, error) {
	var t time.Time
	if isDigits(s) {
		ms, err := strconv.ParseInt(s, 10, 64)
		if err == nil {
			t = time.UnixMilli(ms)
		}
	} else if parsed, err := time.Parse(time.RFC3339Nano, s); err == nil {
		t = parsed
	}
	if t.IsZero() || t.Before(minQueryTime) || !t.Before(maxQueryTime) {
		return time.Time{}, fmt.Errorf("%s: want an RFC 3339 time like 2006-01-02T15:04:05Z or unix milliseconds, from 1970 to 9999, got %q", name, s)
	}
	return t, nil
}

func parseQueryDuration(name, s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%s: want a non-negative Go duration like 250ms or 1.5s, got %q", name, s)
	}
	return d, nil
}

func isDigits(s string) bool {
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}
