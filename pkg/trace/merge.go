package trace

// Merge combines two captures with one trace id. The one that started
// first (the caller) gives the summary and stays Spans[0]; spans already
// present are not added again, so a trace delivered twice stays as it was.
// The store merges a request that continued a trace it already holds; the
// plugin merges the parts of one trace that several agents captured.
func Merge(a, b *Trace) *Trace {
	outer, inner := a, b
	if b.StartUnixNano < a.StartUnixNano ||
		(b.StartUnixNano == a.StartUnixNano && b.DurationNano > a.DurationNano) {
		outer, inner = b, a
	}
	merged := *outer
	merged.Spans = make([]Span, 0, len(outer.Spans)+len(inner.Spans))
	merged.Spans = append(merged.Spans, outer.Spans...)
	seen := make(map[SpanID]bool, len(outer.Spans))
	for _, s := range outer.Spans {
		seen[s.SpanID] = true
	}
	added := 0
	for _, s := range inner.Spans {
		if !seen[s.SpanID] {
			merged.Spans = append(merged.Spans, s)
			added++
		}
	}
	merged.SpanCount = max(outer.SpanCount, len(outer.Spans)) + added
	merged.Error = a.Error || b.Error
	merged.Incomplete = a.Incomplete || b.Incomplete
	merged.NPlusOne = a.NPlusOne + b.NPlusOne // two requests' findings
	return &merged
}
