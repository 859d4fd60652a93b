package trace

import (
	"slices"
	"strings"
)

// resourcePrefixes and resourceKeys are the attribute keys that describe
// the process that served a request rather than the request. The agent
// keeps them on the request span; the OTLP exporter moves them to the
// resource, the trace view shows them as service tags, and a trace read
// back from a trace store gets them back on its request span.
var (
	resourcePrefixes = []string{"service.", "host.", "process.", "k8s.", "container."}
	resourceKeys     = []string{AttrPHPPool, AttrPHPVersion}
)

// IsResourceAttribute tells whether a request span attribute belongs to
// the resource: service.*, host.*, process.*, k8s.*, container.*,
// php.fpm.pool and php.version.
func IsResourceAttribute(key string) bool {
	for _, p := range resourcePrefixes {
		if strings.HasPrefix(key, p) {
			return true
		}
	}
	return slices.Contains(resourceKeys, key)
}
