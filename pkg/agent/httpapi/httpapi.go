// Package httpapi serves the agent's HTTP API (described in
// pkg/agentapi/openapi.yaml) over a Backend: routing, bearer-token auth,
// JSON errors, request limits, panic recovery and request logging. What the
// answers contain is the Backend's business.
package httpapi

import (
	"context"
	"crypto/sha256"
	"log/slog"
	"net/http"

	"github.com/tusk-php/tusk/pkg/agentapi"
	"github.com/tusk-php/tusk/pkg/trace"
)

// Backend is what the agent provides to the API. Errors wrapping
// agentapi.ErrNotFound become 404, agentapi.ErrBadRequest 400, any other 500;
// the error text is sent to the (authenticated) caller either way.
type Backend interface {
	Search(ctx context.Context, q trace.Query) ([]trace.Summary, error)
	// Trace returns an error matching agentapi.ErrNotFound when id is unknown.
	Trace(ctx context.Context, id trace.TraceID) (*trace.Trace, error)
	Status(ctx context.Context) (*agentapi.Status, error)
	DeepModes(ctx context.Context) ([]agentapi.DeepMode, error)
	// EnableDeepMode wraps agentapi.ErrBadRequest around validation errors.
	EnableDeepMode(ctx context.Context, req agentapi.DeepModeRequest) (*agentapi.DeepMode, error)
	// DisableDeepMode returns an error matching agentapi.ErrNotFound for an
	// unknown id.
	DisableDeepMode(ctx context.Context, id string) error
	// RED counts requests, errors and durations per step for dashboards;
	// q comes with WithDefaults applied and valid. An empty answer has no
	// series, not a nil response.
	RED(ctx context.Context, q agentapi.REDQuery) (*agentapi.REDResponse, error)
}

// Options configures New.
type Options struct {
	Backend Backend
	// Token is the bearer token every route but /healthz requires. Empty
	// refuses every protected request: the agent runs privileged, so a
	// missing token must not mean an open API.
	Token string
	// Metrics serves GET /metrics (behind the token); nil answers 404.
	Metrics http.Handler
	// Logger receives one debug line per request and the errors; nil
	// discards.
	Logger *slog.Logger
	// Profiles serves the /api/v1/profiles routes and a trace's profile;
	// nil uses Backend when it implements ProfileBackend, else those
	// routes answer 404.
	Profiles ProfileBackend
}

type server struct {
	backend   Backend
	profiles  ProfileBackend
	metrics   http.Handler
	log       *slog.Logger
	tokenHash [sha256.Size]byte
	hasToken  bool
}

// New returns the API handler. It sets no timeouts: the http.Server that
// serves it should set ReadHeaderTimeout and friends.
func New(opts Options) http.Handler {
	if opts.Backend == nil {
		panic("httpapi.New: Options.Backend is nil")
	}
	s := &server{
		backend:  opts.Backend,
		metrics:  opts.Metrics,
		log:      opts.Logger,
		hasToken: opts.Token != "",
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.profiles = opts.Profiles
	if pb, ok := opts.Backend.(ProfileBackend); ok && s.profiles == nil {
		s.profiles = pb
	}
	if s.hasToken {
		s.tokenHash = sha256.Sum256([]byte(opts.Token))
	} else {
		s.log.Warn("agent API has no token configured: every request but /healthz will be refused")
	}

	mux := http.NewServeMux()
	public := map[string]bool{}
	for _, rt := range s.routes() {
		h := http.Handler(rt.handler)
		if rt.public {
			public[rt.path] = true
		} else {
			h = s.requireToken(h)
		}
		mux.Handle(rt.method+" "+rt.path, h)
	}
	var h http.Handler = s.withJSONFallback(mux, public)
	h = limitBody(h, agentapi.MaxRequestBytes)
	return s.observe(h)
}
