// Package events is what the BPF programs report, decoded into plain Go.
// It has no BPF dependency, so span assembly can be unit-tested with events
// built by hand.
package events

// Kind says which event a record is; the values are the BPF enum event_kind.
type Kind uint8

const (
	KindRequestStart Kind = 1
	KindRequestEnd   Kind = 2
	KindFunction     Kind = 3
	KindException    Kind = 4
	KindPHPError     Kind = 5
	KindSymbol       Kind = 6
	KindSample       Kind = 7
	KindIO           Kind = 8
)

func (k Kind) String() string {
	switch k {
	case KindRequestStart:
		return "request_start"
	case KindRequestEnd:
		return "request_end"
	case KindFunction:
		return "function"
	case KindException:
		return "exception"
	case KindPHPError:
		return "php_error"
	case KindSymbol:
		return "symbol"
	case KindSample:
		return "sample"
	case KindIO:
		return "io"
	}
	return "unknown"
}

// Header is common to every event. Times are CLOCK_MONOTONIC nanoseconds
// (bpf_ktime_get_ns); the assembler converts them to wall-clock time.
type Header struct {
	TS uint64
	// Request is the monotonic start time of the request on this thread:
	// with TID it identifies the request.
	Request uint64
	PID     uint32
	TID     uint32
}

// Event is one of the types below.
type Event interface {
	Kind() Kind
	Hdr() *Header
}

// RequestStart comes from php:request__startup.
type RequestStart struct {
	Header
	Binary uint32 // index of the PHP binary in the agent's table
	Method string
	Script string // path_translated: the PHP file run
	URI    string // PHP's request_uri (SCRIPT_NAME under php-fpm)
	Query  string // PHP's query_string
	// FastCGI params, empty when absent or not php-fpm.
	RequestURI  string
	Host        string
	TraceParent string
	RequestID   string
}

// RequestEnd comes from php:request__shutdown.
type RequestEnd struct {
	Header
	Status     uint32
	Lost       uint32 // events of this request the ring buffer refused
	Exceptions uint32
	OpenFrames uint32 // function spans closed at shutdown, never returned
}

// Frame flags, the BPF enum frame_flags.
const (
	FrameThrew      uint32 = 1 << 0
	FrameForce      uint32 = 1 << 1
	FrameUnfinished uint32 = 1 << 2
)

// Function is one function call that was slow enough (or threw, or has a
// reported callee) to leave the kernel in deep mode. TS is its end.
type Function struct {
	Header
	Start    uint64
	ChildNs  uint64
	Seq      uint32 // frame id within the request, 1-based
	Parent   uint32 // Seq of the caller; 0: called from the top of the request
	Depth    uint32
	Line     uint32
	Flags    uint32
	Function string
	Class    string
	File     string
}

// Exception comes from php:exception__thrown.
type Exception struct {
	Header
	Frame uint32 // Seq of the frame it was thrown in, 0 if unknown
	Class string
}

// PHPError comes from php:error (warnings, notices, fatal errors).
type PHPError struct {
	Header
	Frame   uint32
	Line    uint32
	Message string
	File    string
}

func (e *RequestStart) Kind() Kind { return KindRequestStart }
func (e *RequestEnd) Kind() Kind   { return KindRequestEnd }
func (e *Function) Kind() Kind     { return KindFunction }
func (e *Exception) Kind() Kind    { return KindException }
func (e *PHPError) Kind() Kind     { return KindPHPError }

func (e *RequestStart) Hdr() *Header { return &e.Header }
func (e *RequestEnd) Hdr() *Header   { return &e.Header }
func (e *Function) Hdr() *Header     { return &e.Header }
func (e *Exception) Hdr() *Header    { return &e.Header }
func (e *PHPError) Hdr() *Header     { return &e.Header }

// FrameRef is a PHP frame as the BPF stack walker reports it: the function
// is known by its zend_function pointer and its name's zend_string pointer in
// the process; a Symbol event carries the names once.
type FrameRef struct {
	Func, Name uint64
	Line       uint32
}

// Symbol gives the names behind a (PID, Func, Name) triple.
type Symbol struct {
	Header
	Func, Name uint64
	User       bool // a PHP-defined function (file and line known)
	LineStart  uint32
	Function   string
	Class      string
	File       string
}

// Sample is one stack sample of a thread serving a request, innermost
// frame first.
type Sample struct {
	Header
	CPU    uint32
	Frames []FrameRef
}

// IO is one hooked I/O call. Hook is the index of the hook in the probes'
// table; what the arguments mean depends on it (pkg/iohooks).
type IO struct {
	Header
	Hook     string // iohooks.Hook.Name
	Start    uint64
	Args     [4]uint64 // raw C arguments
	Ret      uint64    // raw return register
	Deref    uint64
	This     uint64 // PHP: $this, zend_object pointer
	RetObj   uint64 // PHP: object returned
	RetType  uint8  // PHP: zval type of the result (2 false, 3 true, 8 object…)
	NumArgs  uint32
	ArgTypes [6]uint8
	ArgVals  [6]uint64
	Text     string
	TextLen  uint32 // before truncation
	Key      string
	Frames   []FrameRef
}

func (e *Symbol) Kind() Kind   { return KindSymbol }
func (e *Sample) Kind() Kind   { return KindSample }
func (e *IO) Kind() Kind       { return KindIO }
func (e *Symbol) Hdr() *Header { return &e.Header }
func (e *Sample) Hdr() *Header { return &e.Header }
func (e *IO) Hdr() *Header     { return &e.Header }
