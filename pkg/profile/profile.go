// Package profile turns PHP stack samples into continuous profiles: an
// Aggregator folds samples into per-minute and per-request profiles, a
// compact versioned binary format stores them (codec.go), and a merged
// Profile is rendered as a flame graph, a top-functions list or a pprof
// profile for the agent's API.
//
// # Memory
//
// A Profile interns everything: a frame table (function, class, file, line
// are stored once) and a stack table (a stack is a list of frame indexes and
// a count). The number of distinct stacks in a Profile is capped (see
// NewProfile): a sample whose stack would go past the cap is counted under
// its root frame with a "[truncated]" leaf instead, so totals stay exact and
// the outermost frame still says where the time went. Stacks deeper than
// MaxDepth frames keep their outermost MaxDepth-1 frames and end in
// "[truncated]" too.
//
// # Lines
//
// Frames keep their line, so pprof can show it, but a flame-graph node and a
// top-functions row are a function in a file: two samples in the same
// function on different lines are the same node.
package profile

import (
	"math"
	"time"

	"github.com/tusk-php/tusk/pkg/trace"
)

// Frame is one PHP stack frame. Class is "" for plain functions; frames
// that are not PHP code carry a bracketed label in Function ("[php-fpm]").
type Frame struct {
	Function string
	Class    string
	File     string
	Line     int
}

// Name is "Class::function", or "function" without a class.
func (f Frame) Name() string {
	if f.Class == "" {
		return f.Function
	}
	return f.Class + "::" + f.Function
}

// TruncatedFrame stands for the frames, or the stacks, a cap left out.
var TruncatedFrame = Frame{Function: "[truncated]"}

// Sample is one stack sample of a PHP worker serving a request.
type Sample struct {
	Time     time.Time
	Service  string        // e.g. "php-fpm"
	Pool     string        // php-fpm pool ("www"), may be ""
	Endpoint string        // the request's name: "GET /wp-admin/"
	TraceID  trace.TraceID // the request being served, zero if unknown
	Stack    []Frame       // ROOT FIRST: outermost frame first, leaf last
	Count    int64         // usually 1; < 1 counts as 1
	PeriodNs int64         // sampling period, 1e9/hz
}

// Labels say where samples came from; pprof gets them as sample labels.
type Labels struct {
	Service  string
	Pool     string
	Endpoint string
}

// Stack is one distinct stack of a Profile and how often it was sampled.
type Stack struct {
	Frames []int32 // indexes into Profile.Frames, root first
	Label  int32   // index into Profile.Labels
	Count  int64
}

// Limits.
const (
	// DefaultMaxStacks caps the distinct stacks of one per-minute profile.
	DefaultMaxStacks = 5000
	// MaxDepth is the deepest stack kept (see the package doc).
	MaxDepth = 512
	// overflowSlack is how many "root, [truncated]" stacks may be added past
	// the cap before overflow goes to a lone "[truncated]" stack.
	overflowSlack = 64
)

// Profile is a set of stack samples with interned frames and stacks. The
// zero value is not usable; make one with NewProfile. A Profile is not safe
// for concurrent use.
type Profile struct {
	// PeriodNs is the CPU time one sample stands for; 0 until a sample or a
	// merged profile says.
	PeriodNs int64
	Frames   []Frame
	Labels   []Labels
	Stacks   []Stack

	maxStacks int
	// frames indexes Frames[:indexed] by content. It is brought up to date
	// when first needed: an Aggregator's profiles find their frames by
	// aggIDs instead and mostly never need it.
	frames    map[Frame]int32
	indexed   int
	aggIDs    frameIndex // see addAggIDs
	labels    map[Labels]int32
	lastLabel int32
	stacks    stackTable
	arena     []int32 // backs Stacks' Frames
	idBuf     []int32
	total     int64
	truncated int64
}

// NewProfile returns an empty profile holding at most maxStacks distinct
// stacks before folding (plus a few overflow stacks, see the package doc);
// maxStacks <= 0 means DefaultMaxStacks.
func NewProfile(maxStacks int) *Profile {
	if maxStacks <= 0 {
		maxStacks = DefaultMaxStacks
	}
	return &Profile{maxStacks: maxStacks}
}

// Total is the number of samples in the profile.
func (p *Profile) Total() int64 { return p.total }

// TruncatedSamples is how many samples the stack cap folded into
// "[truncated]" stacks.
func (p *Profile) TruncatedSamples() int64 { return p.truncated }

// MaxStacks is the profile's stack cap.
func (p *Profile) MaxStacks() int { return p.maxStacks }

// Empty tells whether the profile holds no samples.
func (p *Profile) Empty() bool { return p == nil || p.total == 0 }

// frameID interns f.
func (p *Profile) frameID(f Frame) int32 {
	if p.indexed < len(p.Frames) || p.frames == nil {
		p.indexFrames()
	}
	if id, ok := p.frames[f]; ok {
		return id
	}
	id := int32(len(p.Frames))
	p.Frames = append(p.Frames, f)
	p.frames[f] = id
	p.indexed++
	return id
}

