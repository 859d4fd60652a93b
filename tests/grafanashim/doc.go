// Package grafanashim imitates the part of Grafana's HTTP API that the Tusk
// plugin's front end uses, backed by the real plugin executable over
// Grafana's plugin gRPC protocol (package plugingrpc). With it the app's
// pages and the datasource's editors run in a real browser against the real
// backend, without a Grafana server.
//
// What it answers, in Grafana 12/13's shapes (pkg/api of Grafana, and
// @grafana/runtime's DataSourceWithBackend and toDataQueryResponse):
//
//	POST /api/ds/query                              QueryData, queries grouped by datasource uid;
//	                                                HTTP 400 when any query has an error (the body
//	                                                still holds every result), as Grafana does
//	ANY  /api/plugins/tusk-php-app/resources/*      the app's CallResource
//	ANY  /api/datasources/uid/{uid}/resources/*     the datasource's CallResource
//	GET  /api/plugins/tusk-php-app/health           CheckHealth: {status:"OK"|"ERROR"|"UNKNOWN",
//	GET  /api/datasources/uid/{uid}/health          message, details?}, HTTP 400 unless OK
//	GET  /api/plugins/{id}/settings                 {id, type, name, enabled, pinned, jsonData,
//	                                                secureJsonFields} (never a secret's value)
//	POST /api/plugins/tusk-php-app/settings         {enabled, pinned, jsonData, secureJsonData}:
//	                                                jsonData replaced, secureJsonData merged, in memory
//	GET  /api/datasources/uid/{uid}                 the datasource, secureJsonFields only
//	GET  /harness/boot.json                         Boot, below
//	/api/...                                        anything else: 404 {"message": …}
//	anything else                                   a file of Options.StaticDir, or its index.html
//	                                                (client-side routes such as /a/tusk-php-app/requests)
//
// One plugin process serves both plugins, as the executable routes each
// call by the settings it carries (Grafana starts it once per plugin).
//
// # The harness contract: GET /harness/boot.json
//
// The browser harness (tests/browser) reads this to build the
// DataSourceInstanceSettings and the app's meta it boots @grafana/runtime
// with. It is exactly Boot:
//
//	type Boot struct {
//		Datasources []BootDatasource `json:"datasources"`
//		App         BootApp          `json:"app"`
//		BuildInfo   BootBuildInfo    `json:"buildInfo"`
//	}
//	type BootDatasource struct {
//		ID       int64           `json:"id"`       // 1, 2, … in Options.Datasources order
//		UID      string          `json:"uid"`      // "tusk"
//		Name     string          `json:"name"`     // "Tusk"
//		Type     string          `json:"type"`     // "tusk-php-datasource"
//		JSONData json.RawMessage `json:"jsonData"` // as configured; secrets are never here
//		Meta     BootPluginMeta  `json:"meta"`
//	}
//	type BootPluginMeta struct {
//		ID      string `json:"id"`      // "tusk-php-datasource"
//		Type    string `json:"type"`    // "datasource"
//		Name    string `json:"name"`    // "Tusk PHP traces", as in src/datasource/plugin.json
//		Backend bool   `json:"backend"` // true
//	}
//	type BootApp struct {
//		ID       string          `json:"id"`       // "tusk-php-app"
//		JSONData json.RawMessage `json:"jsonData"` // the current settings (after a POST …/settings too)
//	}
//	type BootBuildInfo struct {
//		Version string `json:"version"` // "13.2.2", the @grafana/runtime the plugin builds with
//	}
package grafanashim
