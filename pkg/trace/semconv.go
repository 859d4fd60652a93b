package trace

// Attribute keys, following OpenTelemetry semantic conventions where one
// exists; php.* keys are ours.
const (
	AttrHTTPMethod       = "http.request.method"
	AttrHTTPStatusCode   = "http.response.status_code"
	AttrURLPath          = "url.path"
	AttrURLQuery         = "url.query"
	AttrServerAddress    = "server.address"
	AttrServiceName      = "service.name"
	AttrHostName         = "host.name"
	AttrProcessPID       = "process.pid"
	AttrThreadID         = "thread.id"
	AttrCodeFunction     = "code.function.name"
	AttrCodeFilePath     = "code.file.path"
	AttrCodeLineNumber   = "code.line.number"
	AttrExceptionType    = "exception.type"
	AttrExceptionMessage = "exception.message"
	AttrExceptionEscaped = "exception.escaped"

	AttrPHPPool        = "php.fpm.pool"
	AttrPHPScript      = "php.script"
	AttrPHPVersion     = "php.version"
	AttrPHPProbeMode   = "tusk.probe.mode"
	AttrPHPSelfTime    = "php.self_time_ns"
	AttrPHPDepth       = "php.depth"
	AttrPHPUnfinished  = "php.unfinished"
	AttrTuskLostEvents = "tusk.lost_events"
	AttrPHPExceptions  = "php.exceptions"

	EventException = "exception"
	EventPHPError  = "php.error"
)
