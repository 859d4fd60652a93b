package stack

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// httpClient never follows redirects: a redirect from WordPress means a wrong WP_HOME or Host and
// should be seen, not followed to port 80.
var httpClient = &http.Client{
	Timeout:       60 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// httpGet fetches a URL and returns at most 1 MiB of its body.
func httpGet(ctx context.Context, url string) (string, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", 0, err
	}
	return httpDo(req)
}

// httpPostForm posts url-encoded form values.
func httpPostForm(ctx context.Context, url string, form url.Values) (string, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(form.Encode()))
	if err != nil {
		return "", 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return httpDo(req)
}

func httpDo(req *http.Request) (string, int, error) {
	resp, err := httpClient.Do(req)
	if err != nil {
		return "", 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return string(body), resp.StatusCode, err
}
