package agentapi

// HealthResponse is the answer to GET /healthz.
type HealthResponse struct {
	Status string `json:"status"` // "ok"
}

// DeepModesResponse is the answer to GET /api/v1/probes/deep. It is an object
// rather than a bare list so fields can be added without breaking clients.
type DeepModesResponse struct {
	DeepModes []DeepMode `json:"deepModes"`
}

// MaxRequestBytes bounds the body of any request the agent accepts; a
// DeepModeRequest is a few hundred bytes.
const MaxRequestBytes = 64 << 10
