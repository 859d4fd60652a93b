package assemble

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tusk-php/tusk/pkg/events"
	"github.com/tusk-php/tusk/pkg/ioattr"
	"github.com/tusk-php/tusk/pkg/iohooks"
	"github.com/tusk-php/tusk/pkg/trace"
)

// Function pointers of a made-up process: the walker's frames point at them.
const (
	fnQuery   = 0x1000 // mysqli_query (internal)
	fnWrapper = 0x2000 // wpdb::query, in wp-includes
	fnLoad    = 0x3000 // load_comments, the application
	fnExec    = 0x4000 // PDOStatement::execute (internal)
	fnPerform = 0x5000
)

func symbols() []events.Event {
	sym := func(f uint64, class, name, file string) *events.Symbol {
		return &events.Symbol{Header: hdr(reqStart), Func: f, Name: f + 1, User: file != "", Function: name, Class: class, File: file}
	}
	return []events.Event{
		sym(fnQuery, "", "mysqli_query", ""),
		sym(fnWrapper, "wpdb", "query", "/srv/wp-includes/class-wpdb.php"),
		sym(fnLoad, "", "load_comments", "/srv/app/comments.php"),
		sym(fnExec, "PDOStatement", "execute", ""),
		sym(fnPerform, "", "curl_exec", ""),
	}
}

func frames(fs ...uint64) []events.FrameRef {
	var out []events.FrameRef
	for i, f := range fs {
		out = append(out, events.FrameRef{Func: f, Name: f + 1, Line: uint32(10 + i)})
	}
	return out
}

// ioCall is a hooked call [from, to) ms into the request.
func ioEvent(hook string, from, to uint64, text string, fs []events.FrameRef) *events.IO {
	return &events.IO{Header: hdr(reqStart + to*ms), Hook: hook, Start: reqStart + from*ms, Text: text,
		TextLen: uint32(len(text)), RetType: 8, Frames: fs}
}

func TestSQLSpansWithCallSiteAndRepeatedQueries(t *testing.T) {
	h := newHarness(t)
	h.add(start())
	h.add(symbols()...)
	conn := ioEvent("mysqli_connect", 0, 1, "127.0.0.1", nil)
	conn.Key, conn.RetObj = "shop", 0xabc
	h.add(conn)
	for i := range 6 {
		q := ioEvent("mysqli_query", uint64(2+i), uint64(3+i), fmt.Sprintf("SELECT * FROM comments WHERE post_id = %d", i+1),
			frames(fnQuery, fnWrapper, fnLoad))
		q.NumArgs, q.ArgTypes[0], q.ArgVals[0] = 2, 8, 0xabc
		h.add(q)
	}
	h.add(end(20*ms, 200))
	h.settle()
	tr := h.only()

	if tr.SpanCount != 7 {
		t.Fatalf("want request + 6 SQL spans, got %d: %v", tr.SpanCount, names(tr))
	}
	s := spanByName(t, tr, "SELECT comments")
	want := map[string]any{
		trace.AttrDBSystem:       "mysql",
		trace.AttrDBNamespace:    "shop",
		trace.AttrDBQueryText:    "SELECT * FROM comments WHERE post_id = 1",
		trace.AttrDBOperation:    "SELECT",
		trace.AttrServerAddress:  "127.0.0.1",
		trace.AttrCodeFunction:   "load_comments", // past the wpdb wrapper
		trace.AttrCodeFilePath:   "/srv/app/comments.php",
		trace.AttrCodeLineNumber: int64(12),
		trace.AttrRepeatCount:    int64(6),
		trace.AttrNPlusOne:       true,
	}
	for k, v := range want {
		if s.Attributes[k] != v {
			t.Errorf("%s = %v, want %v", k, s.Attributes[k], v)
		}
	}
	if s.Kind != trace.KindClient || s.ParentSpanID != tr.Root().SpanID || s.Duration() != time.Duration(ms) {
		t.Errorf("span kind %s parent %s duration %s", s.Kind, s.ParentSpanID, s.Duration())
	}
	root := tr.Root()
	if root.Attributes[trace.AttrNPlusOneCount] != int64(6) || root.Attributes[trace.AttrNPlusOneGroups] != int64(1) {
		t.Errorf("request span N+1 attributes: %v", root.Attributes)
	}
	if shape, _ := root.Attributes[trace.AttrNPlusOneQuery].(string); shape == "" || shape == s.Attributes[trace.AttrDBQueryText] {
		t.Errorf("N+1 statement %q should be the normalised shape", shape)
	}
	if tr.NPlusOne != 1 {
		t.Errorf("summary NPlusOne = %d", tr.NPlusOne)
	}
}

