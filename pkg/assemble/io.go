package assemble

import (
	"fmt"
	"math"
	"net"
	"net/url"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/tusk-php/tusk/pkg/events"
	"github.com/tusk-php/tusk/pkg/ioattr"
	"github.com/tusk-php/tusk/pkg/iohooks"
	"github.com/tusk-php/tusk/pkg/profile"
	"github.com/tusk-php/tusk/pkg/trace"
)

// zval types of PHP results (Zend/zend_types.h).
const (
	isUndef  = 0
	isNull   = 1
	isFalse  = 2
	isObject = 8
)

type symbolKey struct {
	func_, name uint64
}

type recentSymbol struct {
	key symbolKey
	sym *knownSymbol // nil: an empty slot
}

func (k symbolKey) slot() uint8 {
	h := (k.func_ ^ k.name>>3) * 0x9e3779b97f4a7c15 // function pointers are 8-aligned: the low bits say little
	return uint8(h >> 56)
}

// symbol is symbols[k].
func (ps *procState) symbol(k symbolKey) *knownSymbol {
	r := &ps.recent[k.slot()]
	if r.sym != nil && r.key == k {
		return r.sym
	}
	s := ps.symbols[k]
	if s != nil {
		*r = recentSymbol{k, s}
	}
	return s
}

// procState is what the assembler knows of one PHP process: the names
// behind the stack walker's pointers, and the objects I/O calls refer to
// (a PDO connection's DSN, a prepared statement's text, a curl handle's URL).
type procState struct {
	symbols map[symbolKey]*knownSymbol
	// recent is a direct-mapped cache in front of symbols: a sample's
	// two dozen frames were as many map lookups.
	recent [256]recentSymbol
	stacks map[stackKey]*callStack
	conns  map[uint64]*dbConn
	stmts  map[uint64]*dbStmt
	curl   map[uint64]*curlHandle
}

type dbConn struct {
	system, namespace, host string
	port                    int
}

type dbStmt struct {
	text string
	conn *dbConn
}

type curlHandle struct {
	url, method string
	multiStart  uint64
	multiStack  *callStack
	multiStatus int     // read while in a multi handle, before its removal
	last        *ioCall // the latest transfer, for a status read after it
}

// maxObjects bounds each per-process map: a script leaking handles must not
// grow the agent without end.
const maxObjects = 4096

func (a *Assembler) proc(pid uint32) *procState {
	ps := a.procs[pid]
	if ps == nil {
		ps = &procState{
			symbols: map[symbolKey]*knownSymbol{},
			stacks:  map[stackKey]*callStack{},
			conns:   map[uint64]*dbConn{},
			stmts:   map[uint64]*dbStmt{},
			curl:    map[uint64]*curlHandle{},
		}
		a.procs[pid] = ps
	}
	return ps
}

func putBounded[V any](m map[uint64]V, k uint64, v V) {
	if _, ok := m[k]; !ok && len(m) >= maxObjects {
		clear(m)
	}
	m[k] = v
}

// ioCall is one I/O call, resolved when its event arrives (the objects it
// refers to may change later) and turned into a span when its request ends.
type ioCall struct {
	hook       iohooks.Hook
	start, end uint64
	system     string
	namespace  string
	host       string
	port       int
	text       string // SQL, or the URL for HTTP
	truncated  bool
	key        string
	method     string
	status     int
	failed     bool
	errType    string
	stack      *callStack
	// multiHandle is the easy handle of a transfer seen through curl_multi.
	multiHandle uint64
}

// knownSymbol is a symbol event's names as frames show them, worked out
// once when it arrives instead of for every frame of every stack.
type knownSymbol struct {
	frame profile.Frame // without a line: that is the frame's own
	// topLevel: a file's top-level code, "include wp-load.php", or
	// "{main}" when it is a stack's outermost such frame.
	topLevel bool
}

