package agentcli

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func run(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := Main(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestUsageErrorsExitWithTwo(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"frobnicate"},
		{"run", "--pid", "abc"},
		{"run", "--no-such-flag"},
		{"trace"},
		{"trace", "--token", "x", "not-hex"},
		{"deep"},
		{"deep", "enable", "--token", "x"},
		{"deep", "enable", "--token", "x", "--pool", "www", "--pid", "1"},
		{"deep", "enable", "--token", "x", "--pid", "1", "--nice", "-5"},
	} {
		code, _, stderr := run(args...)
		if code != exitUsage || stderr == "" {
			t.Errorf("%q: exit %d, stderr %q", args, code, stderr)
		}
	}
}

func TestVersionAndHelp(t *testing.T) {
	if code, out, _ := run("version"); code != 0 || !strings.HasPrefix(out, "tusk-agent ") {
		t.Fatalf("version: %d %q", code, out)
	}
	if code, out, _ := run("help"); code != 0 || !strings.Contains(out, "tusk-agent run") {
		t.Fatalf("help: %d %q", code, out)
	}
}

func TestParsePIDs(t *testing.T) {
	got, err := parsePIDs(" 12, 13,,")
	if err != nil || len(got) != 2 || got[0] != 12 || got[1] != 13 {
		t.Fatalf("%v %v", got, err)
	}
	for _, bad := range []string{"", "0", "-3", "x", ","} {
		if _, err := parsePIDs(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestClientCommandsReportAnUnreachableAgent(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there any more
	code, _, stderr := run("top", "--agent", url, "--token", "x")
	if code != exitFail || !strings.Contains(stderr, "not reachable") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
}

func TestMissingTokenSaysWhereToPutIt(t *testing.T) {
	t.Setenv("TUSK_TOKEN", "")
	code, _, stderr := run("status", "--token-file", "/nonexistent/token")
	if code != exitFail || !strings.Contains(stderr, "TUSK_TOKEN") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
}

func TestRunOTLPFlagsAreValidated(t *testing.T) {
	code, _, stderr := run("run", "--otlp-endpoint", "127.0.0.1:4317", "--otlp-protocol", "thrift")
	if code != exitFail || !strings.Contains(stderr, `export.otlp.protocol "thrift": want grpc or http`) {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	code, _, stderr = run("run", "--otlp-endpoint", "collector")
	if code != exitFail || !strings.Contains(stderr, `export.otlp.endpoint "collector"`) {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}
