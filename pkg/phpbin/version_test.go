package phpbin

import (
	"errors"
	"testing"
)

func TestFindVersion(t *testing.T) {
	tests := []struct {
		name, rodata, want string
	}{
		{"debian 8.2", "\x00PHP %s\x00X-Powered-By: PHP/8.2.36\x00Zend Engine v4.2.36, Copyright\x00", "8.2.36"},
		{"7.4 header", "X-Powered-By: PHP/7.4.33\x00Zend Engine v3.4.0, Copyright\x00", "7.4.33"},
		{"suffixes kept", "X-Powered-By: PHP/8.4.0RC1\x00", "8.4.0RC1"},
		{"distro suffix", "X-Powered-By: PHP/8.1.2-1ubuntu2.19\x00", "8.1.2-1ubuntu2.19"},
		{"zend 4 fallback", "\x00Zend Engine v4.3.14, Copyright (c) Zend Technologies\x00", "8.3.14"},
		{"bad header, zend fallback", "X-Powered-By: PHP/%s\x00Zend Engine v4.1.24, Copyright\x00", "8.1.24"},
		{"zend 3 gives no patch level", "Zend Engine v3.4.0, Copyright\x00", ""},
		{"header without terminator", "X-Powered-By: PHP/8.2.36", ""},
		{"two-part version", "X-Powered-By: PHP/8.2\x00", ""},
		{"control byte", "X-Powered-By: PHP/8.2.1\n\x00", ""},
		{"nothing", "\x00\x00", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := findVersion([]byte(tt.rodata))
			if got != tt.want {
				t.Errorf("findVersion = %q, want %q", got, tt.want)
			}
			if (err != nil) != (tt.want == "") || (err != nil && !errors.Is(err, ErrVersionUnknown)) {
				t.Errorf("findVersion error %v for version %q", err, got)
			}
		})
	}
}

func TestMajorMinor(t *testing.T) {
	for version, want := range map[string]string{
		"8.2.36": "8.2", "7.4.33": "7.4", "8.4.0RC1": "8.4", "10.12.1-dev": "10.12", "": "", "8.2": "", "x.y.z": "",
	} {
		if got := majorMinor(version); got != want {
			t.Errorf("majorMinor(%q) = %q, want %q", version, got, want)
		}
	}
}