// addSymbol keeps a symbol event's names. Resolved stacks are cached only
// when every frame was known, so a new symbol changes none of them; one
// whose names changed (its function's memory reused for another, as
// request-allocated closures are) makes them all be resolved again.
func (ps *procState) addSymbol(sym *events.Symbol) {
	key := symbolKey{sym.Func, sym.Name}
	known := &knownSymbol{frame: profile.Frame{
		Function: validString(sym.Function), Class: validString(sym.Class), File: validString(sym.File),
	}}
	if known.frame.Function == "" && sym.User {
		known.frame.Function = "include " + path.Base(known.frame.File)
		known.topLevel = true
	}
	old := ps.symbols[key]
	if old != nil && *old == *known {
		return
	}
	if old != nil {
		clear(ps.stacks)
	}
	if len(ps.symbols) >= maxSymbolsPerProcess {
		clear(ps.symbols) // the BPF side resends what it meets again only after LRU eviction: rare
		clear(ps.recent[:])
	}
	ps.symbols[key] = known
	if r := &ps.recent[key.slot()]; r.key == key {
		r.sym = known
	}
}

// resolveFrames names the walker's frames, innermost first, and says
// whether it knew them all. A frame whose symbol event was lost is shown as
// such. Top-level code of a file is named as the spans name it
// (functionName): "{main}" for the script, the outermost such frame, and
// "include wp-load.php" for a file it included.
func (ps *procState) resolveFrames(refs []events.FrameRef) (frames []profile.Frame, complete bool) {
	out := make([]profile.Frame, 0, len(refs))
	script := -1
	complete = true
	for _, r := range refs {
		s := ps.symbol(symbolKey{r.Func, r.Name})
		if s == nil {
			out = append(out, profile.Frame{Function: "[unknown]"})
			complete = false
			continue
		}
		f := s.frame
		f.Line = frameLine(r.Line)
		if s.topLevel {
			script = len(out)
		}
		out = append(out, f)
	}
	if script >= 0 {
		out[script].Function = "{main}"
	}
	return out, complete
}

// callStack is an I/O call's stack with what its span shows of it. Every
// WordPress page makes its ~36 SQL calls from the same few dozen stacks, so
// a process's stacks are resolved once and shared (read only) by the calls.
type callStack struct {
	frames   []profile.Frame // innermost first
	trace    string          // stackTrace(frames)
	site     profile.Frame   // callSite(frames)
	hasSite  bool
	siteName string // site.Name()
	siteAt   string // siteString(site)
	// The span attributes of the stack, made valid UTF-8 and boxed once
	// (nil when left out): the calls of a stack share them.
	attrFunction, attrFile, attrLine, attrTrace any
}

// stackKey is a stack as the BPF walker sends it: TUSK_IO_FRAMES frames at
// most, each its func, name and line, after their count. Lines are part of
// it, so two calls from one function at different lines are two stacks.
// Words without padding are hashed as one block of memory; a struct of
// events.FrameRef (padded) was hashed field by field.
type stackKey [1 + 3*ioStackFrames]uint64

const (
	ioStackFrames   = 8    // TUSK_IO_FRAMES, bpf/headers/tusk.h
	maxCachedStacks = 4096 // per process; a full cache is emptied
)

// callStack returns the resolved stack of an I/O call's frames.
func (a *Assembler) callStack(ps *procState, refs []events.FrameRef) *callStack {
	var key stackKey
	cacheable := len(refs) <= ioStackFrames
	if cacheable {
		key[0] = uint64(len(refs))
		for i, r := range refs {
			key[1+3*i], key[2+3*i], key[3+3*i] = r.Func, r.Name, uint64(r.Line)
		}
		if cs := ps.stacks[key]; cs != nil {
			return cs
		}
	}
	frames, complete := ps.resolveFrames(refs)
	cacheable = cacheable && complete
	cs := &callStack{frames: frames}
	if len(cs.frames) > 0 {
		cs.trace = stackTrace(cs.frames)
	}
	if cs.site, cs.hasSite = a.callSite(cs.frames); cs.hasSite {
		cs.siteName, cs.siteAt = cs.site.Name(), siteString(cs.site)
		cs.attrFunction, cs.attrFile = validString(cs.siteName), validString(cs.site.File)
		if cs.site.Line > 0 {
			cs.attrLine = int64(cs.site.Line)
		}
	}
	if cs.trace != "" {
		cs.attrTrace = validString(cs.trace)
	}
	if cacheable {
		if len(ps.stacks) >= maxCachedStacks {
			clear(ps.stacks)
		}
		ps.stacks[key] = cs
	}
	return cs
}

