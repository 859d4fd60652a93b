package httpapi

import (
	"net/http"

	"github.com/tusk-php/tusk/pkg/agentapi"
)

// route is one registered operation. The table is the single registration
// point: New serves it, the auth test walks it, and the OpenAPI test checks
// it against openapi.yaml.
type route struct {
	method  string
	path    string // a ServeMux path pattern, {id} wildcards included
	public  bool   // served without a token
	handler http.HandlerFunc
}

func (s *server) routes() []route {
	return []route{
		{http.MethodGet, agentapi.PathHealth, true, s.health},
		{http.MethodGet, agentapi.PathMetrics, false, s.serveMetrics},
		{http.MethodGet, agentapi.PathTraces, false, s.search},
		{http.MethodGet, agentapi.PathTraces + "/{id}", false, s.getTrace},
		{http.MethodGet, agentapi.PathStatus, false, s.status},
		{http.MethodGet, agentapi.PathDeepModes, false, s.listDeepModes},
		{http.MethodPost, agentapi.PathDeepModes, false, s.enableDeepMode},
		{http.MethodDelete, agentapi.PathDeepModes + "/{id}", false, s.disableDeepMode},
		{http.MethodGet, agentapi.PathTraces + "/{id}" + agentapi.PathTraceProfileSuffix, false, s.traceProfile},
		{http.MethodGet, agentapi.PathProfileFlamegraph, false, s.profileFlamegraph},
		{http.MethodGet, agentapi.PathProfileTop, false, s.profileTop},
		{http.MethodGet, agentapi.PathProfilePprof, false, s.profilePprof},
		{http.MethodGet, agentapi.PathProfileTraces, false, s.profileTraces},
		{http.MethodGet, agentapi.PathREDMetrics, false, s.redMetrics},
	}
}
