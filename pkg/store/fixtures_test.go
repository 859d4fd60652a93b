package store

import (
	"database/sql"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/tusk-php/tusk/pkg/trace"
)

// traceMaker builds realistic traces: a server span for the request with
// the attributes the agent sets, ~20 PHP function spans under it, a couple
// of client spans (SQL, HTTP) and, now and then, an exception.
type traceMaker struct {
	rng *rand.Rand
}

func newTraceMaker(seed uint64) *traceMaker {
	return &traceMaker{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

var (
	fixtureServices = []struct{ service, pool string }{
		{"shop", "www"}, {"shop", "api"}, {"blog", "www"}, {"admin", "admin"},
	}
	fixtureMethods = []string{"GET", "GET", "GET", "POST", "PUT", "DELETE"}
	fixturePaths   = []string{
		"/", "/cart", "/cart/add", "/checkout", "/product/42", "/product/4242",
		"/api/v1/orders", "/api/v1/orders/17", "/api/v1/users", "/wp-admin/",
		"/wp-admin/post.php", "/100%_off", "/a_b/c%d", "/search",
	}
	fixtureStatuses  = []int{200, 200, 200, 200, 201, 204, 302, 404, 500, 503}
	fixtureFunctions = []string{
		"App\\Kernel::handle", "App\\Controller\\CartController::add", "Doctrine\\ORM\\EntityManager::flush",
		"Twig\\Environment::render", "App\\Repository\\ProductRepository::find", "PDO::prepare",
		"PDOStatement::execute", "Symfony\\Component\\HttpFoundation\\Request::createFromGlobals",
		"App\\Service\\PriceCalculator::total", "json_encode", "Redis::get", "curl_exec",
	}
)

// make returns a trace starting at start.
func (m *traceMaker) make(start time.Time) *trace.Trace {
	r := m.rng
	svc := fixtureServices[r.IntN(len(fixtureServices))]
	method := fixtureMethods[r.IntN(len(fixtureMethods))]
	path := fixturePaths[r.IntN(len(fixturePaths))]
	status := fixtureStatuses[r.IntN(len(fixtureStatuses))]
	// Durations spread over 1ms..2s, distinct enough that orders are strict.
	duration := time.Duration(r.Int64N(int64(2*time.Second))) + time.Millisecond

	t := &trace.Trace{Summary: trace.Summary{
		TraceID:       m.traceID(),
		Service:       svc.service,
		Pool:          svc.pool,
		Host:          "web-1",
		Method:        method,
		Path:          path,
		StatusCode:    status,
		StartUnixNano: start.UnixNano(),
		DurationNano:  int64(duration),
		Error:         status >= 500,
		Incomplete:    r.IntN(50) == 0,
	}}
	root := trace.Span{
		SpanID: m.spanID(), Name: method + " " + path, Kind: trace.KindServer,
		StartUnixNano: t.StartUnixNano, DurationNano: t.DurationNano,
		Status: trace.Status{Code: trace.StatusOK},
		Attributes: trace.Attributes{
			trace.AttrHTTPMethod:     method,
			trace.AttrHTTPStatusCode: int64(status),
			trace.AttrURLPath:        path,
			trace.AttrURLQuery:       "page=2&sort=price",
			trace.AttrServerAddress:  "shop.example.com",
			trace.AttrServiceName:    svc.service,
			trace.AttrHostName:       "web-1",
			trace.AttrProcessPID:     int64(1000 + r.IntN(30000)),
			trace.AttrPHPPool:        svc.pool,
			trace.AttrPHPScript:      "/var/www/shop/public/index.php",
			trace.AttrPHPVersion:     "8.3.12",
			trace.AttrPHPProbeMode:   "uprobe",
		},
	}
	if t.Error {
		root.Status = trace.Status{Code: trace.StatusError, Message: "Uncaught RuntimeException"}
		root.Events = []trace.Event{{
			Name: trace.EventException, TimeUnixNano: t.StartUnixNano + t.DurationNano/2,
			Attributes: trace.Attributes{
				trace.AttrExceptionType:    "RuntimeException",
				trace.AttrExceptionMessage: "Connection refused [tcp://10.0.0.5:6379]",
				trace.AttrExceptionEscaped: true,
			},
		}}
	}
	t.Spans = append(t.Spans, root)
	children := 18 + r.IntN(5)
	step := t.DurationNano / int64(children+1)
	for i := range children {
		fn := fixtureFunctions[r.IntN(len(fixtureFunctions))]
		s := trace.Span{
			SpanID: m.spanID(), ParentSpanID: root.SpanID, Name: fn, Kind: trace.KindInternal,
			StartUnixNano: t.StartUnixNano + int64(i)*step, DurationNano: step / 2,
			Status: trace.Status{Code: trace.StatusUnset},
			Attributes: trace.Attributes{
				trace.AttrCodeFunction:   fn,
				trace.AttrCodeFilePath:   fmt.Sprintf("/var/www/shop/src/Controller/Part%d.php", r.IntN(40)),
				trace.AttrCodeLineNumber: int64(1 + r.IntN(400)),
				trace.AttrPHPDepth:       int64(1 + r.IntN(12)),
				trace.AttrPHPSelfTime:    step / 4,
			},
		}
		switch fn {
		case "PDOStatement::execute":
			s.Kind = trace.KindClient
			s.SetAttr("db.system.name", "mysql")
			s.SetAttr("db.query.text", "SELECT p.id, p.name, p.price FROM product p WHERE p.id = ?")
		case "curl_exec":
			s.Kind = trace.KindClient
			s.SetAttr("url.full", "https://payments.example.com/v2/charge")
			s.SetAttr("http.response.status_code", int64(200))
		case "App\\Service\\PriceCalculator::total":
			s.SetAttr("app.ratio", 0.25) // a float that is not a whole number
		}
		t.Spans = append(t.Spans, s)
	}
	t.SpanCount = len(t.Spans)
	return t
}

func (m *traceMaker) traceID() (id trace.TraceID) {
	binary.LittleEndian.PutUint64(id[:8], m.rng.Uint64()|1)
	binary.LittleEndian.PutUint64(id[8:], m.rng.Uint64())
	return id
}

func (m *traceMaker) spanID() (id trace.SpanID) {
	binary.LittleEndian.PutUint64(id[:], m.rng.Uint64()|1)
	return id
}

// makeN returns n traces, one per millisecond before end (oldest first).
func (m *traceMaker) makeN(n int, end time.Time) []*trace.Trace {
	out := make([]*trace.Trace, n)
	for i := range out {
		out[i] = m.make(end.Add(-time.Duration(n-i) * time.Millisecond))
	}
	return out
}

// openTestStore opens a store in a fresh directory and closes it with the test.
func openTestStore(t testing.TB, opts Options) *Store {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = testLogger(t)
	}
	s, err := Open(t.TempDir()+"/traces.db", opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// checkIntegrity runs SQLite's full integrity check on the file at path
// through a connection of its own.
func checkIntegrity(t testing.TB, path string) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var result string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&result); err != nil {
		t.Fatalf("integrity_check: %v", err)
	}
	if result != "ok" {
		t.Fatalf("integrity_check: %s", result)
	}
}
