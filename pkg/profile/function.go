package profile

import "bytes"

// FunctionRef names a function as a flame-graph node does: Label is
// Frame.Name ("Class::method" or "function"), File the PHP file, or "" for
// the function in any file.
type FunctionRef struct {
	Label string
	File  string
}

// FunctionSamples is what FunctionMatcher.Count finds in one stored
// profile.
type FunctionSamples struct {
	// Samples counts the samples with the function anywhere on the stack,
	// once per sample however deep it recursed (TopFunction.Total).
	Samples int64
	// PeriodNs is the profile's sampling period: Samples × PeriodNs is CPU
	// time.
	PeriodNs int64
}

// FunctionMatcher counts one function's samples in stored profiles without
// decoding them into a Profile: it reads the string and frame tables, stops
// there when no frame is the function (most profiles, for a function that
// is hot somewhere), and otherwise walks the stacks keeping only where the
// function first appears. One matcher serves many blobs, one at a time.
type FunctionMatcher struct {
	label, file []byte
	anyFile     bool
	match       []bool // per frame of the current blob
	payload     []byte // inflated blobs, reused
}

// NewFunctionMatcher returns a matcher for fn.
func NewFunctionMatcher(fn FunctionRef) *FunctionMatcher {
	return &FunctionMatcher{label: []byte(fn.Label), file: []byte(fn.File), anyFile: fn.File == ""}
}

// Count reads an encoded profile (Encode's format). A blob with no frame of
// the function is read only as far as its frame table, so damage past it
// goes unnoticed; any damage found is an error wrapping ErrCorrupt.
func (m *FunctionMatcher) Count(blob []byte) (FunctionSamples, error) {
	r, err := openPayload(blob, &m.payload)
	if err != nil {
		return FunctionSamples{}, err
	}
	t := r.tables()
	if r.err != nil {
		return FunctionSamples{}, r.err
	}
	out := FunctionSamples{PeriodNs: t.periodNs}
	m.match = m.match[:0]
	found := false
	for _, f := range t.frames {
		ok := m.matches(t.strs[f.class], t.strs[f.function], t.strs[f.file])
		m.match = append(m.match, ok)
		found = found || ok
	}
	if !found {
		return out, nil
	}
	// Stacks share prefixes with the stack before them; where the function
	// first appeared in that one carries over while it lies in the shared
	// prefix, so no stack is rebuilt.
	prevHit := -1
	r.stacks(&t, func(_ int32, prefix int, suffix []int32, count int64) {
		hit := -1
		if prevHit >= 0 && prevHit < prefix {
			hit = prevHit
		} else {
			for i, id := range suffix {
				if m.match[id] {
					hit = prefix + i
					break
				}
			}
		}
		if hit >= 0 {
			out.Samples += count
		}
		prevHit = hit
	})
	if r.err != nil {
		return FunctionSamples{}, r.err
	}
	return out, nil
}

// matches tells whether a frame is the function: Frame.Name compared
// without building it.
func (m *FunctionMatcher) matches(class, function, file []byte) bool {
	if !m.anyFile && !bytes.Equal(file, m.file) {
		return false
	}
	if len(class) == 0 {
		return bytes.Equal(function, m.label)
	}
	rest, ok := bytes.CutPrefix(m.label, class)
	if !ok {
		return false
	}
	rest, ok = bytes.CutPrefix(rest, []byte("::"))
	return ok && bytes.Equal(rest, function)
}
