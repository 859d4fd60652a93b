package main

import (
	"flag"
	"io"
	"testing"
)

func TestParseWithKind(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		kind    string
		dir     string
		wantErr bool
	}{
		{[]string{"wordpress", "--dir", "/d"}, "wordpress", "/d", false},
		{[]string{"--dir", "/d", "fixture"}, "fixture", "/d", false},
		{[]string{"--dir", "/d"}, "", "/d", false},
		{[]string{"fixture", "--dir", "/d", "extra"}, "", "", true},
		{[]string{"--nope"}, "", "", true},
	} {
		fs := flag.NewFlagSet("up", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		dir := fs.String("dir", "", "")
		kind, err := parseWithKind(fs, tc.args)
		if (err != nil) != tc.wantErr || (!tc.wantErr && (kind != tc.kind || *dir != tc.dir)) {
			t.Errorf("parseWithKind(%q) = %q, dir %q, err %v", tc.args, kind, *dir, err)
		}
	}
}
