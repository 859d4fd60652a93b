package phpoffsets

import (
	"debug/elf"
	"strings"
	"testing"
)

func TestLookupKnownVersion(t *testing.T) {
	o, err := Lookup("8.2", elf.EM_X86_64)
	if err != nil {
		t.Fatal(err)
	}
	// Values verified by hand against the 8.2 headers and php-src's
	// fastcgi.c (shared/notes/fastcgi-params.md, php-stack-sampler.md).
	if o.SAPIGlobals.ResponseCode != 216 || o.FCGI.RequestEnv != 8296 || o.Executor.CurrentExecuteData != 488 {
		t.Fatalf("unexpected 8.2 offsets: %+v", o)
	}
	if o.FCGI.HashTableSize == 0 || o.FCGI.HashTableSize&(o.FCGI.HashTableSize-1) != 0 {
		t.Fatalf("fcgi hash table size %d is not a power of two", o.FCGI.HashTableSize)
	}
}

func TestLookupUnknownVersionSaysWhatIsSupported(t *testing.T) {
	_, err := Lookup("5.6", elf.EM_X86_64)
	if err == nil || !strings.Contains(err.Error(), "PHP 5.6") || !strings.Contains(err.Error(), "8.2-x86_64") {
		t.Fatalf("want an error naming the version and the supported tables, got %v", err)
	}
}