func TestFewRepeatsAreNotFlagged(t *testing.T) {
	h := newHarness(t)
	h.add(start())
	h.add(symbols()...)
	for i := range 4 {
		h.add(ioEvent("mysqli_query", uint64(1+i), uint64(2+i), fmt.Sprintf("SELECT 1 FROM t WHERE id = %d", i), frames(fnQuery, fnLoad)))
	}
	h.add(end(10*ms, 200))
	h.settle()
	if root := h.only().Root(); root.Attributes[trace.AttrNPlusOneGroups] != nil {
		t.Errorf("4 repeats flagged with threshold 5: %v", root.Attributes)
	}
}

func TestPreparedStatementExecutesWithItsText(t *testing.T) {
	h := newHarness(t)
	h.add(start())
	h.add(symbols()...)
	pdo := ioEvent("pdo::__construct", 0, 1, "mysql:host=db.local;port=3307;dbname=shop", nil)
	pdo.This = 0x10
	prep := ioEvent("pdo::prepare", 1, 2, "SELECT title FROM posts WHERE id = ?", nil)
	prep.This, prep.RetObj = 0x10, 0x20
	exec := ioEvent("pdostatement::execute", 3, 5, "", frames(fnExec, fnLoad))
	exec.This, exec.RetType = 0x20, 3 // true
	failed := ioEvent("pdostatement::execute", 6, 7, "", frames(fnExec, fnLoad))
	failed.This, failed.RetType = 0x20, 1 // null: an exception was thrown
	h.add(pdo, prep, exec, failed, end(10*ms, 200))
	h.settle()
	tr := h.only()
	if tr.SpanCount != 3 {
		t.Fatalf("want request + 2 executes (prepare and connect are not spans), got %v", names(tr))
	}
	s := tr.Spans[1]
	if s.Attributes[trace.AttrDBQueryText] != "SELECT title FROM posts WHERE id = ?" || s.Attributes[trace.AttrDBSystem] != "mysql" ||
		s.Attributes[trace.AttrDBNamespace] != "shop" || s.Attributes[trace.AttrServerPort] != int64(3307) {
		t.Errorf("execute span: %v", s.Attributes)
	}
	if s.Status.Code == trace.StatusError || tr.Spans[2].Status.Code != trace.StatusError {
		t.Errorf("statuses: %v / %v", s.Status, tr.Spans[2].Status)
	}
}

func TestCurlTransferWithURLMethodAndStatus(t *testing.T) {
	h := newHarness(t)
	h.add(start())
	h.add(symbols()...)
	opt := func(option uint64, value string) *events.IO {
		e := ioEvent("curl_easy_setopt", 1, 1, value, nil)
		e.Args = [4]uint64{0xc0, option}
		return e
	}
	perform := ioEvent("curl_easy_perform", 2, 9, "", frames(fnPerform, fnLoad))
	perform.Args[0] = 0xc0
	status := ioEvent("curl_easy_getinfo", 10, 10, "", nil)
	status.Args, status.Deref = [4]uint64{0xc0, iohooks.CurlInfoResponseCode}, 404
	refused := ioEvent("curl_easy_perform", 11, 12, "", frames(fnPerform, fnLoad))
	refused.Args[0], refused.Ret = 0xc1, 7
	h.add(opt(iohooks.CurlOptURL, "http://user:pw@api.local:8080/v1/items?token=s3cret&page=2"),
		opt(iohooks.CurlOptCustomRequest, "put"), perform, status, refused, end(20*ms, 200))
	h.settle()
	tr := h.only()
	if tr.SpanCount != 3 {
		t.Fatalf("spans: %v", names(tr))
	}
	s := tr.Spans[1]
	if s.Name != "PUT" || s.Attributes[trace.AttrHTTPStatusCode] != int64(404) || s.Status.Code != trace.StatusError ||
		s.Attributes[trace.AttrServerAddress] != "api.local" || s.Attributes[trace.AttrServerPort] != int64(8080) {
		t.Errorf("transfer span %s %v %v", s.Name, s.Status, s.Attributes)
	}
	u, _ := s.Attributes[trace.AttrURLFull].(string)
	for _, secret := range []string{"pw", "s3cret"} {
		if strings.Contains(u, secret) {
			t.Errorf("url.full %q leaks %q", u, secret)
		}
	}
	if r := tr.Spans[2]; r.Attributes[trace.AttrErrorType] != "CURLE_COULDNT_CONNECT" || r.Status.Code != trace.StatusError {
		t.Errorf("refused transfer: %v %v", r.Status, r.Attributes)
	}
}

func TestCacheCommandSpans(t *testing.T) {
	h := newHarness(t)
	h.add(start())
	h.add(symbols()...)
	get := ioEvent("redis::get", 1, 2, "", frames(fnLoad))
	get.Key, get.RetType = "user:42", 2 // false: a miss, not an error
	h.add(get, end(5*ms, 200))
	h.settle()
	s := h.only().Spans[1]
	if s.Name != "GET" || s.Attributes[trace.AttrDBSystem] != "redis" || s.Attributes[trace.AttrDBQueryText] != "GET user:42" ||
		s.Status.Code == trace.StatusError {
		t.Errorf("redis span %s %v %v", s.Name, s.Status, s.Attributes)
	}
}