// frameLine is a frame's line as the walker read it from the frame's
// opline, which the PHP process owns: a value no PHP file has (past int32,
// where the profile codec stops) is a forged or stale opline, shown as no
// line rather than stored in a profile that would not decode.
func frameLine(line uint32) int {
	if line > math.MaxInt32 {
		return 0
	}
	return int(line)
}

// subject is the object an I/O call acts on: $this for a method, the first
// object argument for mysqli's procedural forms.
func subject(e *events.IO) uint64 {
	if e.This != 0 {
		return e.This
	}
	for i := 0; i < int(min(e.NumArgs, uint32(len(e.ArgTypes)))); i++ {
		if e.ArgTypes[i] == isObject {
			return e.ArgVals[i]
		}
	}
	return 0
}

// addIO updates the process's objects and returns the call to show, if any.
func (a *Assembler) addIO(p *pending, e *events.IO) {
	h, ok := iohooks.ByName(e.Hook)
	if !ok {
		return
	}
	ps := a.proc(e.PID)
	stack := a.callStack(ps, e.Frames)
	call := &ioCall{hook: h, start: e.Start, end: e.TS, system: string(h.System), stack: stack}
	dbFailed := e.RetType == isUndef || e.RetType == isNull || e.RetType == isFalse

	switch h.Role {
	case iohooks.RoleConnect:
		c := &dbConn{system: string(h.System), host: e.Text, namespace: e.Key}
		if h.System == iohooks.SystemPDO {
			c.system, c.namespace, c.host, c.port = ioattr.ParseDSN(e.Text)
		}
		obj := e.RetObj
		if e.This != 0 {
			obj = e.This
		} else if h.Name == "mysqli_real_connect" {
			obj = subject(e)
		}
		if obj != 0 && h.System != iohooks.SystemRedis && h.System != iohooks.SystemMemcached {
			putBounded(ps.conns, obj, c)
		}
		return // connections are not spans of their own (yet)
	case iohooks.RoleSelectDB:
		if c := ps.conns[subject(e)]; c != nil && e.Key != "" {
			c.namespace = e.Key
		} else if obj := subject(e); obj != 0 {
			putBounded(ps.conns, obj, &dbConn{system: string(h.System), namespace: e.Key})
		}
		return
	case iohooks.RolePrepare:
		st := &dbStmt{text: e.Text}
		if h.Name == "mysqli_stmt_prepare" {
			putBounded(ps.stmts, subject(e), st)
		} else {
			st.conn = ps.conns[subject(e)]
			if e.RetObj != 0 {
				putBounded(ps.stmts, e.RetObj, st)
			}
		}
		return // the statement runs at execute
	case iohooks.RoleQuery:
		call.text = e.Text
		call.truncated = e.TextLen > uint32(len(e.Text))
		call.applyConn(ps.conns[subject(e)])
		call.failed = dbFailed
	case iohooks.RoleExecute:
		st := ps.stmts[subject(e)]
		call.text = e.Text
		if st != nil {
			if call.text == "" {
				call.text = st.text
			}
			call.applyConn(st.conn)
		}
		call.truncated = e.TextLen > uint32(len(call.text))
		call.failed = dbFailed
	case iohooks.RoleCache:
		call.key = e.Key
		call.failed = e.RetType == isUndef || e.RetType == isNull
	case iohooks.RoleHTTPOption:
		hd := ps.curlHandle(e.Args[0])
		switch e.Args[1] {
		case iohooks.CurlOptURL:
			hd.url, hd.last = e.Text, nil // a new transfer: a later status is not the last one's
		case iohooks.CurlOptCustomRequest:
			hd.method = strings.ToUpper(e.Text)
		case iohooks.CurlOptPostFields:
			if hd.method == "" || hd.method == "GET" {
				hd.method = "POST" // the body itself is not kept
			}
		case iohooks.CurlOptHTTPGet:
			hd.method = "GET"
		}
		return
	case iohooks.RoleHTTPPerform:
		// libcurl runs an easy transfer through its multi interface: drop
		// the multi add/remove pair it made inside this call.
		p.io = slices.DeleteFunc(p.io, func(c *ioCall) bool {
			return c.multiHandle == e.Args[0] && c.start >= e.Start
		})
		hd := ps.curlHandle(e.Args[0])
		call.httpFrom(hd)
		if code := int32(e.Ret); code != 0 {
			call.failed, call.errType = true, curlError(code)
		}
		hd.last = call
	case iohooks.RoleHTTPStatus:
		if hd := ps.curl[e.Args[0]]; hd != nil && int32(e.Ret) == 0 {
			switch {
			case hd.multiStart != 0:
				hd.multiStatus = int(int32(e.Deref))
			case hd.last != nil:
				hd.last.status = int(int32(e.Deref))
			}
		}
		return
	case iohooks.RoleHTTPMultiAdd:
		hd := ps.curlHandle(e.Args[1])
		hd.multiStart, hd.multiStack, hd.multiStatus, hd.last = e.TS, stack, 0, nil
		return
	case iohooks.RoleHTTPMultiRemove:
		hd := ps.curlHandle(e.Args[1])
		if hd.multiStart == 0 || hd.multiStart < e.Request {
			return
		}
		call.start, call.stack, call.multiHandle = hd.multiStart, hd.multiStack, e.Args[1]
		call.httpFrom(hd)
		call.status = hd.multiStatus
		hd.multiStart, hd.last = 0, call
	case iohooks.RoleHTTPStream:
		call.text, call.method = e.Text, "GET"
		call.failed = e.Ret == 0 // no stream: refused, 4xx/5xx without ignore_errors, timeout
	default:
		return
	}
	if len(p.io) >= a.opts.MaxIOSpans {
		p.ioOverflow++
		return
	}
	if p.io == nil {
		p.io = make([]*ioCall, 0, 16) // grown from 1, a page's ~36 calls took 7 allocations
	}
	p.io = append(p.io, call)
}

