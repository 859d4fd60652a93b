import pluginJson from './plugin.json';

export const PLUGIN_ID = pluginJson.id;
export const DATASOURCE_PLUGIN_ID = 'tusk-php-datasource';
export const FLAME_PANEL_ID = 'tusk-phpflame-panel';

/** Where the app's pages live: /a/<plugin id>. */
export const PLUGIN_BASE_URL = `/a/${PLUGIN_ID}`;

/** The app's configuration page, where agents are added. */
export const CONFIG_URL = `/plugins/${PLUGIN_ID}`;

/** Grafana's page to add a data source of the Tusk type. */
export const NEW_DATASOURCE_URL = `/connections/datasources/new`;

/** Page ids: each is a route under PLUGIN_BASE_URL and an `includes` page in plugin.json. */
export enum ROUTES {
  Overview = 'overview',
  Requests = 'requests',
  Profiles = 'profiles',
  Probes = 'probes',
}

/** The URL of one of the app's pages: prefixRoute(ROUTES.Requests) is /a/tusk-php-app/requests. */
export function prefixRoute(route: string): string {
  return `${PLUGIN_BASE_URL}/${route}`;
}

/** The app backend's resource path (GET fleet, POST agents/x/probes/deep…). */
export function resourceUrl(path: string): string {
  return `/api/plugins/${PLUGIN_ID}/resources/${path}`;
}

/** Names of the scene variables the pages share, as they appear in the URL (var-<name>). */
export const VAR_DATASOURCE = 'ds';
export const VAR_SERVICE = 'service';
export const VAR_POOL = 'pool';
export const VAR_TRACE_ID = 'traceId';
export const VAR_ENDPOINT = 'endpoint';
