package agent

import (
	"crypto/x509"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tusk-php/tusk/tests/testcert"
)

// TestCertReloaderPicksUpARotatedCertificate: a renewed certificate is
// served without a restart; a broken one keeps the last good one in use.
func TestCertReloaderPicksUpARotatedCertificate(t *testing.T) {
	dir := t.TempDir()
	first := testcert.Write(t, dir, "first")
	certFile, keyFile := first.CertFile, first.KeyFile
	r, err := newCertReloader(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	cn := func() string {
		c, err := r.tlsConfig().GetCertificate(nil)
		if err != nil {
			t.Fatal(err)
		}
		leaf, _ := x509.ParseCertificate(c.Certificate[0])
		return leaf.Subject.CommonName
	}
	if got := cn(); got != "first" {
		t.Fatalf("serving %q", got)
	}
	testcert.Write(t, dir, "second")
	later := time.Now().Add(2 * time.Second) // mtime granularity
	os.Chtimes(certFile, later, later)
	os.Chtimes(keyFile, later, later)
	if got := cn(); got != "second" {
		t.Errorf("after rotation serving %q, want second", got)
	}
	os.WriteFile(certFile, []byte("garbage"), 0o600)
	evenLater := later.Add(2 * time.Second)
	os.Chtimes(certFile, evenLater, evenLater)
	if got := cn(); got != "second" {
		t.Errorf("after a broken write serving %q, want the last good one", got)
	}
	if _, err := newCertReloader(certFile, keyFile); err == nil || !strings.Contains(err.Error(), "API TLS certificate") {
		t.Errorf("a broken pair at start: %v", err)
	}
}

func TestConfigWantsBothTLSFiles(t *testing.T) {
	c := DefaultConfig()
	c.Token = "x"
	c.TLS.CertFile = "/etc/tusk/tls.crt"
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "set both cert_file and key_file") {
		t.Errorf("cert without key: %v", err)
	}
}