func (ps *procState) curlHandle(h uint64) *curlHandle {
	hd := ps.curl[h]
	if hd == nil {
		hd = &curlHandle{}
		putBounded(ps.curl, h, hd)
	}
	return hd
}

func (c *ioCall) applyConn(conn *dbConn) {
	if conn == nil {
		if c.system == string(iohooks.SystemPDO) {
			c.system = "" // a PDO connection opened before the agent attached: driver unknown
		}
		return
	}
	c.system, c.namespace, c.host, c.port = conn.system, conn.namespace, conn.host, conn.port
}

func (c *ioCall) httpFrom(hd *curlHandle) {
	c.text = hd.url
	c.method = hd.method
	if c.method == "" {
		c.method = "GET"
	}
}

// curlErrors names the CURLcode values PHP applications meet most.
var curlErrors = map[int32]string{
	1: "CURLE_UNSUPPORTED_PROTOCOL", 3: "CURLE_URL_MALFORMAT", 5: "CURLE_COULDNT_RESOLVE_PROXY",
	6: "CURLE_COULDNT_RESOLVE_HOST", 7: "CURLE_COULDNT_CONNECT", 22: "CURLE_HTTP_RETURNED_ERROR",
	28: "CURLE_OPERATION_TIMEDOUT", 35: "CURLE_SSL_CONNECT_ERROR", 47: "CURLE_TOO_MANY_REDIRECTS",
	52: "CURLE_GOT_NOTHING", 55: "CURLE_SEND_ERROR", 56: "CURLE_RECV_ERROR", 60: "CURLE_PEER_FAILED_VERIFICATION",
}

func curlError(code int32) string {
	if s, ok := curlErrors[code]; ok {
		return s
	}
	return "CURLE_" + strconv.Itoa(int(code))
}

// wrapperPrefixes are classes and functions of database and HTTP layers: the
// call site shown is the first frame outside them, where the application
// asked (WordPress's wpdb::query is the nearest frame of every query).
var wrapperPrefixes = []string{
	"wpdb::", "WP_Http", "WpOrg\\Requests\\", "Requests", "wp_remote_", "_wp_http_",
	"Doctrine\\DBAL\\", "Doctrine\\ORM\\", "Illuminate\\Database\\", "Illuminate\\Http\\Client\\",
	"Drupal\\Core\\Database\\", "Drupal\\mysql\\", "GuzzleHttp\\", "Symfony\\Component\\HttpClient\\",
	"Predis\\", "Laminas\\Db\\", "Cake\\Database\\", "yii\\db\\", "CI_DB", "PDO::", "PDOStatement::", "mysqli",
}

