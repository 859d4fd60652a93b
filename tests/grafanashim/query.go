package grafanashim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
)

// metricRequest is Grafana's dtos.MetricRequest, the body of /api/ds/query.
type metricRequest struct {
	From    string            `json:"from"`
	To      string            `json:"to"`
	Queries []json.RawMessage `json:"queries"`
}

// queryFields are the fields of one query Grafana itself reads; the whole
// query object still goes to the plugin as DataQuery.JSON.
type queryFields struct {
	RefID         string          `json:"refId"`
	QueryType     string          `json:"queryType"`
	Datasource    json.RawMessage `json:"datasource"`
	IntervalMs    json.Number     `json:"intervalMs"`
	MaxDataPoints json.Number     `json:"maxDataPoints"`
	// TimeRange is the per-query range of the newer query API; the
	// request's from/to apply when it is absent.
	TimeRange *struct {
		From string `json:"from"`
		To   string `json:"to"`
	} `json:"timeRange"`
}

// query is POST /api/ds/query: Grafana's QueryMetricsV2. Each query goes to
// its datasource (one QueryData per datasource uid), and the answers are
// merged into one QueryDataResponse, sent with HTTP 200, or 400 if any query
// has an error: toDataQueryResponse reads the results from the error's body
// then, so the other queries' frames still show.
func (h *Handler) query(w http.ResponseWriter, r *http.Request) {
	var body metricRequest
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		writeMessage(w, http.StatusBadRequest, "bad request data")
		return
	}
	if len(body.Queries) == 0 {
		writeMessage(w, http.StatusBadRequest, "No queries found")
		return
	}
	now := time.Now()
	from, to, err := parseRange(body.From, body.To, now)
	if err != nil {
		writeMessage(w, http.StatusBadRequest, err.Error())
		return
	}
	groups := map[string][]backend.DataQuery{}
	var order []string
	for _, raw := range body.Queries {
		var f queryFields
		if err := json.Unmarshal(raw, &f); err != nil {
			writeMessage(w, http.StatusBadRequest, "bad request data")
			return
		}
		uid := datasourceUID(f.Datasource)
		switch {
		case uid == "":
			writeMessage(w, http.StatusBadRequest, "Query missing data source UID")
			return
		case uid == "__expr__":
			writeMessage(w, http.StatusBadRequest, "server-side expressions are not imitated by the shim")
			return
		}
		if _, ok := h.datasource(uid); !ok {
			writeMessage(w, http.StatusNotFound, "Data source not found")
			return
		}
		dq := backend.DataQuery{
			RefID:         f.RefID,
			QueryType:     f.QueryType,
			MaxDataPoints: intOr(f.MaxDataPoints, 100),
			Interval:      time.Duration(intOr(f.IntervalMs, 1000)) * time.Millisecond,
			TimeRange:     backend.TimeRange{From: from, To: to},
			JSON:          raw,
		}
		if dq.RefID == "" {
			dq.RefID = "A"
		}
		if tr := f.TimeRange; tr != nil {
			qf, qt, err := parseRange(tr.From, tr.To, now)
			if err != nil {
				writeMessage(w, http.StatusBadRequest, fmt.Sprintf("query %s: %v", dq.RefID, err))
				return
			}
			dq.TimeRange = backend.TimeRange{From: qf, To: qt}
		}
		if _, ok := groups[uid]; !ok {
			order = append(order, uid)
		}
		groups[uid] = append(groups[uid], dq)
	}

	merged := backend.NewQueryDataResponse()
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, uid := range order {
		ds, _ := h.datasource(uid)
		queries := groups[uid]
		wg.Go(func() {
			resp, err := h.plugin.QueryData(r.Context(), &backend.QueryDataRequest{
				PluginContext: datasourceContext(ds),
				Headers:       map[string]string{},
				Queries:       queries,
			})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				h.logf("grafana-shim: QueryData on %s: %v", uid, err)
				for _, q := range queries {
					merged.Responses[q.RefID] = backend.DataResponse{Error: fmt.Errorf("plugin request failed: %w", err), Status: backend.StatusInternal}
				}
				return
			}
			for ref, dr := range resp.Responses {
				merged.Responses[ref] = dr
			}
		})
	}
	wg.Wait()

	out, err := json.Marshal(merged)
	if err != nil {
		writeMessage(w, http.StatusInternalServerError, "Query data error")
		return
	}
	status := http.StatusOK
	for _, dr := range merged.Responses {
		if dr.Error != nil {
			status = http.StatusBadRequest
			break
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(out)
}

// datasourceUID reads a query's datasource: {"uid": …} or, before Grafana
// 8.3, the uid as a string.
func datasourceUID(raw json.RawMessage) string {
	var ref struct {
		UID string `json:"uid"`
	}
	if json.Unmarshal(raw, &ref) == nil && ref.UID != "" {
		return ref.UID
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return ""
}

func intOr(n json.Number, def int64) int64 {
	if v, err := n.Int64(); err == nil {
		return v
	}
	if f, err := n.Float64(); err == nil {
		return int64(f)
	}
	return def
}

// parseRange reads from and to as Grafana does: epoch milliseconds (what
// the runtime sends), "now", or "now-6h"-style relative times; empty means
// the last six hours.
func parseRange(from, to string, now time.Time) (time.Time, time.Time, error) {
	if from == "" {
		from = "now-6h"
	}
	if to == "" {
		to = "now"
	}
	f, err := parseTime(from, now)
	if err != nil {
		return f, f, fmt.Errorf("from: %w", err)
	}
	t, err := parseTime(to, now)
	if err != nil {
		return f, t, fmt.Errorf("to: %w", err)
	}
	return f, t, nil
}

var relativeUnits = map[byte]time.Duration{'s': time.Second, 'm': time.Minute, 'h': time.Hour, 'd': 24 * time.Hour, 'w': 7 * 24 * time.Hour}

func parseTime(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.UnixMilli(ms).UTC(), nil
	}
	if s == "now" {
		return now.UTC(), nil
	}
	if rest, ok := strings.CutPrefix(s, "now"); ok && len(rest) >= 3 && (rest[0] == '-' || rest[0] == '+') {
		unit, ok := relativeUnits[rest[len(rest)-1]]
		n, err := strconv.Atoi(rest[1 : len(rest)-1])
		if ok && err == nil {
			d := time.Duration(n) * unit
			if rest[0] == '-' {
				d = -d
			}
			return now.Add(d).UTC(), nil
		}
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	return time.Time{}, fmt.Errorf("%q is not a time (epoch ms, now, now-6h, RFC 3339)", s)
}
