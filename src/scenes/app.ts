// The app's pages: one scenes page whose tabs are Overview, Requests, Profiles and Probes. The tabs share the
// page's time range and variables (data source, service, pool), so switching tabs keeps them, and all of it is in
// the URL. Each tab is also a nav entry of plugin.json, at the same URL.
import { SceneApp, SceneAppPage, type EmbeddedScene, SceneTimeRange } from '@grafana/scenes';
import { PLUGIN_BASE_URL, PLUGIN_ID, prefixRoute, ROUTES } from '../constants';
import { buildOverviewScene } from '../pages/Overview/overviewScene';
import { buildProbesScene } from '../pages/Probes/probesScene';
import { buildProfilesScene } from '../pages/Profiles/profilesScene';
import { buildRequestsScene } from '../pages/Requests/requestsScene';
import { newSharedVariables } from './variables';

export interface TabSpec {
  route: ROUTES;
  title: string;
  icon: 'apps' | 'list-ul' | 'fire' | 'bolt';
  build: () => EmbeddedScene;
}

/** The tabs in their order; the first is also the app's home. */
export const TABS: TabSpec[] = [
  { route: ROUTES.Overview, title: 'Overview', icon: 'apps', build: buildOverviewScene },
  { route: ROUTES.Requests, title: 'Requests', icon: 'list-ul', build: buildRequestsScene },
  { route: ROUTES.Profiles, title: 'Profiles', icon: 'fire', build: buildProfilesScene },
  { route: ROUTES.Probes, title: 'Probes', icon: 'bolt', build: buildProbesScene },
];

export const DEFAULT_TIME_RANGE = { from: 'now-1h', to: 'now' };

export function buildTab({ route, title, icon, build }: TabSpec): SceneAppPage {
  return new SceneAppPage({
    title,
    titleIcon: icon,
    url: prefixRoute(route),
    routePath: `${route}/*`,
    getScene: build,
  });
}

export function buildTuskPage(): SceneAppPage {
  return new SceneAppPage({
    title: 'Tusk',
    subTitle: 'Tusk traces PHP requests with eBPF: requests, flame graphs and probes, with nothing installed in PHP',
    url: PLUGIN_BASE_URL,
    routePath: '*',
    hideFromBreadcrumbs: true,
    $timeRange: new SceneTimeRange(DEFAULT_TIME_RANGE),
    $variables: newSharedVariables(),
    tabs: TABS.map(buildTab),
  });
}

export function buildTuskApp(): SceneApp {
  return new SceneApp({
    name: PLUGIN_ID,
    pages: [buildTuskPage()],
    urlSyncOptions: { updateUrlOnInit: true, createBrowserHistorySteps: true },
  });
}
