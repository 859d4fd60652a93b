package probes

import (
	"github.com/tusk-php/tusk/pkg/events"
	"testing"
	"unsafe"
)

func cChars(s string, size int) []int8 {
	b := make([]int8, size)
	for i := 0; i < len(s) && i < size-1; i++ {
		b[i] = int8(s[i])
	}
	return b
}

func TestInternerSharesNamesAndStaysBounded(t *testing.T) {
	in := &interner{}
	a := in.cString(cChars("WP_Hook::apply_filters", 64))
	b := in.cString(cChars("WP_Hook::apply_filters", 64))
	if a != "WP_Hook::apply_filters" || unsafe.StringData(a) != unsafe.StringData(b) {
		t.Fatalf("%q and %q are not one string", a, b)
	}
	if got := in.cString(cChars("", 8)); got != "" {
		t.Fatalf("empty name = %q", got)
	}
	for i := range maxInterned + 10 {
		in.cString(cChars(string(rune('a'+i%26))+string(rune(i)), 16))
	}
	if len(in.names) > maxInterned {
		t.Fatalf("%d names kept, bound is %d", len(in.names), maxInterned)
	}
	var none *interner
	if got := none.cString(cChars("x", 4)); got != "x" {
		t.Fatalf("nil interner: %q", got)
	}
}

// Names that share a slot of the recent cache (same length, same bytes
// where it looks) come back as themselves, and shared.
func TestInternerRecentCacheKeepsNamesApart(t *testing.T) {
	in := &interner{}
	names := []string{"ab_x_z", "cd_x_z", "ab_x_z", "ef_x_z", "cd_x_z", "ab_y_z"}
	first := map[string]*byte{}
	for range 3 {
		for _, name := range names {
			got := in.cString(cChars(name, 32))
			if got != name {
				t.Fatalf("%q came back as %q", name, got)
			}
			if p, ok := first[name]; ok && p != unsafe.StringData(got) {
				t.Fatalf("%q is not shared", name)
			}
			first[name] = unsafe.StringData(got)
		}
	}
}

func BenchmarkDecodeFunctionEvent(b *testing.B) {
	var r requestFunctionEvent
	r.H.Kind = uint8(events.KindFunction)
	copy(r.Function[:], cChars("apply_filters", len(r.Function)))
	copy(r.Class[:], cChars("WP_Hook", len(r.Class)))
	copy(r.File[:], cChars("/usr/share/wordpress/wp-includes/class-wp-hook.php", len(r.File)))
	raw := unsafe.Slice((*byte)(unsafe.Pointer(&r)), unsafe.Sizeof(r))
	tr := &Tracer{names: &interner{}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tr.decodeEvent(raw); err != nil {
			b.Fatal(err)
		}
	}
}
