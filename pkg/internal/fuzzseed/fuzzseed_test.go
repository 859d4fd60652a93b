package fuzzseed

import "testing"

func TestEncode(t *testing.T) {
	b, err := Encode([]byte("a\x00\xff"), "é\n", true, uint64(1<<63), uint32(7), -3)
	if err != nil {
		t.Fatal(err)
	}
	want := "go test fuzz v1\n[]byte(\"a\\x00\\xff\")\nstring(\"é\\n\")\nbool(true)\nuint64(9223372036854775808)\nuint32(7)\nint(-3)\n"
	if string(b) != want {
		t.Fatalf("%q\nwant %q", b, want)
	}
	if _, err := Encode(1.5); err == nil {
		t.Fatal("a float encoded")
	}
}