// TestSampledTopLevelCodeIsNamedLikeItsSpan: the script's own top-level code
// is "{main}" and a file it included is "include <file>", as the function
// spans name them, so a WordPress flame graph does not stack five "{main}".
func TestSampledTopLevelCodeIsNamedLikeItsSpan(t *testing.T) {
	ps := New(Options{}, func(*trace.Trace) {}).proc(1)
	for _, sym := range []*events.Symbol{
		{Func: 1, Name: 1, User: true, File: "/srv/wp/index.php"},
		{Func: 2, Name: 2, User: true, File: "/srv/wp/wp-blog-header.php"},
		{Func: 3, Name: 3, User: true, File: "/srv/wp/wp-load.php"},
		{Func: 4, Name: 4, User: true, Function: "get_option", File: "/srv/wp/wp-includes/option.php"},
		{Func: 5, Name: 5, Function: "strlen"},
	} {
		ps.addSymbol(sym)
	}
	// Innermost first, as the walker reports them.
	frames, _ := ps.resolveFrames([]events.FrameRef{{Func: 5, Name: 5}, {Func: 4, Name: 4}, {Func: 3, Name: 3}, {Func: 2, Name: 2}, {Func: 1, Name: 1}, {Func: 9, Name: 9}})
	var got []string
	for _, f := range frames {
		got = append(got, f.Function)
	}
	want := []string{"strlen", "get_option", "include wp-load.php", "include wp-blog-header.php", "{main}", "[unknown]"}
	if !slices.Equal(got, want) {
		t.Errorf("frames %q, want %q", got, want)
	}
}

// TestCallStacksFollowLateSymbols: stacks are resolved once per process and
// reused, but a symbol that arrives after a stack was first seen (its event
// was lost, or the BPF side forgot it sent it) renames that stack's frame
// from then on, and so does a symbol whose names changed (its memory reused
// for another function).
func TestCallStacksFollowLateSymbols(t *testing.T) {
	h := newHarness(t)
	h.add(start())
	h.add(symbols()[0], symbols()[1]) // load_comments not known yet
	query := func(from uint64) *events.IO {
		return ioEvent("mysqli_query", from, from+1, "SELECT 1", frames(fnQuery, fnWrapper, fnLoad))
	}
	h.add(query(1), query(3))
	h.add(symbols()[2])
	h.add(query(5), query(7))
	reused := *symbols()[2].(*events.Symbol)
	reused.Function = "load_replies"
	h.add(&reused, query(9))
	h.add(end(20*ms, 200))
	h.settle()
	tr := h.only()

	var stacks []string
	for _, s := range tr.Spans {
		if st, ok := s.Attributes[trace.AttrCodeStacktrace].(string); ok {
			stacks = append(stacks, st)
		}
	}
	before := "mysqli_query\nwpdb::query (/srv/wp-includes/class-wpdb.php:11)\n[unknown]"
	after := "mysqli_query\nwpdb::query (/srv/wp-includes/class-wpdb.php:11)\nload_comments (/srv/app/comments.php:12)"
	renamed := strings.Replace(after, "load_comments", "load_replies", 1)
	if !slices.Equal(stacks, []string{before, before, after, after, renamed}) {
		t.Errorf("stacks:\n%q\nwant two unknown, two named, one renamed:\n%q\n%q\n%q", stacks, before, after, renamed)
	}
	if got := tr.Spans[len(tr.Spans)-2].Attributes[trace.AttrCodeFunction]; got != "load_comments" {
		t.Errorf("call site after the symbol came: %v", got)
	}
	if got := tr.Spans[len(tr.Spans)-1].Attributes[trace.AttrCodeFunction]; got != "load_replies" {
		t.Errorf("call site after the symbol changed: %v", got)
	}
}

// BenchmarkAssembleWordPressPage: what the always-on agent does per
// WordPress front page: 36 SQL calls from a dozen 8-frame stacks, as
// measured there.
func BenchmarkAssembleWordPressPage(b *testing.B) {
	benchAssemble(b, wordPressPage(0))
}

// TestSQLFactsCacheIsBounded: statements with literals make a new key each;
// the cache starts over instead of growing, and answers as DescribeSQL does.
func TestSQLFactsCacheIsBounded(t *testing.T) {
	var c sqlFactsCache
	for i := range 3 * maxCachedSQL {
		stmt := fmt.Sprintf("SELECT * FROM wp_posts WHERE ID = %d", i)
		got := c.entry(stmt, 0).facts
		if want := ioattr.DescribeSQL(stmt); got != want {
			t.Fatalf("%q: %+v, want %+v", stmt, got, want)
		}
		if len(c.m) > maxCachedSQL {
			t.Fatalf("%d statements cached", len(c.m))
		}
	}
	if again := c.entry("SELECT * FROM wp_posts WHERE ID = 1", 0).facts; again.Table != "wp_posts" || again.Operation != "SELECT" {
		t.Errorf("after the cache started over: %+v", again)
	}
}