// indexFrames adds the frames appended by addAggIDs to p.frames.
func (p *Profile) indexFrames() {
	if p.frames == nil {
		p.frames = make(map[Frame]int32, len(p.Frames))
	}
	for i := p.indexed; i < len(p.Frames); i++ {
		if _, ok := p.frames[p.Frames[i]]; !ok {
			p.frames[p.Frames[i]] = int32(i)
		}
	}
	p.indexed = len(p.Frames)
}

// labelID interns l. A profile has a few labels, an Aggregator's one: the
// last one found is tried first, then the first few by a scan.
func (p *Profile) labelID(l Labels) int32 {
	if int(p.lastLabel) < len(p.Labels) && p.Labels[p.lastLabel] == l {
		return p.lastLabel
	}
	id, ok := int32(-1), false
	if len(p.Labels) <= labelScan {
		for i := range p.Labels {
			if p.Labels[i] == l {
				id, ok = int32(i), true
				break
			}
		}
	} else {
		if p.labels == nil {
			p.labels = make(map[Labels]int32, len(p.Labels))
			for i, l := range p.Labels {
				if _, ok := p.labels[l]; !ok {
					p.labels[l] = int32(i)
				}
			}
		}
		id, ok = p.labels[l]
	}
	if !ok {
		id = int32(len(p.Labels))
		p.Labels = append(p.Labels, l)
		if p.labels != nil {
			p.labels[l] = id
		}
	}
	p.lastLabel = id
	return id
}

// labelScan is how many labels labelID scans before it uses a map.
const labelScan = 8

// Add counts one stack (root first) count times under labels.
func (p *Profile) Add(stack []Frame, labels Labels, count int64) {
	if count <= 0 {
		return
	}
	deep := len(stack) > MaxDepth
	if deep { // cut as addIDs would, without interning what is cut
		stack = stack[:MaxDepth-1]
	}
	ids := p.idBuf[:0]
	for _, f := range stack {
		ids = append(ids, p.frameID(f))
	}
	if deep {
		ids = append(ids, p.frameID(TruncatedFrame))
	}
	p.idBuf = ids
	p.addIDs(ids, p.labelID(labels), count)
}

// addIDs counts a stack of interned frames, applying the depth and stack
// caps. ids may be changed.
func (p *Profile) addIDs(ids []int32, label int32, count int64) {
	p.total += count
	if len(ids) > MaxDepth {
		ids = append(ids[:MaxDepth-1], p.truncatedID())
	}
	if p.bump(ids, label, count) {
		return
	}
	// Over the cap: count the sample under its root, or failing that (too
	// many distinct roots) under a lone "[truncated]".
	p.truncated += count
	trunc := p.truncatedID()
	if len(ids) > 0 && ids[0] != trunc && p.bump([]int32{ids[0], trunc}, label, count) {
		return
	}
	p.bump([]int32{trunc}, label, count)
}

// bump adds count to the stack ids under label, creating it when it is new
// and the cap allows: maxStacks for ordinary stacks, overflowSlack more for
// "root, [truncated]", no limit for a lone "[truncated]" (one per label).
// It reports whether the sample was counted.
func (p *Profile) bump(ids []int32, label int32, count int64) bool {
	h := stackHash(ids, label)
	if i := p.stacks.find(p.Stacks, ids, label, h); i >= 0 {
		p.Stacks[i].Count += count
		return true
	}
	limit := p.maxStacks
	if n := len(ids); n > 0 && n <= 2 && p.Frames[ids[n-1]] == TruncatedFrame {
		limit += overflowSlack
		if n == 1 {
			limit = math.MaxInt
		}
	}
	if len(p.Stacks) >= limit {
		return false
	}
	p.stacks.add(h, int32(len(p.Stacks)))
	p.Stacks = append(p.Stacks, Stack{Frames: p.keep(ids), Label: label, Count: count})
	return true
}

// keep copies ids into p.arena: one allocation for many stacks instead of
// one each. The copy's capacity ends with it, so appending to a Stack's
// Frames cannot overwrite the next one.
func (p *Profile) keep(ids []int32) []int32 {
	if len(ids) == 0 {
		return nil
	}
	if cap(p.arena)-len(p.arena) < len(ids) {
		p.arena = make([]int32, 0, max(len(ids), min(2*cap(p.arena), maxArena), minArena))
	}
	n := len(p.arena)
	p.arena = append(p.arena, ids...)
	return p.arena[n:len(p.arena):len(p.arena)]
}

// Arena chunks: a request profile's few stacks fit the first.
const (
	minArena = 256
	maxArena = 16 << 10
)

// Merge adds every sample of src to p. PeriodNs is taken from src when p
// has none yet (the agent samples at one rate).
func (p *Profile) Merge(src *Profile) {
	if src == nil {
		return
	}
	if p.PeriodNs == 0 {
		p.PeriodNs = src.PeriodNs
	}
	frameMap := make([]int32, len(src.Frames))
	for i, f := range src.Frames {
		frameMap[i] = p.frameID(f)
	}
	labelMap := make([]int32, len(src.Labels))
	for i, l := range src.Labels {
		labelMap[i] = p.labelID(l)
	}
	for _, s := range src.Stacks {
		ids := p.idBuf[:0]
		for _, id := range s.Frames {
			ids = append(ids, frameMap[id])
		}
		p.idBuf = ids
		p.addIDs(ids, labelMap[s.Label], s.Count)
	}
	// Samples src had already folded stay counted as folded.
	p.truncated += src.truncated
}
