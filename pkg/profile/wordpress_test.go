package profile

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// wpWorkload is a synthetic WordPress load shaped like what the agent feeds
// the aggregator: ~3000 distinct frames (a symbol and a line) whose strings
// are shared, as the assembler's symbol table hands out the same Frame
// values; stacks 20–60 deep grown from a call tree per endpoint, so they
// share prefixes; requests of ~4 samples each.
type wpWorkload struct {
	samples []Sample // Time and TraceID are set on replay
	request []int    // request number of each sample
	frames  int      // distinct frames
}

// wpSamplesPerSecond: 99 Hz on 2 CPUs.
const wpSamplesPerSecond = 200

func newWPWorkload(seed uint64, samples int) *wpWorkload {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	words := strings.Fields(`post query hook meta cache option user term template block rest
		product order session db filter action shortcode widget theme rewrite locale script style
		http cron embed nav menu comment taxonomy capability role image attachment revision kses
		formatting sanitize escape data store request response controller settings`)
	dirs := []string{
		"/usr/share/wordpress/wp-includes/",
		"/usr/share/wordpress/wp-includes/rest-api/",
		"/usr/share/wordpress/wp-admin/includes/",
		"/usr/share/wordpress/wp-content/plugins/woocommerce/includes/",
		"/usr/share/wordpress/wp-content/plugins/woocommerce/src/",
		"/usr/share/wordpress/wp-content/themes/storefront/inc/",
	}
	word := func() string { return words[r.IntN(len(words))] }
	title := func(s string) string { return strings.ToUpper(s[:1]) + s[1:] }

	// 300 files of 5 functions, each seen at 1–3 lines: ~3000 frames.
	var pool []Frame
	var byFile [][]Frame
	for range 300 {
		w1, w2 := word(), word()
		file := dirs[r.IntN(len(dirs))] + "class-wp-" + w1 + "-" + w2 + ".php"
		class := ""
		first := len(pool)
		if r.IntN(10) < 7 {
			class = "WP_" + title(w1) + "_" + title(w2)
		}
		for range 5 {
			fn := word() + "_" + word() + "_" + word()
			line := 20 + r.IntN(800)
			for range 1 + r.IntN(3) {
				pool = append(pool, Frame{Function: fn, Class: class, File: file, Line: line})
				line += 1 + r.IntN(40)
			}
		}
		byFile = append(byFile, pool[first:])
	}
	main := Frame{Function: "{main}", File: "/usr/share/wordpress/index.php", Line: 17}
	// Callees are often in the caller's file: methods of one class.
	frame := func(caller Frame) Frame {
		if r.IntN(2) == 0 {
			for _, fs := range byFile {
				if fs[0].File == caller.File {
					return fs[r.IntN(len(fs))]
				}
			}
		}
		return pool[r.IntN(len(pool))]
	}

	// Per endpoint, stacks grown from earlier ones: a prefix of one, then
	// frames of its own, 20–60 deep in all.
	endpoints := []string{"GET /", "GET /wp-admin/", "GET /shop/", "GET /cart/", "GET /checkout/",
		"POST /wp-admin/admin-ajax.php", "GET /wp-json/wp/v2/posts", "GET /product/{slug}",
		"GET /category/{slug}", "POST /wp-cron.php", "GET /feed/", "GET /my-account/",
		"POST /?wc-ajax=get_refreshed_fragments", "GET /wp-login.php", "POST /xmlrpc.php",
		"GET /{year}/{month}/{slug}/", "GET /wp-admin/edit.php", "GET /wp-admin/post.php",
		"GET /search/", "GET /tag/{slug}"}
	paths := make([][][]Frame, len(endpoints))
	for e := range endpoints {
		base := []Frame{main}
		for range 3 + r.IntN(5) {
			base = append(base, frame(base[len(base)-1]))
		}
		for i := range 200 {
			var prefix []Frame
			if i == 0 {
				prefix = base
			} else {
				from := paths[e][r.IntN(i)]
				prefix = from[:len(from)-1-r.IntN(min(len(from)-len(base), 12))]
			}
			depth := max(20+r.IntN(41), len(prefix)+1)
			path := append(make([]Frame, 0, depth), prefix...)
			for len(path) < depth {
				path = append(path, frame(path[len(path)-1]))
			}
			paths[e] = append(paths[e], path)
		}
	}

	w := &wpWorkload{frames: len(pool) + 1}
	endpointOf := rand.NewZipf(r, 1.2, 1, uint64(len(endpoints)-1))
	pathOf := rand.NewZipf(r, 1.1, 1, 199)
	for req := 0; len(w.samples) < samples; req++ {
		e := endpointOf.Uint64()
		for range 1 + r.IntN(7) {
			// The assembler resolves each sample into a new slice of
			// the same Frame values.
			stack := append([]Frame(nil), paths[e][pathOf.Uint64()]...)
			w.samples = append(w.samples, Sample{
				Service: "php-fpm", Pool: "www", Endpoint: endpoints[e],
				Stack: stack, Count: 1, PeriodNs: testPeriod,
			})
			w.request = append(w.request, req)
		}
	}
	w.samples = w.samples[:samples]
	w.request = w.request[:samples]
	return w
}

// workers gives each of n PHP workers its own copies of the strings, as
// the assembler's symbol tables are per process; requests go to workers in
// turn.
func (w *wpWorkload) workers(n int) {
	copies := make([]map[string]string, n)
	for i := range copies {
		copies[i] = map[string]string{}
	}
	clone := func(m map[string]string, s string) string {
		c, ok := m[s]
		if !ok {
			c = strings.Clone(s)
			m[s] = c
		}
		return c
	}
	for i, s := range w.samples {
		m := copies[w.request[i]%n]
		for j, f := range s.Stack {
			s.Stack[j] = Frame{Function: clone(m, f.Function), Class: clone(m, f.Class), File: clone(m, f.File), Line: f.Line}
		}
	}
}

