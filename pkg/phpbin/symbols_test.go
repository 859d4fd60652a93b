package phpbin

import (
	"strings"
	"testing"
)

func TestIsZTS(t *testing.T) {
	tests := []struct {
		name    string
		symbols []string
		zts     bool
		err     string
	}{
		{"NTS", []string{"executor_globals", "sapi_globals"}, false, ""},
		{"ZTS", []string{"executor_globals_offset", "tsrm_get_ls_cache"}, true, ""},
		{"neither", []string{"php_request_startup"}, false, "not a PHP binary: no executor_globals symbol"},
	}
	for _, tt := range tests {
		syms := map[string]Symbol{}
		for _, name := range tt.symbols {
			syms[name] = Symbol{Value: 1}
		}
		zts, err := isZTS(syms)
		if zts != tt.zts || (err == nil) != (tt.err == "") || (err != nil && !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("%s: isZTS = %v, %v; want %v, %q", tt.name, zts, err, tt.zts, tt.err)
		}
	}
}

func TestWantedSymbolsHoldTheBuildMarkers(t *testing.T) {
	seen := map[string]bool{}
	for _, name := range wantedSymbols {
		if seen[name] {
			t.Errorf("%s listed twice", name)
		}
		seen[name] = true
	}
	if !seen[ntsMarker] || !seen[ztsMarker] {
		t.Errorf("wantedSymbols lacks %s or %s, so isZTS could never see them", ntsMarker, ztsMarker)
	}
}
