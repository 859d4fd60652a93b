package plugin

import (
	"context"
	"fmt"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/backend/app"
	"github.com/grafana/grafana-plugin-sdk-go/backend/datasource"
	"github.com/grafana/grafana-plugin-sdk-go/backend/instancemgmt"
)

// Plugin ids, as in src/plugin.json and src/datasource/plugin.json.
const (
	AppID        = "tusk-php-app"
	DatasourceID = "tusk-php-datasource"
)

// Router is the one executable's entry point for both plugins: Grafana
// starts gpx_php once for the app and once for the nested datasource, and
// every call says which it is for by the settings it carries.
type Router struct {
	apps        instancemgmt.InstanceManager
	datasources instancemgmt.InstanceManager
}

// NewRouter returns a Router whose instances are made, and remade when
// their settings change, by the SDK's instance managers.
func NewRouter() *Router {
	return &Router{
		apps:        app.NewInstanceManager(NewApp),
		datasources: datasource.NewInstanceManager(NewDatasource),
	}
}

// ServeOpts are the handlers to pass to backend.Manage.
func (r *Router) ServeOpts() backend.ServeOpts {
	return backend.ServeOpts{CheckHealthHandler: r, CallResourceHandler: r, QueryDataHandler: r}
}

func (r *Router) instance(ctx context.Context, pc backend.PluginContext) (instancemgmt.Instance, error) {
	if pc.DataSourceInstanceSettings != nil {
		return r.datasources.Get(ctx, pc)
	}
	if pc.AppInstanceSettings != nil {
		return r.apps.Get(ctx, pc)
	}
	return nil, fmt.Errorf("the call carries neither app nor datasource settings")
}

// QueryData is the datasource's; the app has no queries.
func (r *Router) QueryData(ctx context.Context, req *backend.QueryDataRequest) (*backend.QueryDataResponse, error) {
	inst, err := r.instance(ctx, req.PluginContext)
	if err != nil {
		return nil, err
	}
	ds, ok := inst.(*Datasource)
	if !ok {
		return nil, fmt.Errorf("queries go to the %s datasource, not to the app", DatasourceID)
	}
	return ds.QueryData(ctx, req)
}

// CheckHealth is the app's or the datasource's.
func (r *Router) CheckHealth(ctx context.Context, req *backend.CheckHealthRequest) (*backend.CheckHealthResult, error) {
	inst, err := r.instance(ctx, req.PluginContext)
	if err != nil {
		// Bad settings are the health check's answer, not a failed call.
		return &backend.CheckHealthResult{Status: backend.HealthStatusError, Message: err.Error()}, nil
	}
	return inst.(backend.CheckHealthHandler).CheckHealth(ctx, req)
}

// CallResource is the app's or the datasource's.
func (r *Router) CallResource(ctx context.Context, req *backend.CallResourceRequest, sender backend.CallResourceResponseSender) error {
	inst, err := r.instance(ctx, req.PluginContext)
	if err != nil {
		return sender.Send(&backend.CallResourceResponse{
			Status:  400,
			Headers: map[string][]string{"Content-Type": {"application/json"}},
			Body:    []byte(fmt.Sprintf(`{"error":%q}`, err.Error())),
		})
	}
	return inst.(backend.CallResourceHandler).CallResource(ctx, req, sender)
}
