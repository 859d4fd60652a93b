package profile

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unsafe"

	"github.com/klauspost/compress/s2"
	"github.com/tusk-php/tusk/pkg/trace"
)

func cloneFrame(f Frame) Frame {
	return Frame{Function: strings.Clone(f.Function), Class: strings.Clone(f.Class), File: strings.Clone(f.File), Line: f.Line}
}

// TestFramesAreInternedByContent: the address of a frame's strings is only
// a hint. Equal strings elsewhere are the same frame; other strings at the
// same address (a prefix) are another.
func TestFramesAreInternedByContent(t *testing.T) {
	run, runCopy := frRun, cloneFrame(frRun)
	if unsafe.StringData(run.File) == unsafe.StringData(runCopy.File) {
		t.Fatal("the copy shares its strings")
	}
	name := "db_query_all"
	long := Frame{Function: name, File: "/www/db.php"}
	short := Frame{Function: name[:8], File: long.File}
	if unsafe.StringData(long.Function) != unsafe.StringData(short.Function) {
		t.Fatal("the prefix does not share its string")
	}
	stacks := [][]Frame{
		{frMain, run, long}, {frMain, runCopy, long}, {cloneFrame(frMain), run, short},
		{frMain, runCopy, short}, {frMain, run, long},
	}
	want := map[string]int64{
		"php-fpm/www/GET /wp-admin/|{main}@/www/index.php:3;A::run@/www/A.php:10;db_query_all@/www/db.php:0": 3,
		"php-fpm/www/GET /wp-admin/|{main}@/www/index.php:3;A::run@/www/A.php:10;db_query@/www/db.php:0":     2,
	}
	check := func(what string, p *Profile) {
		t.Helper()
		if len(p.Frames) != 4 || len(p.Stacks) != 2 || !reflect.DeepEqual(canonical(p), want) {
			t.Errorf("%s: %d frames, %d stacks: %v", what, len(p.Frames), len(p.Stacks), canonical(p))
		}
	}

	p := NewProfile(0)
	for _, st := range stacks {
		p.Add(st, testLabels, 1)
	}
	check("Profile.Add", p)

	var c collector
	a := NewAggregator(c.sink, AggregatorOptions{})
	for _, st := range stacks {
		a.Add(Sample{Time: t0, Service: testLabels.Service, Pool: testLabels.Pool, Endpoint: testLabels.Endpoint,
			TraceID: trace.TraceID{1}, Stack: st})
	}
	a.FlushAll()
	got := c.take()
	if len(got) != 2 {
		t.Fatalf("%d buckets", len(got))
	}
	for _, b := range got {
		check(fmt.Sprintf("trace bucket %v", b.IsTrace()), b.Profile)
	}
}

