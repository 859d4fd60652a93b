// Package phpoffsets holds the PHP struct offsets the BPF programs need, one
// table per PHP version and architecture. The tables are data generated from
// each version's phpX.Y-dev headers by gen/offsets.c (see gen/gen.sh): BPF
// code never hard-codes a PHP version.
package phpoffsets

import (
	"debug/elf"
	"embed"
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"strings"
	"sync"
)

// SAPIGlobals are offsets in sapi_globals_struct (main/SAPI.h).
type SAPIGlobals struct {
	ServerContext  uint16 `json:"serverContext"`
	RequestMethod  uint16 `json:"requestMethod"`
	QueryString    uint16 `json:"queryString"`
	RequestURI     uint16 `json:"requestURI"`
	PathTranslated uint16 `json:"pathTranslated"`
	ResponseCode   uint16 `json:"responseCode"`
}

// FCGI are offsets in php-fpm's private struct _fcgi_request and
// fcgi_hash_bucket (main/fastcgi.c).
type FCGI struct {
	RequestEnv    uint16 `json:"requestEnv"`
	BucketVarLen  uint16 `json:"bucketVarLen"`
	BucketVar     uint16 `json:"bucketVar"`
	BucketVal     uint16 `json:"bucketVal"`
	BucketNext    uint16 `json:"bucketNext"`
	HashTableSize uint16 `json:"hashTableSize"`
}

// Executor are offsets for walking the PHP call stack from executor_globals
// (Zend/zend_globals.h, zend_compile.h, zend_types.h).
type Executor struct {
	CurrentExecuteData uint16 `json:"currentExecuteData"`
	ExOpline           uint16 `json:"exOpline"`
	ExFunc             uint16 `json:"exFunc"`
	ExThis             uint16 `json:"exThis"`
	ExPrev             uint16 `json:"exPrev"`
	FuncType           uint16 `json:"funcType"`
	FuncName           uint16 `json:"funcName"`
	FuncScope          uint16 `json:"funcScope"`
	OpArrayFilename    uint16 `json:"opArrayFilename"`
	OpArrayLineStart   uint16 `json:"opArrayLineStart"`
	ClassEntryName     uint16 `json:"classEntryName"`
	StringLen          uint16 `json:"stringLen"`
	StringVal          uint16 `json:"stringVal"`
	OpLineno           uint16 `json:"opLineno"`
	// Arguments of a call are zvals that follow its frame (ZEND_CALL_ARG).
	ExNumArgs        uint16 `json:"exNumArgs"`
	CallArgs         uint16 `json:"callArgs"` // ZEND_CALL_FRAME_SLOT * sizeof(zval)
	ZvalSize         uint16 `json:"zvalSize"`
	ZvalType         uint16 `json:"zvalType"`
	ObjectProperties uint16 `json:"objectProperties"` // zend_object.properties_table
}

// Tables are offsets for reading the engine's function and class tables
// (Zend/zend_types.h HashTable/Bucket, zend_compile.h), which the agent walks
// in a worker's memory to find internal functions' C handlers.
type Tables struct {
	FunctionTable uint16 `json:"functionTable"` // executor_globals.function_table (HashTable *)
	ClassTable    uint16 `json:"classTable"`    // executor_globals.class_table (HashTable *)
	// compiler_globals' pointers to the same tables, set from engine start.
	CompilerFunctionTable uint16 `json:"compilerFunctionTable"`
	CompilerClassTable    uint16 `json:"compilerClassTable"`
	HashArData            uint16 `json:"hashArData"`
	HashNumUsed           uint16 `json:"hashNumUsed"`
	BucketSize            uint16 `json:"bucketSize"`
	BucketKey             uint16 `json:"bucketKey"`          // zend_string *; the zval is at 0
	ClassFunctionTable    uint16 `json:"classFunctionTable"` // zend_class_entry.function_table (embedded)
	InternalHandler       uint16 `json:"internalHandler"`    // zend_internal_function.handler
	InternalModule        uint16 `json:"internalModule"`
	ZvalTypePtr           uint8  `json:"zvalTypePtr"`   // IS_PTR
	ZvalTypeUndef         uint8  `json:"zvalTypeUndef"` // IS_UNDEF: a deleted bucket
}

// Offsets is one generated table.
type Offsets struct {
	PHP            string      `json:"php"`            // "8.2"
	HeadersVersion string      `json:"headersVersion"` // the -dev package it came from
	Arch           string      `json:"arch"`           // uname -m: x86_64, aarch64
	SAPIGlobals    SAPIGlobals `json:"sapiGlobals"`
	FCGI           FCGI        `json:"fcgi"`
	Executor       Executor    `json:"executor"`
	Tables         Tables      `json:"tables"`
}

//go:embed data/*.json
var dataFS embed.FS

var (
	loadOnce sync.Once
	tables   map[string]*Offsets
	loadErr  error
)

func key(php, arch string) string { return php + "-" + arch }

func load() {
	tables = map[string]*Offsets{}
	files, err := dataFS.ReadDir("data")
	if err != nil {
		loadErr = err
		return
	}
	for _, f := range files {
		b, err := dataFS.ReadFile(path.Join("data", f.Name()))
		if err != nil {
			loadErr = err
			return
		}
		var o Offsets
		if err := json.Unmarshal(b, &o); err != nil {
			loadErr = fmt.Errorf("phpoffsets: %s: %w", f.Name(), err)
			return
		}
		tables[key(o.PHP, o.Arch)] = &o
	}
}

// ArchOf names an ELF machine the way the tables do (uname -m).
func ArchOf(m elf.Machine) string {
	switch m {
	case elf.EM_X86_64:
		return "x86_64"
	case elf.EM_AARCH64:
		return "aarch64"
	default:
		return strings.ToLower(strings.TrimPrefix(m.String(), "EM_"))
	}
}

// Lookup returns the table for a PHP "major.minor" on an architecture, or an
// error that lists what is supported.
func Lookup(php string, machine elf.Machine) (*Offsets, error) {
	loadOnce.Do(load)
	if loadErr != nil {
		return nil, loadErr
	}
	arch := ArchOf(machine)
	if o, ok := tables[key(php, arch)]; ok {
		return o, nil
	}
	return nil, fmt.Errorf("no struct offsets for PHP %s on %s (supported: %s)", php, arch, strings.Join(Supported(), ", "))
}

// Supported lists the tables as "8.2-x86_64".
func Supported() []string {
	loadOnce.Do(load)
	var out []string
	for k := range tables {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
