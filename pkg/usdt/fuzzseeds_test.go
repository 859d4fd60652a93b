package usdt

import (
	"flag"
	"fmt"
	"slices"
	"testing"

	"github.com/tusk-php/tusk/pkg/internal/fuzzseed"
)

var updateSeeds = flag.Bool("update-seeds", false, "rewrite testdata/fuzz seed corpora")

// TestWriteFuzzSeeds writes the committed seed corpora: the real notes of
// Debian's php-fpm8.2 plus hand-made edge cases. It only runs with
// -update-seeds, so the committed files stay what the fuzzers start from.
func TestWriteFuzzSeeds(t *testing.T) {
	if !*updateSeeds {
		t.Skip("run with -update-seeds to rewrite testdata/fuzz")
	}
	f := openELF(t, phpFPM)
	realNotes, err := f.Section(notesSection).Data()
	if err != nil {
		t.Fatal(err)
	}
	good := sdtNote(8, 0x1000, 0x2000, 0x3000, "php", "function__entry", "8@%rax -4@%r13d 8@16(%rsp)")
	noteSeeds := map[string][]any{
		"php-fpm8.2":          {realNotes, true, false, false},
		"arm64":               {sdtNote(8, 1, 2, 3, "php", "function__entry", "-4@x0 8@[sp, 16] 8@[x1] 8@w2 -4@5"), true, false, true},
		"elf32":               {sdtNote(4, 1, 2, 3, "php", "error", "-4@%eax 8@$-1"), false, false, false},
		"big-endian":          {good, true, true, false},
		"truncated-header":    {good[:7], true, false, false},
		"descsz-past-end":     {good[:len(good)-8], true, false, false},
		"missing-nul":         {rawNote("stapsdt", 3, []byte("\x01\x00\x00\x00\x00\x00\x00\x00\x02\x00\x00\x00\x00\x00\x00\x00\x03\x00\x00\x00\x00\x00\x00\x00php\x00name")), true, false, false},
		"other-owner":         {slices.Concat(rawNote("GNU", 3, []byte{1, 2, 3}), good), true, false, false},
		"unsupported-operand": {sdtNote(8, 1, 2, 3, "php", "x", "8@sym+16(%rip) 8@(%rax,%rbx,8)"), true, false, false},
	}
	fuzzseed.Write(t, "FuzzParseNotes", noteSeeds)

	argSeeds := map[string][]any{
		"x86-index":    {"8@(%rax,%rbx,8)", false},
		"x86-rip":      {"8@sym+16(%rip)", false},
		"x86-const":    {"-4@$5 8@$-1 8@$0x10", false},
		"x86-subregs":  {"1@%al 2@%r8w -4@%r13d 1@%sil 1@%ah", false},
		"arm64-all":    {"-4@x0 8@[sp, 16] 8@[x1] 8@[x2, -8] -4@5 8@w1 8@xzr 8@[x3, #8]", true},
		"arm64-regoff": {"8@[x0, x1, lsl 3]", true},
		"bad-size":     {"3@%rax 16@%rax", false},
		"unbalanced":   {"8@(%rax 8@[sp", false},
	}
	seen := map[string]bool{}
	for _, p := range readelfProbes(t, phpFPM) { // binutils' reading, not ours
		if !seen[p.RawArgs] {
			seen[p.RawArgs] = true
			argSeeds[fmt.Sprintf("php-fpm8.2-%s-%d", p.Name, len(seen))] = []any{p.RawArgs, false}
		}
	}
	fuzzseed.Write(t, "FuzzParseArgs", argSeeds)
}
