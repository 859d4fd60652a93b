package phpbin

// sapiPrettyNames tells which SAPI a binary was linked with. Each SAPI's
// sapi_module_struct carries a pretty_name literal that only that SAPI
// defines. The short names are no use: every build also carries "cgi-fcgi"
// and "phpdbg" in engine code that compares against them. Symbols are no use
// either: Debian's php-fpm exports no fpm_* symbol. First match wins.
var sapiPrettyNames = []struct {
	sapi       string
	prettyName string
}{
	{"fpm", "FPM/FastCGI"},                   // sapi/fpm/fpm/fpm_main.c
	{"cli", "Command Line Interface"},        // sapi/cli/php_cli.c
	{"cgi", "CGI/FastCGI"},                   // sapi/cgi/cgi_main.c
	{"apache2handler", "Apache 2.0 Handler"}, // sapi/apache2handler/sapi_apache2.c
	{"embed", "PHP Embedded Library"},        // sapi/embed/php_embed.c
}

// findSAPI returns the SAPI short name, "" when none is recognised.
func findSAPI(rodata []byte) string {
	for _, m := range sapiPrettyNames {
		if hasCString(rodata, m.prettyName) {
			return m.sapi
		}
	}
	return ""
}
