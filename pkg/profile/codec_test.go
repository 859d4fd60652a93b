package profile

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"maps"
	"math/rand/v2"
	"testing"

	"github.com/klauspost/compress/s2"
)

func TestCodecRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i, p := range []*Profile{NewProfile(0), handProfile(), randomProfile(r, 50, 0), randomProfile(r, 5000, 0), randomProfile(r, 5000, 100)} {
		blob := Encode(p)
		got, err := Decode(blob)
		if err != nil {
			t.Fatalf("profile %d: %v", i, err)
		}
		if !maps.Equal(canonical(got), canonical(p)) || got.Total() != p.Total() || got.PeriodNs != p.PeriodNs ||
			got.TruncatedSamples() != p.TruncatedSamples() {
			t.Errorf("profile %d changed: total %d→%d, %d→%d stacks, truncated %d→%d", i, p.Total(), got.Total(),
				len(p.Stacks), len(got.Stacks), p.TruncatedSamples(), got.TruncatedSamples())
		}
		if again := Encode(got); !bytes.Equal(again, blob) && len(p.Stacks) < 100 {
			t.Logf("profile %d: re-encoding gives other bytes (allowed, but unexpected for a small profile)", i)
		}
	}
}

func TestCodecIsCompact(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	p := randomProfile(r, 20000, DefaultMaxStacks)
	blob := Encode(p)
	perStack := float64(len(blob)) / float64(len(p.Stacks))
	t.Logf("%d stacks, %d frames: %d bytes (%.1f per stack)", len(p.Stacks), len(p.Frames), len(blob), perStack)
	// Random stacks share little; real ones share more. Still: well under
	// the ~16 bytes a frame name alone takes, per frame.
	if perStack > 60 {
		t.Errorf("%.1f bytes per stack", perStack)
	}
	if blob := Encode(handProfile()); blob[0] != formatV1Raw && len(blob) > compressFrom {
		t.Errorf("small profile: format %d, %d bytes", blob[0], len(blob))
	}
}

func TestDecodeRejectsBrokenBlobs(t *testing.T) {
	good := Encode(randomProfile(rand.New(rand.NewPCG(7, 8)), 300, 0))
	if good[0] != formatV1S2 {
		t.Fatalf("want a compressed blob, got format %d", good[0])
	}
	raw := Encode(handProfile())
	// An S2 block's header states its decoded length: one past the limit
	// must be refused before anything that size is allocated.
	bomb := binary.AppendUvarint([]byte{formatV1S2}, maxDecodedBytes+1)
	for name, blob := range map[string][]byte{
		"empty":           nil,
		"unknown format":  {99, 1, 2, 3},
		"truncated":       good[:len(good)/2],
		"bad deflate":     append([]byte{formatV1Deflate}, 0xff, 0xff, 0xff),
		"bad s2":          append([]byte{formatV1S2}, 0x10, 0xff, 0xff, 0xff),
		"s2 bomb":         append(bomb, 0),
		"s2 truncated":    good[:len(good)-1],
		"raw truncated":   raw[:len(raw)-1],
		"trailing bytes":  append(append([]byte(nil), raw...), 0),
		"huge count":      {formatV1Raw, 1, 0, 0xff, 0xff, 0xff, 0xff, 0x0f},
		"frame index oob": {formatV1Raw, 1, 0, 1, 1, 'x', 1, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 1, 5, 1},
	} {
		p, err := Decode(blob)
		if err == nil || !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: got %v, %v; want ErrCorrupt", name, p, err)
		}
	}
	// The last case with a valid frame index decodes: the case above fails
	// for the index alone.
	ok := []byte{formatV1Raw, 1, 0, 1, 1, 'x', 1, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 1, 0, 1}
	if p, err := Decode(ok); err != nil || p.Total() != 1 || p.Frames[0].Function != "x" {
		t.Errorf("hand-made blob: %v, %v", p, err)
	}
}

// TestDeflateProfilesStillDecode: rows written before S2 keep their DEFLATE
// blobs (format 2), and both decoders see the same samples in them.
func TestDeflateProfilesStillDecode(t *testing.T) {
	p := randomProfile(rand.New(rand.NewPCG(13, 14)), 300, 0)
	s2Blob := Encode(p)
	payload, err := s2.Decode(nil, s2Blob[1:])
	if err != nil {
		t.Fatal(err)
	}
	var deflated bytes.Buffer
	deflated.WriteByte(formatV1Deflate)
	zw, _ := flate.NewWriter(&deflated, flate.BestSpeed)
	_, _ = zw.Write(payload)
	_ = zw.Close()
	got, err := Decode(deflated.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(canonical(got), canonical(p)) || got.Total() != p.Total() {
		t.Errorf("DEFLATE blob decoded to %d samples, want %d", got.Total(), p.Total())
	}
	m := NewFunctionMatcher(FunctionRef{Label: p.Frames[0].Name()})
	a, errA := m.Count(deflated.Bytes())
	b, errB := m.Count(s2Blob)
	if errA != nil || errB != nil || a != b || a.Samples == 0 {
		t.Errorf("function matcher: DEFLATE %v, %v; S2 %v, %v", a, errA, b, errB)
	}
}

func TestMergeEncodedIsAllOrNothing(t *testing.T) {
	dst := handProfile()
	before := canonical(dst)
	good := Encode(randomProfile(rand.New(rand.NewPCG(9, 10)), 300, 0))
	if err := dst.MergeEncoded(good[:len(good)-3]); err == nil {
		t.Fatal("a truncated blob merged")
	}
	if !maps.Equal(canonical(dst), before) || dst.Total() != 8 {
		t.Fatal("a failed merge changed the profile")
	}
	if err := dst.MergeEncoded(Encode(handProfile())); err != nil {
		t.Fatal(err)
	}
	if dst.Total() != 16 {
		t.Errorf("total %d after merging the profile into itself", dst.Total())
	}
	for k, v := range canonical(dst) {
		if v != 2*before[k] {
			t.Errorf("%s: %d, want %d", k, v, 2*before[k])
		}
	}
}

// FuzzDecode: Decode never panics; what it accepts encodes and decodes
// again to the same samples.
func FuzzDecode(f *testing.F) {
	f.Add(Encode(handProfile()))
	f.Add(Encode(randomProfile(rand.New(rand.NewPCG(11, 12)), 40, 5)))
	f.Add(Encode(NewProfile(0)))
	f.Add([]byte{formatV1Raw, 1, 0, 1, 1, 'x', 1, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 1, 0, 1})
	f.Fuzz(func(t *testing.T, blob []byte) {
		p, err := Decode(blob)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		again, err := Decode(Encode(p))
		if err != nil {
			t.Fatalf("re-encoded profile does not decode: %v", err)
		}
		if !maps.Equal(canonical(again), canonical(p)) || again.Total() != p.Total() {
			t.Fatalf("round trip changed the profile")
		}
		_ = Flamegraph(p, 10)
		_ = TopFunctions(p, 10)
	})
}
