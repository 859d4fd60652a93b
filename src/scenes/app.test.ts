import { DataSourceVariable, type SceneAppPage, SceneTimeRange, SceneVariableSet } from '@grafana/scenes';
import pluginJson from '../plugin.json';
import { buildTuskApp, TABS } from './app';
import { TuskOptionsVariable } from './variables';

function container(): SceneAppPage {
  return buildTuskApp().state.pages[0] as SceneAppPage;
}

describe('the app', () => {
  it('is one page whose tabs are the four pages, each at /a/tusk-php-app/<page>', () => {
    const page = container();
    expect(page.state.url).toBe('/a/tusk-php-app');
    expect(page.state.routePath).toBe('*');
    const tabs = page.state.tabs ?? [];
    expect(tabs.map((t) => [t.state.title, t.state.url, t.state.routePath])).toEqual([
      ['Overview', '/a/tusk-php-app/overview', 'overview/*'],
      ['Requests', '/a/tusk-php-app/requests', 'requests/*'],
      ['Profiles', '/a/tusk-php-app/profiles', 'profiles/*'],
      ['Probes', '/a/tusk-php-app/probes', 'probes/*'],
    ]);
  });

  it('holds the time range and the shared variables on the page, so the tabs share them', () => {
    const page = container();
    expect(page.state.$timeRange).toBeInstanceOf(SceneTimeRange);
    expect(page.state.$timeRange?.state).toMatchObject({ from: 'now-1h', to: 'now' });
    const variables = page.state.$variables as SceneVariableSet;
    const [ds, service, pool] = variables.state.variables;
    expect(ds).toBeInstanceOf(DataSourceVariable);
    expect(ds.state).toMatchObject({ name: 'ds', pluginId: 'tusk-php-datasource' });
    expect(service).toBeInstanceOf(TuskOptionsVariable);
    expect(service.state).toMatchObject({ name: 'service', field: 'services', datasource: '${ds}', value: '' });
    expect(pool.state).toMatchObject({ name: 'pool', field: 'pools', datasource: '${ds}', value: '' });
  });

  it('lists every tab as a nav page of plugin.json', () => {
    const pages = pluginJson.includes.filter((include) => include.type === 'page');
    for (const tab of TABS) {
      expect(pages).toContainEqual(
        expect.objectContaining({ name: tab.title, path: `/a/%PLUGIN_ID%/${tab.route}`, addToNav: true })
      );
    }
  });

  it('builds every tab scene', () => {
    for (const tab of TABS) {
      expect(tab.build().state.body).toBeDefined();
    }
  });
});
