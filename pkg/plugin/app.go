package plugin

import (
	"context"
	"fmt"
	"sync"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/backend/instancemgmt"

	"github.com/tusk-php/tusk/pkg/fleet"
)

// App is the app plugin's backend: the fleet and probe-control resources
// its pages call, and a health check of every agent.
type App struct {
	backend.CallResourceHandler
	fleet    *fleet.Fleet
	versions sync.Map
}

var (
	_ backend.CallResourceHandler   = (*App)(nil)
	_ backend.CheckHealthHandler    = (*App)(nil)
	_ instancemgmt.InstanceDisposer = (*App)(nil)
)

// NewApp makes the app's instance from its settings.
func NewApp(_ context.Context, s backend.AppInstanceSettings) (instancemgmt.Instance, error) {
	f, err := fleet.Parse(s.JSONData, s.DecryptedSecureJSONData)
	if err != nil {
		return nil, fmt.Errorf("app settings: %w", err)
	}
	return &App{CallResourceHandler: newResources(f, true), fleet: f}, nil
}

// Dispose is called when new settings replace this instance.
func (a *App) Dispose() {}

// CheckHealth reaches every agent with its token and reports each one.
func (a *App) CheckHealth(ctx context.Context, _ *backend.CheckHealthRequest) (*backend.CheckHealthResult, error) {
	return checkFleet(ctx, a.fleet, &a.versions), nil
}
