package phpfuncs

import (
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/tusk-php/tusk/pkg/phpoffsets"
)

func TestResolvesFunctionsAndMethodsFromTheTables(t *testing.T) {
	im, g := standardImage(t)
	mem := im.reader()
	got, err := resolveHandlers(mem, g, im.l, []string{
		"mysqli_query", "mysqli_prepare", "strlen", "file_get_contents",
		"mysqli::query", "PDO::Query", "pdostatement::execute",
		"nosuchfunction", "my_user_function", "pdo::nosuchmethod", "nosuchclass::query",
		"nomethods::x", "::query", "pdo::", "a::b::c", "",
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]uint64{
		"mysqli_query":          hQuery,
		"mysqli_prepare":        hPrepare,
		"strlen":                hStrlen,
		"file_get_contents":     hFileGetCont,
		"mysqli::query":         hQuery, // the alias shares the function's handler
		"PDO::Query":            hPDOQuery,
		"pdostatement::execute": hPDOExecute,
	}
	if len(got) != len(want) {
		t.Errorf("got %d names, want %d: %x", len(got), len(want), got)
	}
	for name, addr := range want {
		if got[name] != addr {
			t.Errorf("%s = %#x, want %#x", name, got[name], addr)
		}
	}
	// One read for each table header twice, its buckets, the hash check and
	// each candidate's key and function: nothing per bucket.
	if mem.reads > 50 {
		t.Errorf("%d reads, want a few per table and per name", mem.reads)
	}
}

func TestOnlyTheClassesAskedForAreRead(t *testing.T) {
	im, g := standardImage(t)
	mem := im.reader()
	if _, err := resolveHandlers(mem, g, im.l, []string{"strlen"}); err != nil {
		t.Fatal(err)
	}
	onlyFunctions := mem.reads
	mem = im.reader()
	if _, err := resolveHandlers(mem, g, im.l, []string{"strlen", "pdo::query"}); err != nil {
		t.Fatal(err)
	}
	// class table: 2 headers + buckets + hash check + key of pdo; PDO's
	// method table: 2 headers + buckets + key + function.
	if extra := mem.reads - onlyFunctions; extra > 12 {
		t.Errorf("one method cost %d more reads", extra)
	}
}

func TestHashKeyMatchesZendInlineHashFunc(t *testing.T) {
	l := testLayout(t)
	// Values of zend_inline_hash_func from PHP 8.2's zend_string.h,
	// compiled with gcc on x86_64.
	for s, want := range map[string]uint64{
		"":                  5381 | 1<<63,
		"a":                 (5381*33 + 'a') | 1<<63,
		"strlen":            0x800006531c93bb9d,
		"mysqli_query":      0xd70c0a589901c9b9,
		"pdostatement":      0xd8b3cf793e6b2d9d,
		"file_get_contents": 0xba09dc72d804cd11,
		"\xe9":              0x800000000002b58e,
	} {
		if got := l.hashKey(s); got != want {
			t.Errorf("hash(%q) = %#x, want %#x", s, got, want)
		}
	}
	// char is signed on x86: bytes >= 0x80 count as negative.
	x86, arm := l, l
	x86.signedChar, arm.signedChar = true, false
	if x86.hashKey("\xe9") != (5381*33-23)|1<<63 || arm.hashKey("\xe9") != (5381*33+0xe9)|1<<63 {
		t.Error("non-ASCII bytes hashed wrongly")
	}
}

func TestImplausibleTablesAreErrors(t *testing.T) {
	cases := map[string]func(im *image, g globals){
		"null function tables": func(im *image, g globals) {
			im.put64(g.eg+im.l.egFunctionTable, 0)
			im.put64(g.cg+im.l.cgFunctionTable, 0)
		},
		"null class tables": func(im *image, g globals) {
			im.put64(g.eg+im.l.egClassTable, 0)
			im.put64(g.cg+im.l.cgClassTable, 0)
		},
		"huge nNumUsed": func(im *image, g globals) {
			im.put32(im.get64(g.eg+im.l.egFunctionTable)+im.l.htNumUsed, 1<<31)
		},
		"empty function table": func(im *image, g globals) {
			im.put32(im.get64(g.eg+im.l.egFunctionTable)+im.l.htNumUsed, 0)
		},
		"null arData": func(im *image, g globals) {
			im.put64(im.get64(g.eg+im.l.egFunctionTable)+im.l.htArData, 0)
		},
		"wrong hashes": func(im *image, g globals) {
			ar := im.get64(im.get64(g.eg+im.l.egFunctionTable) + im.l.htArData)
			im.put64(ar+im.l.bucketH, 12345)
		},
		"key too long": func(im *image, g globals) {
			ar := im.get64(im.get64(g.eg+im.l.egFunctionTable) + im.l.htArData)
			im.put64(im.get64(ar+im.l.bucketKey)+im.l.strLen, 1<<40)
		},
	}
	for name, corrupt := range cases {
		t.Run(name, func(t *testing.T) {
			im, g := standardImage(t)
			corrupt(im, g)
			_, err := resolveHandlers(im.reader(), g, im.l, []string{"strlen", "pdo::query"})
			if !errors.Is(err, ErrImplausible) {
				t.Fatalf("err = %v, want ErrImplausible", err)
			}
		})
	}
}

func TestUnreadableMemoryIsAnError(t *testing.T) {
	im, g := standardImage(t)
	if _, err := resolveHandlers(im.reader(), globals{eg: g.eg + 1<<40}, im.l, []string{"strlen"}); !errors.Is(err, errUnmapped) {
		t.Fatalf("err = %v, want the read error", err)
	}
	// arData beyond the segment.
	im.put64(im.get64(g.eg+im.l.egFunctionTable)+im.l.htArData, imageBase-4096)
	if _, err := resolveHandlers(im.reader(), g, im.l, []string{"strlen"}); !errors.Is(err, errUnmapped) {
		t.Fatalf("err = %v, want the read error", err)
	}
}

func TestCyclesEndTheWalk(t *testing.T) {
	cases := map[string]func(im *image, g globals){
		// The bucket array is the table header itself.
		"arData points at its table": func(im *image, g globals) {
			ft := im.get64(g.eg + im.l.egFunctionTable)
			im.put64(ft+im.l.htArData, ft)
		},
		"class table is the function table": func(im *image, g globals) {
			im.put64(g.eg+im.l.egClassTable, im.get64(g.eg+im.l.egFunctionTable))
			im.put64(g.cg+im.l.cgClassTable, im.get64(g.eg+im.l.egFunctionTable))
		},
		// A class whose "entry" is the function table: its method table is
		// whatever lies 64 bytes further.
		"class points at the function table": func(im *image, g globals) {
			ct := im.get64(g.eg + im.l.egClassTable)
			ar := im.get64(ct + im.l.htArData)
			for i := uint64(0); i < im.numUsed(ct); i++ {
				im.put64(ar+i*im.l.bucketSize, im.get64(g.eg+im.l.egFunctionTable)-im.l.ceFunctionTable)
			}
		},
		// Buckets whose zend_function pointer is the bucket itself.
		"function points at its bucket": func(im *image, g globals) {
			ft := im.get64(g.eg + im.l.egFunctionTable)
			ar := im.get64(ft + im.l.htArData)
			for i := uint64(0); i < im.numUsed(ft); i++ {
				im.put64(ar+i*im.l.bucketSize, ar+i*im.l.bucketSize)
			}
		},
	}
	for name, corrupt := range cases {
		t.Run(name, func(t *testing.T) {
			im, g := standardImage(t)
			corrupt(im, g)
			mem := im.reader()
			start := time.Now()
			got, err := resolveHandlers(mem, g, im.l, []string{"strlen", "mysqli_query", "pdo::query", "mysqli::query"})
			t.Logf("%d reads, %v, got %v, err %v", mem.reads, time.Since(start), got, err)
			if mem.reads > 100 {
				t.Errorf("%d reads", mem.reads)
			}
		})
	}
}

func TestATableMovingUnderTheWalkIsReadAgain(t *testing.T) {
	im, g := standardImage(t)
	ft := im.get64(g.eg + im.l.egFunctionTable)
	orig := im.get64(ft + im.l.htArData)
	// A copy of the buckets elsewhere, as if the worker grew the table.
	n := im.numUsed(ft) * im.l.bucketSize
	moved := im.alloc(int(n))
	copy(im.mem[moved-im.base:], im.mem[orig-im.base:orig-im.base+n])
	mem := im.reader()
	bucketReads := 0
	mem.hook = func(addr uint64, size int) {
		if addr == orig || addr == moved {
			bucketReads++
			if bucketReads == 1 { // the array moves right after our first copy
				im.put64(ft+im.l.htArData, moved)
			}
		}
	}
	got, err := resolveHandlers(mem, g, im.l, []string{"strlen"})
	if err != nil || got["strlen"] != hStrlen || bucketReads != 2 {
		t.Fatalf("got %x, %v after %d bucket reads; want strlen after 2", got, err, bucketReads)
	}

	// A table that never stops moving is given up on.
	mem = im.reader()
	mem.hook = func(addr uint64, size int) {
		switch addr { // each copy moves the array to the other place
		case orig:
			im.put64(ft+im.l.htArData, moved)
		case moved:
			im.put64(ft+im.l.htArData, orig)
		}
	}
	if _, err := resolveHandlers(mem, g, im.l, []string{"strlen"}); !errors.Is(err, ErrImplausible) {
		t.Fatalf("err = %v, want ErrImplausible", err)
	}
}

// garbageMem answers every read with pseudo-random bytes: no pointer leads
// anywhere sensible, yet every one is readable.
type garbageMem struct {
	seed    uint64
	reads   int
	maxRead int
}

func (g *garbageMem) ReadAt(addr uint64, buf []byte) error {
	g.reads++
	g.maxRead = max(g.maxRead, len(buf))
	r := rand.New(rand.NewPCG(g.seed, addr))
	for i := range buf {
		buf[i] = byte(r.Uint32())
	}
	return nil
}

// maxBucketRead is the largest read the walk may ask for.
func maxBucketRead(l layout) int { return maxTableEntries * int(l.bucketSize) }

func TestGarbageMemoryNeitherHangsNorBlowsUp(t *testing.T) {
	l := testLayout(t)
	names := []string{"strlen", "mysqli_query", "pdo::query", "redis::get"}
	for seed := uint64(0); seed < 200; seed++ {
		g := &garbageMem{seed: seed}
		_, err := resolveHandlers(g, globals{eg: 0x1000 * seed, cg: 0x2000 * seed}, l, names)
		if err == nil {
			t.Errorf("seed %d: random memory passed as PHP tables", seed)
		}
		if g.maxRead > maxBucketRead(l) || g.reads > 20 {
			t.Fatalf("seed %d: %d reads, largest %d bytes", seed, g.reads, g.maxRead)
		}
	}
}

func TestCorruptedTablesNeitherHangNorBlowUp(t *testing.T) {
	names := []string{"strlen", "mysqli_query", "file_get_contents", "pdo::query", "mysqli::query", "pdostatement::execute"}
	r := rand.New(rand.NewPCG(1, 2))
	pristine, g := standardImage(t)
	rounds := 3000
	if testing.Short() {
		rounds = 300
	}
	start := time.Now()
	for round := 0; round < rounds; round++ {
		im := *pristine
		im.mem = append([]byte(nil), pristine.mem...)
		for n := 1 + r.IntN(8); n > 0; n-- {
			at := uint64(r.IntN(len(im.mem)-8)) &^ 7
			switch r.IntN(4) {
			case 0: // a random byte
				im.mem[at+uint64(r.IntN(8))] = byte(r.Uint32())
			case 1: // a pointer somewhere into the image
				im.put64(im.base+at, im.base+uint64(r.IntN(len(im.mem))))
			case 2: // a large count
				im.put32(im.base+at, r.Uint32())
			case 3: // a random word
				im.put64(im.base+at, r.Uint64())
			}
		}
		mem := im.reader()
		got, err := resolveHandlers(mem, g, im.l, names)
		if mem.maxRead > maxBucketRead(im.l) || mem.reads > 200 {
			t.Fatalf("round %d: %d reads, largest %d bytes", round, mem.reads, mem.maxRead)
		}
		for name, h := range got {
			if h == 0 {
				t.Fatalf("round %d: %s resolved to 0 (err %v)", round, name, err)
			}
		}
	}
	t.Logf("%d corrupted images in %v", rounds, time.Since(start))
}

// FuzzResolveHandlers feeds arbitrary bytes as the memory around
// executor_globals (seeds: testdata/fuzz, smallImage and what a hostile
// process could do to it). The walk stays within its read bounds and never
// resolves a name to 0.
func FuzzResolveHandlers(f *testing.F) {
	im, g := standardImage(f)
	f.Add(im.mem, g.eg-im.base, g.cg-im.base)
	f.Fuzz(func(t *testing.T, data []byte, egOff, cgOff uint64) {
		mem := &fakeMem{segs: []fakeSeg{{base: imageBase, data: data}}}
		l := testLayout(t)
		g := globals{eg: imageBase + egOff%uint64(len(data)+1), cg: imageBase + cgOff%uint64(len(data)+1)}
		got, _ := resolveHandlers(mem, g, l, []string{"strlen", "mysqli_query", "mysqli::query", "pdo::query"})
		if mem.maxRead > maxBucketRead(l) || mem.reads > 200 {
			t.Fatalf("%d reads, largest %d bytes", mem.reads, mem.maxRead)
		}
		for name, h := range got {
			if h == 0 {
				t.Fatalf("%s resolved to 0", name)
			}
		}
	})
}

func TestSmallImageResolves(t *testing.T) {
	im, g := smallImage(t)
	got, err := resolveHandlers(im.reader(), g, im.l, []string{"strlen", "mysqli::query", "my_user_function"})
	if err != nil || got["strlen"] != hStrlen || got["mysqli::query"] != hQuery || len(got) != 2 {
		t.Fatalf("%x, %v", got, err)
	}
	for name, corrupt := range hostileImages(t) {
		im, g := smallImage(t)
		corrupt(im, g)
		mem := im.reader()
		got, err := resolveHandlers(mem, g, im.l, []string{"strlen", "mysqli::query"})
		// What is found is still checked (hash and key), what is not
		// is absent or an error; either way in a few reads.
		if mem.reads > 30 || got["strlen"] != 0 && got["strlen"] != hStrlen || got["mysqli::query"] != 0 && got["mysqli::query"] != hQuery {
			t.Errorf("%s: %d reads, %x, %v", name, mem.reads, got, err)
		}
	}
}

func TestBadOffsetsAreRefused(t *testing.T) {
	o := *testOffsets(t)
	o.Tables.BucketSize = 8
	if _, err := newLayout(&o); err == nil {
		t.Error("a bucket smaller than its key offset was accepted")
	}
	o = *testOffsets(t)
	o.Tables = phpoffsets.Tables{}
	if _, err := newLayout(&o); err == nil {
		t.Error("offsets without a tables section were accepted")
	}
	if _, err := newLayout(nil); err == nil {
		t.Error("nil offsets were accepted")
	}
}

func (im *image) get64(addr uint64) uint64 {
	b := im.mem[addr-im.base:]
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}

func (im *image) numUsed(ht uint64) uint64 {
	return im.get64(ht+im.l.htNumUsed) & 0xffffffff
}

// Before its first request a process's executor_globals has no tables
// (php-fpm's master and fresh workers): compiler_globals has them.
func TestTablesComeFromCompilerGlobalsBeforeTheFirstRequest(t *testing.T) {
	im, g := standardImage(t)
	im.put64(g.eg+im.l.egFunctionTable, 0)
	im.put64(g.eg+im.l.egClassTable, 0)
	got, err := resolveHandlers(im.reader(), g, im.l, []string{"strlen", "pdo::query"})
	if err != nil || got["strlen"] != hStrlen || got["pdo::query"] != hPDOQuery {
		t.Fatalf("got %x, %v", got, err)
	}
	// Without compiler_globals there is nothing to go on.
	if _, err := resolveHandlers(im.reader(), globals{eg: g.eg}, im.l, []string{"strlen"}); !errors.Is(err, ErrImplausible) {
		t.Fatalf("err = %v, want ErrImplausible", err)
	}
	// Executor globals win when set: compiler_globals may point at
	// opcache's tables mid-compile.
	im, g = standardImage(t)
	other := im.newTable([]entry{{key: "strlen", ptr: im.fn(1, 0xbad)}})
	im.put64(g.cg+im.l.cgFunctionTable, other)
	if got, err := resolveHandlers(im.reader(), g, im.l, []string{"strlen"}); err != nil || got["strlen"] != hStrlen {
		t.Fatalf("got %x, %v; want executor_globals' table", got, err)
	}
}

func TestNoNamesReadsNothing(t *testing.T) {
	im, g := standardImage(t)
	mem := im.reader()
	if got, err := resolveHandlers(mem, g, im.l, nil); err != nil || len(got) != 0 || mem.reads != 0 {
		t.Fatalf("got %v, %v after %d reads", got, err, mem.reads)
	}
}