func (a *Assembler) isWrapper(f profile.Frame) bool {
	name := f.Name()
	for _, list := range [][]string{wrapperPrefixes, a.opts.Wrappers} {
		for _, p := range list {
			if strings.HasPrefix(name, p) {
				return true
			}
		}
	}
	return strings.Contains(f.File, "/vendor/")
}

// callSite picks the frame to show: the innermost user frame outside the
// wrappers, else the innermost user frame.
func (a *Assembler) callSite(frames []profile.Frame) (profile.Frame, bool) {
	var first *profile.Frame
	for i := range frames {
		f := &frames[i]
		if f.File == "" {
			continue // internal function (mysqli_query itself)
		}
		if first == nil {
			first = f
		}
		if !a.isWrapper(*f) {
			return *f, true
		}
	}
	if first != nil {
		return *first, true
	}
	return profile.Frame{}, false
}

// siteString is "Class::method (file:line)".
func siteString(f profile.Frame) string {
	var b strings.Builder
	writeSite(&b, f)
	return b.String()
}

// writeSite writes siteString(f), or only the name of a frame without a
// file (an internal function), without the copies fmt would make: the
// agent does this for every frame of every I/O call's stack.
func writeSite(b *strings.Builder, f profile.Frame) {
	b.Grow(len(f.Class) + len(f.Function) + len(f.File) + 16)
	if f.Class != "" {
		b.WriteString(f.Class)
		b.WriteString("::")
	}
	b.WriteString(f.Function)
	if f.File == "" {
		return
	}
	b.WriteString(" (")
	b.WriteString(f.File)
	b.WriteByte(':')
	var digits [20]byte
	b.Write(strconv.AppendInt(digits[:0], int64(f.Line), 10))
	b.WriteByte(')')
}

func stackTrace(frames []profile.Frame) string {
	var b strings.Builder
	for i, f := range frames {
		if i > 0 {
			b.WriteByte('\n')
		}
		writeSite(&b, f)
	}
	return b.String()
}

// ioSpanAttributes is how many attributes an I/O span usually gets.
const ioSpanAttributes = 14

// ioSpans turns a request's I/O calls into client spans under parent (the
// request span or the innermost deep-mode span around the call) and flags
// repeated statements. The names and string attributes of the spans are
// made valid UTF-8 here, each from where it came (validTrace skips them);
// the root's attributes set here are left to validTrace.
func (a *Assembler) ioSpans(root *trace.Span, fnSpans []trace.Span, calls []*ioCall) []trace.Span {
	spans := make([]trace.Span, 0, len(calls))
	type group struct {
		shape, site string
		idx         []int
	}
	type groupKey struct{ shape, site string } // neither holds a NUL: they come from C strings
	groups := map[groupKey]*group{}
	for _, c := range calls {
		s := trace.Span{
			SpanID:        a.spanIDs.next(),
			ParentSpanID:  root.SpanID,
			Kind:          trace.KindClient,
			StartUnixNano: a.opts.Clock.Wall(c.start),
			Status:        trace.Status{Code: trace.StatusUnset},
			// A SQL span has about a dozen attributes: sized once, the map
			// does not grow (and copy) twice on the way.
			Attributes: make(trace.Attributes, ioSpanAttributes),
		}
		if c.end > c.start {
			s.DurationNano = int64(c.end - c.start)
		}
		s.ParentSpanID = enclosingSpan(root.SpanID, fnSpans, s.StartUnixNano, s.End().UnixNano())
		cs := c.stack
		if cs.hasSite {
			s.SetAttr(trace.AttrCodeFunction, cs.attrFunction)
			s.SetAttr(trace.AttrCodeFilePath, cs.attrFile)
			if cs.attrLine != nil {
				s.SetAttr(trace.AttrCodeLineNumber, cs.attrLine)
			}
		}
		if cs.attrTrace != nil {
			s.SetAttr(trace.AttrCodeStacktrace, cs.attrTrace)
		}
		switch c.hook.System {
		case iohooks.SystemHTTP:
			a.describeHTTP(&s, c)
		case iohooks.SystemRedis, iohooks.SystemMemcached:
			a.describeCache(&s, c)
		default:
			shape := a.describeSQL(&s, c)
			if shape != "" && cs.hasSite {
				at := cs.siteAt
				k := groupKey{shape, at}
				g := groups[k]
				if g == nil {
					g = &group{shape: shape, site: at}
					groups[k] = g
				}
				g.idx = append(g.idx, len(spans))
			}
		}
		if c.failed && s.Status.Code != trace.StatusError {
			s.Status = trace.Status{Code: trace.StatusError, Message: c.errType}
		}
		if c.errType != "" {
			s.SetAttr(trace.AttrErrorType, validString(c.errType))
		} else if c.failed {
			s.SetAttr(trace.AttrErrorType, "call failed")
		}
		spans = append(spans, s)
	}

	var flagged []*group
	for _, g := range groups {
		for _, i := range g.idx {
			spans[i].SetAttr(trace.AttrRepeatCount, int64(len(g.idx)))
		}
		if len(g.idx) >= a.opts.RepeatThreshold {
			flagged = append(flagged, g)
			for _, i := range g.idx {
				spans[i].SetAttr(trace.AttrNPlusOne, true)
			}
		}
	}
	if len(flagged) > 0 {
		sort.Slice(flagged, func(i, j int) bool {
			if len(flagged[i].idx) != len(flagged[j].idx) {
				return len(flagged[i].idx) > len(flagged[j].idx)
			}
			return flagged[i].shape < flagged[j].shape
		})
		top := flagged[0]
		root.SetAttr(trace.AttrNPlusOneGroups, int64(len(flagged)))
		root.SetAttr(trace.AttrNPlusOneQuery, top.shape)
		root.SetAttr(trace.AttrNPlusOneCount, int64(len(top.idx)))
		root.SetAttr(trace.AttrNPlusOneSite, top.site)
	}
	return spans
}

