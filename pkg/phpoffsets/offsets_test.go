package phpoffsets

import (
	"debug/elf"
	"reflect"
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

// The tables of the other versions differ from 8.2 where php-src changed:
// zend_op_array and zend_internal_function grew fields in 8.0 and 8.4, and
// 8.0 renumbered IS_PTR (14 in PHP 7). Pinned so a regeneration that mixes
// headers up shows here.
func TestLookupOtherVersions(t *testing.T) {
	for _, c := range []struct {
		php                      string
		filename, handler, isPtr int
	}{
		{"7.4", 136, 48, 14},
		{"8.2", 152, 72, 13},
		{"8.4", 168, 88, 13},
	} {
		o, err := Lookup(c.php, elf.EM_X86_64)
		if err != nil {
			t.Fatal(err)
		}
		if o.PHP != c.php || !strings.HasPrefix(o.HeadersVersion, c.php+".") || o.Arch != "x86_64" {
			t.Errorf("%s: table says php %q headers %q arch %q", c.php, o.PHP, o.HeadersVersion, o.Arch)
		}
		if int(o.Executor.OpArrayFilename) != c.filename || int(o.Tables.InternalHandler) != c.handler || int(o.Tables.ZvalTypePtr) != c.isPtr {
			t.Errorf("%s: opArrayFilename %d internalHandler %d IS_PTR %d, want %d %d %d", c.php,
				o.Executor.OpArrayFilename, o.Tables.InternalHandler, o.Tables.ZvalTypePtr, c.filename, c.handler, c.isPtr)
		}
	}
}

// zeroAllowed are the fields that are 0 by php-src's layout: first members
// (sapi_globals.server_context, execute_data.opline, zend_function.type) and
// IS_UNDEF.
var zeroAllowed = map[string]bool{
	"sapiGlobals.serverContext": true,
	"executor.exOpline":         true,
	"executor.funcType":         true,
	"tables.zvalTypeUndef":      true,
}

// Every table has every field, and no field is 0 where a layout cannot
// make it 0 (a field missing from the JSON decodes as 0).
func TestEveryTablePlausible(t *testing.T) {
	for _, k := range Supported() {
		php, arch, _ := strings.Cut(k, "-")
		machine := map[string]elf.Machine{"x86_64": elf.EM_X86_64, "aarch64": elf.EM_AARCH64}[arch]
		o, err := Lookup(php, machine)
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		for _, group := range []struct {
			name string
			v    any
		}{{"sapiGlobals", o.SAPIGlobals}, {"fcgi", o.FCGI}, {"executor", o.Executor}, {"tables", o.Tables}} {
			rv := reflect.ValueOf(group.v)
			for i := 0; i < rv.NumField(); i++ {
				name := group.name + "." + strings.Split(rv.Type().Field(i).Tag.Get("json"), ",")[0]
				if rv.Field(i).Uint() == 0 && !zeroAllowed[name] {
					t.Errorf("%s: %s is 0", k, name)
				}
			}
		}
		// Relations that hold in every PHP 7.1+ layout.
		e, f, tb := o.Executor, o.FCGI, o.Tables
		if f.HashTableSize&(f.HashTableSize-1) != 0 {
			t.Errorf("%s: fcgi hash table size %d is not a power of two", k, f.HashTableSize)
		}
		if f.BucketVar >= f.BucketVal || f.BucketVal >= f.BucketNext || f.RequestEnv < 8192 {
			t.Errorf("%s: fcgi offsets out of order: %+v", k, f)
		}
		if e.ExNumArgs != e.ExThis+12 || e.ZvalSize != 16 || e.CallArgs%e.ZvalSize != 0 || e.StringVal <= e.StringLen {
			t.Errorf("%s: zval/execute_data offsets implausible: %+v", k, e)
		}
		if e.OpArrayLineStart <= e.OpArrayFilename || tb.InternalModule != tb.InternalHandler+8 || tb.ClassTable != tb.FunctionTable+8 {
			t.Errorf("%s: op_array/internal function/globals offsets implausible: %+v %+v", k, e, tb)
		}
		if tb.BucketKey >= tb.BucketSize || o.SAPIGlobals.ResponseCode <= o.SAPIGlobals.RequestURI {
			t.Errorf("%s: %+v %+v", k, tb, o.SAPIGlobals)
		}
	}
}
