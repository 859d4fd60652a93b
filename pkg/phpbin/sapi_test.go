package phpbin

import "testing"

func TestFindSAPI(t *testing.T) {
	tests := []struct{ name, rodata, want string }{
		// What Debian's builds hold: every one also has "cgi-fcgi" and "phpdbg".
		{"fpm", "cgi-fcgi\x00phpdbg\x00fpm-fcgi\x00FPM/FastCGI\x00", "fpm"},
		{"cli", "cgi-fcgi\x00phpdbg\x00Command Line Interface\x00cli-server\x00", "cli"},
		{"cgi", "cgi-fcgi\x00CGI/FastCGI\x00", "cgi"},
		{"apache", "cgi-fcgi\x00Apache 2.0 Handler\x00apache2handler\x00", "apache2handler"},
		{"embed", "PHP Embedded Library\x00", "embed"},
		{"short names alone say nothing", "cgi-fcgi\x00phpdbg\x00fpm-fcgi\x00cli\x00", ""},
		{"inside a longer string", "Not the FPM/FastCGI\x00", ""},
		{"unterminated", "FPM/FastCGI", ""},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		if got := findSAPI([]byte(tt.rodata)); got != tt.want {
			t.Errorf("%s: findSAPI = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestHasCString(t *testing.T) {
	data := []byte("abc\x00xabc\x00bc\x00")
	for s, want := range map[string]bool{"abc": true, "bc": true, "xabc": true, "c": false, "ab": false} {
		if got := hasCString(data, s); got != want {
			t.Errorf("hasCString(%q) = %v, want %v", s, got, want)
		}
	}
	if !hasCString([]byte("FPM/FastCGI\x00"), "FPM/FastCGI") {
		t.Error("a string at offset 0 was not found")
	}
}