var wpStart = time.Date(2026, 11, 25, 9, 30, 0, 0, time.UTC)

// replay adds sample i of an endless replay of w to a, flushing every
// second of sample time as the agent does.
func (w *wpWorkload) replay(a *Aggregator, i int) {
	n := len(w.samples)
	s := w.samples[i%n]
	s.Time = wpStart.Add(time.Duration(i) * time.Second / wpSamplesPerSecond)
	req := uint64(w.request[i%n] + (i/n)*(w.request[n-1]+1))
	binary.BigEndian.PutUint64(s.TraceID[8:], req+1)
	s.TraceID[0] = 1
	a.Add(s)
	if i%wpSamplesPerSecond == wpSamplesPerSecond-1 {
		a.Flush(s.Time)
	}
}

// wpBuckets replays samples of w and returns every bucket flushed.
func wpBuckets(w *wpWorkload, samples int, opts AggregatorOptions) []Bucket {
	var out []Bucket
	a := NewAggregator(func(b Bucket) { out = append(out, b) }, opts)
	for i := range samples {
		w.replay(a, i)
	}
	a.FlushAll()
	return out
}

// wpGolden are SHA-256s of what TestWordPressEncodingUnchanged encodes,
// written by the implementation before the fast paths of frameID, bump and
// Encode: they must not change a byte of the stored format.
var wpGolden = map[string]string{
	"default": "6157a0d31c24094018bd45dbbfbe36848fb3ff77f38685b290652028cb81b108",
	"capped":  "8e2705151e7af37b8b5305e95588227cfd2116db0d30d0600b4bbc6e749000dd",
}

func TestWordPressEncodingUnchanged(t *testing.T) {
	w := newWPWorkload(1, 24000)
	// A few stacks past MaxDepth: recursion.
	for i := 0; i < len(w.samples); i += 997 {
		s := &w.samples[i]
		deep := s.Stack
		for len(deep) < MaxDepth+50 {
			deep = append(deep, s.Stack[1:]...)
		}
		s.Stack = deep
	}
	for name, opts := range map[string]AggregatorOptions{
		"default": {},
		"capped":  {MaxStacks: 40, MaxTraceStacks: 2, MaxTraces: 50, MaxBucketsPerMinute: 8},
	} {
		h := sha256.New()
		write := func(blob []byte) {
			var hdr [8]byte
			binary.BigEndian.PutUint64(hdr[:], uint64(len(blob)))
			h.Write(hdr[:])
			h.Write(blob)
		}
		buckets := wpBuckets(w, 36000, opts)
		var traces, truncated int64
		merged := NewProfile(0)  // Merge's path
		decoded := NewProfile(0) // MergeEncoded's
		for _, b := range buckets {
			if b.IsTrace() {
				traces++
			}
			truncated += b.Profile.TruncatedSamples()
			blob := Encode(b.Profile)
			h.Write([]byte(b.Endpoint))
			h.Write(b.TraceID[:])
			write(blob)
			merged.Merge(b.Profile)
			if err := decoded.MergeEncoded(blob); err != nil {
				t.Fatal(err)
			}
		}
		write(Encode(merged))
		write(Encode(decoded))
		got := hex.EncodeToString(h.Sum(nil))
		t.Logf("%s: %d frames; %d minute and %d request buckets, %d samples truncated",
			name, w.frames, int64(len(buckets))-traces, traces, truncated)
		if got != wpGolden[name] {
			t.Errorf("%s: encoded buckets hash to %s, want %s", name, got, wpGolden[name])
		}
	}
}

// BenchmarkAggregatorAddWordPress: one op is one sample added to the
// minute and request profiles, flushes included.
func BenchmarkAggregatorAddWordPress(b *testing.B) { benchAggregatorAdd(b, 1) }

// BenchmarkAggregatorAddWordPressWorkers is BenchmarkAggregatorAddWordPress
// with the frames of 8 PHP workers' symbol tables: equal strings at 8
// addresses each.
func BenchmarkAggregatorAddWordPressWorkers(b *testing.B) { benchAggregatorAdd(b, 8) }

func benchAggregatorAdd(b *testing.B, workers int) {
	w := newWPWorkload(1, 12000)
	if workers > 1 {
		w.workers(workers)
	}
	a := NewAggregator(func(Bucket) {}, AggregatorOptions{})
	for i := range len(w.samples) { // warm: a minute in memory, as in the agent
		w.replay(a, i)
	}
	i := len(w.samples)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		w.replay(a, i)
		i++
	}
}

// BenchmarkEncodeRequestProfile: one op encodes one request profile as the
// store does.
func BenchmarkEncodeRequestProfile(b *testing.B) { benchmarkEncodeProfiles(b, true) }

// BenchmarkEncodeMinuteProfile guards the large profiles.
func BenchmarkEncodeMinuteProfile(b *testing.B) { benchmarkEncodeProfiles(b, false) }

// benchmarkEncodeProfiles encodes, one per op, the WordPress workload's
// request profiles (requests) or its minute profiles.
func benchmarkEncodeProfiles(b *testing.B, requests bool) {
	var profiles []*Profile
	for _, bk := range wpBuckets(newWPWorkload(1, 12000), 12000, AggregatorOptions{}) {
		if bk.IsTrace() == requests {
			profiles = append(profiles, bk.Profile)
		}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		_ = Encode(profiles[i%len(profiles)])
		i++
	}
}