// enclosingSpan is the innermost deep-mode span around [start, end], or
// the request span.
func enclosingSpan(rootID trace.SpanID, fnSpans []trace.Span, start, end int64) trace.SpanID {
	best, bestDur := rootID, int64(-1)
	for i := range fnSpans {
		f := &fnSpans[i]
		if f.StartUnixNano <= start && f.End().UnixNano() >= end && (bestDur < 0 || f.DurationNano < bestDur) {
			best, bestDur = f.SpanID, f.DurationNano
		}
	}
	return best
}

// sqlFactsCache remembers what ioattr.DescribeSQL said of recent
// statements. Applications run the same statements page after page (a
// WordPress front page: the same 36), and lexing each again was a fifth of
// assembling a page. Keys are whole statements, at most 2047 bytes (what
// BPF copies), so a full cache holds a few MB; it is emptied when full.
type sqlFactsCache struct {
	m map[string]*sqlEntry
	// recent is a direct-mapped cache in front of m, indexed by a
	// statement's length and a few of its bytes: comparing the statement
	// with the one entry there costs less than hashing 0.3–2 KB for the
	// map, which was most of describeSQL.
	recent [64]*sqlEntry
}

// sqlEntry is one statement's facts and what its span shows of them, made
// valid UTF-8 and boxed once: validTrace skips I/O spans, and storing a
// string in an attribute map allocates each time unless it is boxed already.
type sqlEntry struct {
	stmt  string
	facts ioattr.SQLFacts // as DescribeSQL said: statements are grouped by the raw shape
	// The span's view, for maxLen: its name, and its attributes (nil when
	// left out).
	maxLen           int
	name             string
	text             any
	cut              bool
	op, table, shape any
}

const maxCachedSQL = 2048

// entry returns stmt's entry, with its span's view for SQLMaxLength maxLen.
func (c *sqlFactsCache) entry(stmt string, maxLen int) *sqlEntry {
	var r **sqlEntry
	if n := uint(len(stmt)); n > 0 {
		r = &c.recent[(n*0x9e37^uint(stmt[n-1])<<3^uint(stmt[n/2])^uint(stmt[n/3])<<5)%uint(len(c.recent))]
	} else {
		r = &c.recent[0]
	}
	e := *r
	if e == nil || e.stmt != stmt { // content decides; the same string is compared by address first
		e = c.m[stmt]
		if e == nil {
			e = &sqlEntry{stmt: stmt, facts: ioattr.DescribeSQL(stmt), maxLen: -1}
			if c.m == nil || len(c.m) >= maxCachedSQL {
				c.m = make(map[string]*sqlEntry, 64)
				c.recent = [len(c.recent)]*sqlEntry{}
			}
			c.m[stmt] = e
		}
		*r = e
	}
	if e.maxLen != maxLen {
		e.view(maxLen)
	}
	return e
}