// TestAggregatorProfilesAreProfileAdds: the profiles an Aggregator builds
// by its frame table are those Profile.Add builds of the same samples,
// frame for frame and stack for stack, also when frames arrive at other
// addresses, when the table starts over, and when the profile is added to
// in other ways meanwhile.
func TestAggregatorProfilesAreProfileAdds(t *testing.T) {
	w := newWPWorkload(3, 4000)
	for i := 0; i < len(w.samples); i += 401 { // past MaxDepth
		s := &w.samples[i]
		for len(s.Stack) <= MaxDepth {
			s.Stack = append(s.Stack, s.Stack[1:]...)
		}
	}
	extra := randomProfile(rand.New(rand.NewPCG(5, 6)), 50, 0)
	for _, opts := range []AggregatorOptions{{}, {MaxStacks: 60, MaxTraceStacks: 30}} {
		var c collector
		a := NewAggregator(c.sink, opts)
		wantMin, wantTrace := NewProfile(opts.MaxStacks), NewProfile(cmp.Or(opts.MaxTraceStacks, DefaultMaxTraceStacks))
		id := trace.TraceID{1}
		for i, s := range w.samples {
			switch i {
			case 1000: // a table full of ids
				for j := range maxAggIDs {
					a.frames.byContent[Frame{Function: "filler", Line: j}] = int32(len(a.frames.byContent))
				}
			case 2000: // one full of addresses
				for len(a.frames.seen) < maxAddresses {
					a.frames.seen = append(a.frames.seen, Frame{Function: "filler"})
					a.frames.seenID = append(a.frames.seenID, -1)
				}
			case 2500: // added to another way
				for _, p := range []*Profile{a.minutes[minuteKey{t0.Unix() / 60 * 60, testLabels}], wantMin} {
					p.Merge(extra)
					p.Add([]Frame{frMain, frHelper}, testLabels, 1)
				}
			}
			if i%3 == 0 {
				s.Stack = slices.Clone(s.Stack)
				for j := range s.Stack {
					if j%2 == 0 {
						s.Stack[j] = cloneFrame(s.Stack[j])
					}
				}
			}
			s.Time, s.TraceID = t0, id
			s.Service, s.Pool, s.Endpoint = testLabels.Service, testLabels.Pool, testLabels.Endpoint
			a.Add(s)
			wantMin.PeriodNs, wantTrace.PeriodNs = s.PeriodNs, s.PeriodNs
			wantMin.Add(s.Stack, testLabels, 1)
			wantTrace.Add(s.Stack, testLabels, 1)
		}
		a.FlushAll()
		got := c.take()
		if len(got) != 2 {
			t.Fatalf("%d buckets", len(got))
		}
		for _, b := range got {
			want := wantMin
			if b.IsTrace() {
				want = wantTrace
			}
			p := b.Profile
			if !reflect.DeepEqual(p.Frames, want.Frames) || !reflect.DeepEqual(p.Labels, want.Labels) ||
				!reflect.DeepEqual(p.Stacks, want.Stacks) || p.Total() != want.Total() ||
				p.TruncatedSamples() != want.TruncatedSamples() || p.PeriodNs != want.PeriodNs {
				t.Errorf("%+v, trace %v: %d frames, %d stacks, %d samples (%d truncated); want %d, %d, %d (%d)",
					opts, b.IsTrace(), len(p.Frames), len(p.Stacks), p.Total(), p.TruncatedSamples(),
					len(want.Frames), len(want.Stacks), want.Total(), want.TruncatedSamples())
			}
			if !bytes.Equal(Encode(p), Encode(want)) {
				t.Errorf("%+v, trace %v: encoded differently", opts, b.IsTrace())
			}
			// Handed on, the profile still takes samples.
			p.Add([]Frame{cloneFrame(frMain), frRun}, testLabels, 2)
			want.Add([]Frame{frMain, frRun}, testLabels, 2)
			if !reflect.DeepEqual(canonical(p), canonical(want)) || len(p.Frames) != len(want.Frames) {
				t.Errorf("%+v, trace %v: differs after Add", opts, b.IsTrace())
			}
		}
		if opts.MaxStacks > 0 && got[0].Profile.TruncatedSamples() == 0 {
			t.Errorf("%+v: nothing truncated", opts)
		}
	}
}

// TestEncodeIsUnchanged compares Encode with the implementation before it
// over profiles of every size, one after the other as the reused scratch
// sees them.
func TestEncodeIsUnchanged(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	profiles := []*Profile{NewProfile(0), handProfile()}
	for _, n := range []int{1, 3, 10, 40, 200, 1000, 5, 8000, 2} {
		profiles = append(profiles, randomProfile(r, n, 0), randomProfile(r, n, 30))
	}
	// Equal strings at other addresses are one string in the table.
	copies := NewProfile(0)
	for _, s := range handSamples(t0) {
		stack := make([]Frame, len(s.Stack))
		for i, f := range s.Stack {
			stack[i] = cloneFrame(f)
		}
		copies.Add(stack, Labels{Service: strings.Clone(testLabels.Service), Pool: "www", Endpoint: "www"}, 1)
	}
	profiles = append(profiles, copies)
	for _, b := range wpBuckets(newWPWorkload(1, 2000), 2000, AggregatorOptions{})[:200] {
		profiles = append(profiles, b.Profile)
	}
	for i, p := range profiles {
		if got, want := Encode(p), encodeReference(p); !bytes.Equal(got, want) {
			t.Fatalf("profile %d (%d frames, %d stacks): %d bytes, want %d", i, len(p.Frames), len(p.Stacks), len(got), len(want))
		}
	}
	// The table's epochs wrap.
	e := &encoder{}
	for i, p := range profiles[:6] {
		if i == 2 {
			e.epoch = ^uint32(0) - 1
		}
		if got, want := e.encode(p), encodeReference(p); !bytes.Equal(got, want) {
			t.Fatalf("epoch %d: profile %d encoded differently", e.epoch, i)
		}
	}
}

