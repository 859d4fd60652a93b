package ioattr

import (
	"net/url"
	"strings"
)

// Redacted replaces what RedactURL removes.
const Redacted = "REDACTED"

// RedactURL returns url.full as OpenTelemetry wants it: credentials in the authority become
// REDACTED:REDACTED ("https://REDACTED:REDACTED@host/"), and the value of every query parameter whose
// name looks secret becomes REDACTED ("?token=REDACTED&page=2"). Parameters after a # are treated the
// same way (OAuth's implicit flow puts access_token there).
//
// A parameter name is secret if, lower-cased and without "-", "_" and "." (so API-Key, api_key and
// apiKey all read apikey), and without a trailing [..] (token[] → token), it is one of
//
//	auth authorization code key sig pass pwd passwd session sid jwt otp credential credentials
//	awsaccesskeyid
//
// or ends in
//
//	token secret password passwd signature apikey accesskey secretkey privatekey sessionid sessid credential
//
// which covers access_token, client_secret, X-Amz-Signature, X-Amz-Credential, X-Amz-Security-Token,
// X-Goog-Signature, AWSAccessKeyId, Signature, sig (OpenTelemetry's list), PHPSESSID, api_key…
//
// RedactURL edits the string in place and never re-encodes it, so everything else stays byte for byte;
// a string that does not parse as a URL is redacted the same way as far as it looks like one (an
// authority with "@", a query), and returned unchanged otherwise. It never panics.
func RedactURL(raw string) string {
	rest := raw
	var b strings.Builder
	b.Grow(len(raw) + 16)

	// Scheme and authority: scheme://[userinfo@]host[:port], or a network-path reference //…
	if i := strings.Index(rest, "//"); i >= 0 && (i == 0 || (rest[i-1] == ':' && validScheme(rest[:i-1]))) {
		b.WriteString(rest[:i+2])
		rest = rest[i+2:]
		end := strings.IndexAny(rest, "/?#")
		if end < 0 {
			end = len(rest)
		}
		if at := strings.LastIndexByte(rest[:end], '@'); at >= 0 {
			b.WriteString(Redacted + ":" + Redacted)
			rest = rest[at:]
		}
	}
	// Path, kept; then the query and the fragment, with secret values replaced.
	end := strings.IndexAny(rest, "?#")
	if end < 0 {
		b.WriteString(rest)
		return b.String()
	}
	b.WriteString(rest[:end])
	rest = rest[end:]
	for rest != "" {
		b.WriteByte(rest[0]) // ? or #
		rest = rest[1:]
		part := rest
		if hash := strings.IndexByte(part, '#'); hash >= 0 {
			part = part[:hash]
		}
		redactParams(&b, part)
		rest = rest[len(part):]
	}
	return b.String()
}

// redactParams writes a&b=c&… with secret values replaced.
func redactParams(b *strings.Builder, params string) {
	for first := true; ; first = false {
		if !first {
			b.WriteByte('&')
		}
		pair, more, found := strings.Cut(params, "&")
		if name, _, hasValue := strings.Cut(pair, "="); hasValue && SecretParam(name) {
			b.WriteString(name + "=" + Redacted)
		} else {
			b.WriteString(pair)
		}
		if !found {
			return
		}
		params = more
	}
}

func validScheme(s string) bool {
	if s == "" || !isLetter(s[0]) || s[0] >= 0x80 || s[0] == '_' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !(isDigit(c) || c == '+' || c == '-' || c == '.' || (c|0x20 >= 'a' && c|0x20 <= 'z')) {
			return false
		}
	}
	return true
}

var secretNames = map[string]bool{
	"auth": true, "authorization": true, "code": true, "key": true, "sig": true, "pass": true, "pwd": true,
	"passwd": true, "session": true, "sid": true, "jwt": true, "otp": true, "credential": true,
	"credentials": true, "awsaccesskeyid": true,
}

var secretSuffixes = []string{
	"token", "secret", "password", "passwd", "signature", "apikey", "accesskey", "secretkey", "privatekey",
	"sessionid", "sessid", "credential",
}

// SecretParam reports whether a query parameter name (as in the URL, possibly %-encoded) names a
// secret; see RedactURL for the rule.
func SecretParam(name string) bool {
	if dec, err := url.QueryUnescape(name); err == nil {
		name = dec
	}
	if i := strings.IndexByte(name, '['); i > 0 {
		name = name[:i]
	}
	var b strings.Builder
	b.Grow(len(name))
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '-' || c == '_' || c == '.':
		case c >= 'A' && c <= 'Z':
			b.WriteByte(c + 'a' - 'A')
		default:
			b.WriteByte(c)
		}
	}
	n := b.String()
	if secretNames[n] {
		return true
	}
	for _, s := range secretSuffixes {
		if strings.HasSuffix(n, s) {
			return true
		}
	}
	return false
}