// view works out the span's view of e for SQLMaxLength maxLen.
func (e *sqlEntry) view(maxLen int) {
	e.maxLen = maxLen
	op, table := e.facts.Operation, e.facts.Table
	switch {
	case op != "" && table != "":
		e.name = validString(op + " " + table)
	case op != "":
		e.name = validString(op)
	default:
		e.name = "SQL"
	}
	text, cut := ioattr.TruncateSQL(e.stmt, maxLen)
	e.text, e.cut = boxString(text), cut
	e.op, e.table = boxString(op), boxString(table)
	e.shape = validString(e.facts.Shape) // set even when empty
}

// stringBox is the last string boxed as an attribute value: a page's SQL
// calls name the same database, and boxing it for each allocated.
type stringBox struct {
	s string
	v any
}

// box returns s made valid UTF-8, boxed.
func (b *stringBox) box(s string) any {
	if b.v == nil || b.s != s {
		b.s, b.v = s, validString(s)
	}
	return b.v
}

// boxString is s made valid UTF-8 as an attribute value, nil if empty.
func boxString(s string) any {
	if s == "" {
		return nil
	}
	return validString(s)
}

// describeSQL names a SQL span and returns the statement's shape.
func (a *Assembler) describeSQL(s *trace.Span, c *ioCall) string {
	e := a.sql.entry(c.text, a.opts.SQLMaxLength)
	s.Name = e.name
	if c.system != "" {
		s.SetAttr(trace.AttrDBSystem, a.connBoxes.system.box(c.system))
	}
	if c.namespace != "" {
		s.SetAttr(trace.AttrDBNamespace, a.connBoxes.namespace.box(c.namespace))
	}
	if c.host != "" {
		s.SetAttr(trace.AttrServerAddress, a.connBoxes.host.box(c.host))
	}
	if c.port != 0 {
		s.SetAttr(trace.AttrServerPort, int64(c.port))
	}
	if e.text != nil {
		s.SetAttr(trace.AttrDBQueryText, e.text)
	}
	if e.cut || c.truncated {
		s.SetAttr(trace.AttrTextTruncated, true)
	}
	if e.op != nil {
		s.SetAttr(trace.AttrDBOperation, e.op)
	}
	if e.table != nil {
		s.SetAttr(trace.AttrDBCollection, e.table)
	}
	if c.text == "" || c.truncated {
		return "" // the shape of a cut statement is not comparable
	}
	s.SetAttr(trace.AttrQueryShape, e.shape)
	return e.facts.Shape
}

func (a *Assembler) describeHTTP(s *trace.Span, c *ioCall) {
	s.Name = validString(c.method)
	s.SetAttr(trace.AttrHTTPMethod, s.Name)
	if c.text != "" {
		s.SetAttr(trace.AttrURLFull, validString(ioattr.RedactURL(c.text)))
		if u, err := url.Parse(c.text); err == nil && u.Host != "" {
			host, port, err := net.SplitHostPort(u.Host)
			if err != nil {
				host = u.Host
			}
			s.SetAttr(trace.AttrServerAddress, validString(host))
			if n, err := strconv.Atoi(port); err == nil {
				s.SetAttr(trace.AttrServerPort, int64(n))
			}
		}
	}
	if c.status != 0 {
		s.SetAttr(trace.AttrHTTPStatusCode, int64(c.status))
		if c.status >= 400 {
			s.Status = trace.Status{Code: trace.StatusError, Message: fmt.Sprintf("HTTP %d", c.status)}
			if c.errType == "" {
				c.errType = strconv.Itoa(c.status)
			}
		}
	}
}

func (a *Assembler) describeCache(s *trace.Span, c *ioCall) {
	s.Name = validString(c.hook.Command)
	s.SetAttr(trace.AttrDBSystem, validString(c.system))
	s.SetAttr(trace.AttrDBOperation, s.Name)
	if c.key != "" {
		s.SetAttr(trace.AttrDBQueryText, validString(c.hook.Command+" "+c.key))
	} else {
		s.SetAttr(trace.AttrDBQueryText, s.Name)
	}
}
