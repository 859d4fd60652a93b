package profile

import (
	"errors"
	"math/rand/v2"
	"testing"
)

// countByDecoding is the reference for FunctionMatcher.Count: decode the
// whole profile and look at every stack.
func countByDecoding(t *testing.T, blob []byte, fn FunctionRef) int64 {
	t.Helper()
	p, err := Decode(blob)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, s := range p.Stacks {
		for _, id := range s.Frames {
			f := p.Frames[id]
			if f.Name() == fn.Label && (fn.File == "" || f.File == fn.File) {
				n += s.Count
				break
			}
		}
	}
	return n
}

func TestFunctionMatcherCountsEachSampleOnce(t *testing.T) {
	p := handProfile()
	// A recursive stack: A::run calls itself twice.
	p.Add([]Frame{frMain, frRun, frRun, frRun, frQuery}, testLabels, 5)
	blob := Encode(p)
	for _, tc := range []struct {
		fn   FunctionRef
		want int64
	}{
		{FunctionRef{Label: "A::run"}, 6 + 5},                  // recursion counted once per sample
		{FunctionRef{Label: "A::run", File: "/www/A.php"}, 11}, // the right file
		{FunctionRef{Label: "A::run", File: "/www/B.php"}, 0},  // another file
		{FunctionRef{Label: "db_query"}, 4 + 5},                // lines 5 and 7 are one function
		{FunctionRef{Label: "{main}"}, 8 + 5},
		{FunctionRef{Label: "B::helper"}, 1},
		{FunctionRef{Label: "helper"}, 0}, // the method without its class is another name
		{FunctionRef{Label: "A::"}, 0},
		{FunctionRef{Label: "::run"}, 0},
		{FunctionRef{Label: "nowhere"}, 0},
	} {
		got, err := NewFunctionMatcher(tc.fn).Count(blob)
		if err != nil {
			t.Fatalf("%+v: %v", tc.fn, err)
		}
		if got.Samples != tc.want || got.PeriodNs != testPeriod {
			t.Errorf("%+v: %+v, want %d samples of %d ns", tc.fn, got, tc.want, testPeriod)
		}
	}
}

// TestFunctionMatcherAgreesWithDecoding: on random profiles, raw and
// compressed, with and without file, one matcher reused across blobs counts
// what decoding and looking at every stack counts, and what TopFunctions
// calls a function's total.
func TestFunctionMatcherAgreesWithDecoding(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	for round := range 30 {
		p := randomProfile(r, 1+r.IntN(400), 0)
		blob := Encode(p)
		top := TopFunctions(p, 0)
		anyFile := map[string]*FunctionMatcher{}
		for _, f := range top.Functions {
			got, err := NewFunctionMatcher(FunctionRef{Label: f.Function, File: f.File}).Count(blob)
			if err != nil {
				t.Fatal(err)
			}
			if got.Samples != f.Total {
				t.Fatalf("round %d, %s in %s: %d samples, TopFunctions says %d", round, f.Function, f.File, got.Samples, f.Total)
			}
			m := anyFile[f.Function]
			if m == nil {
				m = NewFunctionMatcher(FunctionRef{Label: f.Function})
				anyFile[f.Function] = m
			}
			got, err = m.Count(blob)
			if err != nil {
				t.Fatal(err)
			}
			if want := countByDecoding(t, blob, FunctionRef{Label: f.Function}); got.Samples != want {
				t.Fatalf("round %d, %s in any file: %d samples, want %d", round, f.Function, got.Samples, want)
			}
		}
	}
}

func TestFunctionMatcherRejectsBrokenBlobs(t *testing.T) {
	m := NewFunctionMatcher(FunctionRef{Label: "f1"})
	good := Encode(randomProfile(rand.New(rand.NewPCG(23, 24)), 300, 0))
	for name, blob := range map[string][]byte{
		"empty":          nil,
		"unknown format": {99, 1},
		"truncated":      good[:len(good)/2],
	} {
		if _, err := m.Count(blob); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: %v, want ErrCorrupt", name, err)
		}
	}
}

// FuzzFunctionMatcher: Count never panics, and on what Decode accepts it
// agrees with decoding.
func FuzzFunctionMatcher(f *testing.F) {
	f.Add(Encode(handProfile()), "A::run", "")
	f.Add(Encode(randomProfile(rand.New(rand.NewPCG(25, 26)), 40, 5)), "f3", "/www/src/F3.php")
	f.Add([]byte{formatV1Raw, 1, 0, 1, 1, 'x', 1, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 1, 0, 1}, "x", "")
	f.Fuzz(func(t *testing.T, blob []byte, label, file string) {
		fn := FunctionRef{Label: label, File: file}
		got, err := NewFunctionMatcher(fn).Count(blob)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		if _, err := Decode(blob); err != nil {
			return // damage past the frame table of a blob without the function
		}
		if want := countByDecoding(t, blob, fn); got.Samples != want {
			t.Fatalf("%d samples, decoding finds %d", got.Samples, want)
		}
	})
}

func BenchmarkFunctionMatcher(b *testing.B) {
	r := rand.New(rand.NewPCG(27, 28))
	// A request profile: a few hundred samples.
	blob := Encode(randomProfile(r, 300, DefaultMaxTraceStacks))
	for _, bc := range []struct {
		name string
		fn   FunctionRef
	}{
		{"absent", FunctionRef{Label: "nowhere"}},
		{"present", FunctionRef{Label: "f7"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			m := NewFunctionMatcher(bc.fn)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := m.Count(blob); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("decode", func(b *testing.B) { // what reading it whole would cost
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Decode(blob); err != nil {
				b.Fatal(err)
			}
		}
	})
}
