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

	// Where the process runs (OpenTelemetry k8s.* and container.* resource
	// attributes), on the request span when known.
	AttrK8sPodName       = "k8s.pod.name"
	AttrK8sPodUID        = "k8s.pod.uid"
	AttrK8sNamespace     = "k8s.namespace.name"
	AttrK8sContainerName = "k8s.container.name"
	AttrK8sNodeName      = "k8s.node.name"
	AttrContainerID      = "container.id"

	AttrPHPPool        = "php.fpm.pool"
	AttrPHPScript      = "php.script"
	AttrPHPVersion     = "php.version"
	AttrPHPProbeMode   = "tusk.probe.mode"
	AttrPHPSelfTime    = "php.self_time_ns"
	AttrPHPDepth       = "php.depth"
	AttrPHPUnfinished  = "php.unfinished"
	AttrTuskLostEvents = "tusk.lost_events"
	// AttrTuskDeepNice is the nice value deep mode ran the request's worker
	// at: on a busy host its spans, which are wall time, include waits for
	// a CPU.
	AttrTuskDeepNice  = "tusk.deep.nice"
	AttrPHPExceptions = "php.exceptions"

	// Client spans (OpenTelemetry database and HTTP client conventions).
	AttrDBSystem       = "db.system.name"
	AttrDBNamespace    = "db.namespace"
	AttrDBQueryText    = "db.query.text"
	AttrDBOperation    = "db.operation.name"
	AttrDBCollection   = "db.collection.name"
	AttrURLFull        = "url.full"
	AttrServerPort     = "server.port"
	AttrErrorType      = "error.type"
	AttrCodeStacktrace = "code.stacktrace"

	// Tusk's findings.
	AttrQueryShape     = "tusk.db.query.shape"       // normalised statement used for repeats
	AttrRepeatCount    = "tusk.db.repeat_count"      // same shape from the same call site in this request
	AttrNPlusOne       = "tusk.n_plus_one"           // on a span: part of a repeated group
	AttrNPlusOneGroups = "tusk.n_plus_one.groups"    // on the request span: groups over the threshold
	AttrNPlusOneQuery  = "tusk.n_plus_one.statement" // the largest group's shape
	AttrNPlusOneCount  = "tusk.n_plus_one.count"     // and how often it ran
	AttrNPlusOneSite   = "tusk.n_plus_one.site"      // its call site
	AttrDroppedIO      = "tusk.dropped_io_spans"
	AttrTextTruncated  = "tusk.db.query.truncated"

	EventException = "exception"
	EventPHPError  = "php.error"
)
