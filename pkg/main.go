// Command gpx_php is the backend of the Tusk Grafana app and of its nested
// tracing datasource (both plugin.json files name this one executable).
package main

import (
	"os"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/backend/log"

	"github.com/tusk-php/tusk/pkg/plugin"
)

func main() {
	// Manage blocks until Grafana stops the process. The id is used for
	// standalone debugging and logs; calls are routed by their settings.
	if err := backend.Manage(plugin.AppID, plugin.NewRouter().ServeOpts()); err != nil {
		log.DefaultLogger.Error(err.Error())
		os.Exit(1)
	}
}
