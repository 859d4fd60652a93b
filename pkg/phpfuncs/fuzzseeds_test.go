package phpfuncs

import (
	"flag"
	"testing"

	"github.com/tusk-php/tusk/pkg/internal/fuzzseed"
)

var updateSeeds = flag.Bool("update-seeds", false, "rewrite testdata/fuzz seed corpora")

// smallImage is a real-shaped engine small enough to commit as a seed:
// three functions, one class with a method.
func smallImage(t testing.TB) (*image, globals) {
	im := newImage(t)
	functions := im.newTable([]entry{
		{key: "strlen", ptr: im.fn(1, hStrlen)},
		{key: "mysqli_query", ptr: im.fn(1, hQuery)},
		{key: "my_user_function", ptr: im.fn(2, 0)},
	})
	classes := im.newTable([]entry{{key: "mysqli", ptr: im.class([]entry{{key: "query", ptr: im.fn(1, hQuery)}})}})
	return im, im.globals(functions, classes)
}

// hostileImages are smallImage with one thing a hostile or corrupted
// process could do to it.
func hostileImages(t testing.TB) map[string]func(im *image, g globals) {
	ft := func(im *image, g globals) uint64 { return im.get64(g.eg + im.l.egFunctionTable) }
	ct := func(im *image, g globals) uint64 { return im.get64(g.eg + im.l.egClassTable) }
	firstKey := func(im *image, g globals) uint64 {
		return im.get64(im.get64(ft(im, g)+im.l.htArData) + im.l.bucketKey)
	}
	return map[string]func(im *image, g globals){
		"pristine":              func(*image, globals) {},
		"ardata-is-its-table":   func(im *image, g globals) { im.put64(ft(im, g)+im.l.htArData, ft(im, g)) },
		"num-used-4g":           func(im *image, g globals) { im.put32(ft(im, g)+im.l.htNumUsed, 0xffffffff) },
		"ardata-unmapped":       func(im *image, g globals) { im.put64(ft(im, g)+im.l.htArData, 0xdead0000) },
		"ardata-wraps":          func(im *image, g globals) { im.put64(ft(im, g)+im.l.htArData, ^uint64(0)-64) },
		"key-len-2pow62":        func(im *image, g globals) { im.put64(firstKey(im, g)+im.l.strLen, 1<<62) },
		"key-len-2pow64-1":      func(im *image, g globals) { im.put64(firstKey(im, g)+im.l.strLen, ^uint64(0)) },
		"class-table-functions": func(im *image, g globals) { im.put64(g.eg+im.l.egClassTable, ft(im, g)) },
		"class-is-class-table": func(im *image, g globals) {
			ar := im.get64(ct(im, g) + im.l.htArData)
			im.put64(ar, ct(im, g)-im.l.ceFunctionTable) // its method table is the class table
		},
		"function-is-its-bucket": func(im *image, g globals) {
			ar := im.get64(ft(im, g) + im.l.htArData)
			im.put64(ar, ar)
		},
	}
}

// TestWriteFuzzSeeds writes the committed seed corpora. It only runs with
// -update-seeds.
func TestWriteFuzzSeeds(t *testing.T) {
	if !*updateSeeds {
		t.Skip("run with -update-seeds to rewrite testdata/fuzz")
	}
	tables := map[string][]any{}
	for name, corrupt := range hostileImages(t) {
		im, g := smallImage(t)
		corrupt(im, g)
		tables[name] = []any{im.mem, g.eg - im.base, g.cg - im.base}
	}
	tables["zeros"] = []any{make([]byte, 512), uint64(0), uint64(64)}
	fuzzseed.Write(t, "FuzzResolveHandlers", tables)

	fuzzseed.Write(t, "FuzzStreamOpener", streamOpenerSeeds())

	fuzzseed.Write(t, "FuzzParseMaps", map[string][]any{
		"php-fpm": {realisticMaps},
		"odd-paths": {"7f0000000000-7f0000001000 r-xp 00000000 fe:01 7 /tmp/a b (deleted) (deleted)\n" +
			"7f0000001000-7f0000002000 r-xp 00000000 fe:01 8  \t/x\xff\xfe\n" +
			"ffffffffffff0000-ffffffffffffffff r-xp ffffffffffffffff fe:01 18446744073709551615 /y\n"},
		"garbage": {"\n\n-\n- - - - -\n0-0 0 0 0 0\n"},
	})
}