// encodeReference is Encode as it was before its scratch was reused and
// its string table was its own: the bytes must not change.
func encodeReference(p *Profile) []byte {
	// Sized for a function, class and file name per frame: growing the map
	// on the way was 20% of encoding a request profile.
	n := 3*len(p.Frames) + 3*len(p.Labels)
	strs := make([]string, 0, n)
	strIdx := make(map[string]uint64, n)
	str := func(s string) uint64 {
		if i, ok := strIdx[s]; ok {
			return i
		}
		i := uint64(len(strs))
		strs = append(strs, s)
		strIdx[s] = i
		return i
	}
	type frameRefs struct{ fn, class, file uint64 }
	frames := make([]frameRefs, len(p.Frames))
	for i, f := range p.Frames {
		frames[i] = frameRefs{str(f.Function), str(f.Class), str(f.File)}
	}
	labels := make([][3]uint64, len(p.Labels))
	for i, l := range p.Labels {
		labels[i] = [3]uint64{str(l.Service), str(l.Pool), str(l.Endpoint)}
	}

	b := make([]byte, 0, 64+len(p.Stacks)*8)
	b = binary.AppendUvarint(b, uint64(max(p.PeriodNs, 0)))
	b = binary.AppendUvarint(b, uint64(max(p.truncated, 0)))
	b = binary.AppendUvarint(b, uint64(len(strs)))
	for _, s := range strs {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	b = binary.AppendUvarint(b, uint64(len(frames)))
	for i, f := range frames {
		b = binary.AppendUvarint(b, f.fn)
		b = binary.AppendUvarint(b, f.class)
		b = binary.AppendUvarint(b, f.file)
		b = binary.AppendVarint(b, int64(p.Frames[i].Line))
	}
	b = binary.AppendUvarint(b, uint64(len(labels)))
	for _, l := range labels {
		for _, ref := range l {
			b = binary.AppendUvarint(b, ref)
		}
	}
	order := make([]int, len(p.Stacks))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(x, y int) int {
		if c := slices.Compare(p.Stacks[x].Frames, p.Stacks[y].Frames); c != 0 {
			return c
		}
		return int(p.Stacks[x].Label) - int(p.Stacks[y].Label)
	})
	b = binary.AppendUvarint(b, uint64(len(order)))
	var prev []int32
	for _, i := range order {
		s := p.Stacks[i]
		prefix := 0
		for prefix < len(prev) && prefix < len(s.Frames) && prev[prefix] == s.Frames[prefix] {
			prefix++
		}
		b = binary.AppendUvarint(b, uint64(s.Label))
		b = binary.AppendUvarint(b, uint64(prefix))
		b = binary.AppendUvarint(b, uint64(len(s.Frames)-prefix))
		for _, id := range s.Frames[prefix:] {
			b = binary.AppendUvarint(b, uint64(id))
		}
		b = binary.AppendUvarint(b, uint64(s.Count))
		prev = s.Frames
	}

	if len(b) < compressFrom {
		return append([]byte{formatV1Raw}, b...)
	}
	dst := make([]byte, 1, 1+s2.MaxEncodedLen(len(b)))
	dst[0] = formatV1S2
	return append(dst, s2.Encode(dst[1:cap(dst)], b)...)
}
