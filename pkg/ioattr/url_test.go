package ioattr

import "testing"

func TestRedactURL(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		// The fixture's io/http.php call.
		{"http://user:pass@127.0.0.1:8080/upstream/ok?token=abc&page=2",
			"http://REDACTED:REDACTED@127.0.0.1:8080/upstream/ok?token=REDACTED&page=2"},
		{"https://www.example.com/", "https://www.example.com/"},
		{"https://user@example.com/x", "https://REDACTED:REDACTED@example.com/x"},
		{"https://a:b@c@example.com:443/", "https://REDACTED:REDACTED@example.com:443/"},
		{"//user:pw@host/p", "//REDACTED:REDACTED@host/p"},
		{"http://host/p@q?x=1", "http://host/p@q?x=1"},
		{"http://host?u=http://a:b@c", "http://host?u=http://a:b@c"},
		// OpenTelemetry's list, and the rest of ours; case- and separator-insensitive.
		{"https://s3.example.com/o?X-Amz-Algorithm=AWS4&X-Amz-Credential=AKIA%2F2024&X-Amz-Signature=abc&X-Amz-Security-Token=t",
			"https://s3.example.com/o?X-Amz-Algorithm=AWS4&X-Amz-Credential=REDACTED&X-Amz-Signature=REDACTED&X-Amz-Security-Token=REDACTED"},
		{"https://x/?AWSAccessKeyId=A&Signature=S&sig=s&X-Goog-Signature=g&Expires=1",
			"https://x/?AWSAccessKeyId=REDACTED&Signature=REDACTED&sig=REDACTED&X-Goog-Signature=REDACTED&Expires=1"},
		{"https://x/?access_token=a&API-Key=b&apiKey=c&client_secret=d&password=e&pwd=f&code=g&state=h&PHPSESSID=i&key=j&keys=k",
			"https://x/?access_token=REDACTED&API-Key=REDACTED&apiKey=REDACTED&client_secret=REDACTED&password=REDACTED&pwd=REDACTED&code=REDACTED&state=h&PHPSESSID=REDACTED&key=REDACTED&keys=k"},
		{"https://x/?token[]=a&token[]=b&tok%65n=c&monkey=d", "https://x/?token[]=REDACTED&token[]=REDACTED&tok%65n=REDACTED&monkey=d"},
		// Empty values, bare names, empty pairs and the fragment.
		{"https://x/?token=&token&&page=1#access_token=a&b=c", "https://x/?token=REDACTED&token&&page=1#access_token=REDACTED&b=c"},
		{"https://x/#frag", "https://x/#frag"},
		{"/relative?secret=1", "/relative?secret=REDACTED"},
		// Not URLs, or broken ones: redacted where recognisable, never re-encoded.
		{"http://u:p@host/%zz?token=1&q=a%20b+c", "http://REDACTED:REDACTED@host/%zz?token=REDACTED&q=a%20b+c"},
		{"not a url", "not a url"},
		{"", ""},
		{"?", "?"},
		{"http://", "http://"},
		{"::://@", "::://@"},
	} {
		if got := RedactURL(tc.in); got != tc.want {
			t.Errorf("RedactURL(%q)\n got %q\nwant %q", tc.in, got, tc.want)
		}
		if again := RedactURL(tc.want); again != tc.want {
			t.Errorf("RedactURL is not idempotent on %q: %q", tc.want, again)
		}
	}
}

func TestSecretParam(t *testing.T) {
	for _, name := range []string{"token", "Token", "access_token", "refresh-token", "csrf.token", "api_key", "APIKEY",
		"secret", "client_secret", "password", "passwd", "pwd", "pass", "signature", "sig", "auth", "authorization",
		"code", "session", "sessionid", "sid", "PHPSESSID", "jsessionid", "key", "private_key", "access-key",
		"AWSAccessKeyId", "X-Amz-Signature", "X-Goog-Signature", "X-Amz-Credential", "jwt", "otp", "token[0]", "%74oken"} {
		if !SecretParam(name) {
			t.Errorf("SecretParam(%q) = false", name)
		}
	}
	for _, name := range []string{"page", "q", "id", "keys", "monkey", "keyword", "sort", "state", "codec", "author",
		"signed", "session_count", "tokens", "", "[token]"} {
		if SecretParam(name) {
			t.Errorf("SecretParam(%q) = true", name)
		}
	}
}
