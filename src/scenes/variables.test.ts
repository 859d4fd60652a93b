import { lastValueFrom, of, throwError } from 'rxjs';
import { EmbeddedScene, SceneFlexLayout, SceneVariableSet } from '@grafana/scenes';
import { waitFor } from '@testing-library/react';
import { newDatasourceVariable, newServiceVariable, TuskOptionsVariable } from './variables';

const fetchMock = jest.fn();
const getListMock = jest.fn();

jest.mock('@grafana/runtime', () => ({
  ...jest.requireActual('@grafana/runtime'),
  getBackendSrv: () => ({ fetch: fetchMock }),
  getDataSourceSrv: () => ({ getList: getListMock }),
}));

const OPTIONS = {
  agents: ['web-1', 'web-2'],
  services: ['checkout', 'shop'],
  pools: ['www'],
  failed: ['web-2: refused'],
};

beforeEach(() => {
  fetchMock.mockReset().mockReturnValue(of({ data: OPTIONS }));
  getListMock.mockReset().mockReturnValue([
    { name: 'Tusk prod', uid: 'prod', type: 'tusk-php-datasource' },
    { name: 'Tusk staging', uid: 'staging', type: 'tusk-php-datasource' },
  ]);
});

describe('TuskOptionsVariable', () => {
  it("offers All ('') then what the data source's agents see, and remembers who did not answer", async () => {
    const variable = new TuskOptionsVariable({
      name: 'service',
      field: 'services',
      datasource: 'prod',
      allLabel: 'All services',
    });
    const options = await lastValueFrom(variable.getValueOptions());
    expect(fetchMock).toHaveBeenCalledWith({
      url: '/api/datasources/uid/prod/resources/options',
      method: 'GET',
      showErrorAlert: false,
    });
    expect(options).toEqual([
      { label: 'All services', value: '' },
      { label: 'checkout', value: 'checkout' },
      { label: 'shop', value: 'shop' },
    ]);
    expect(variable.state.failedAgents).toEqual(['web-2: refused']);
  });

  it('keeps a value no agent sees now, and offers only All when the options cannot be read', async () => {
    fetchMock.mockReturnValue(throwError(() => new Error('502')));
    const variable = new TuskOptionsVariable({ name: 'pool', field: 'pools', datasource: 'prod', value: 'old-pool' });
    expect(await lastValueFrom(variable.getValueOptions())).toEqual([
      { label: 'All', value: '' },
      { label: 'old-pool (not seen now)', value: 'old-pool' },
    ]);
  });

  it('asks the data source the data source variable chose, and again when it changes', async () => {
    const ds = newDatasourceVariable();
    const service = newServiceVariable();
    const scene = new EmbeddedScene({
      $variables: new SceneVariableSet({ variables: [ds, service] }),
      body: new SceneFlexLayout({ children: [] }),
    });
    const deactivate = scene.activate();
    await waitFor(() => expect(service.state.options).toHaveLength(3));
    expect(ds.state.value).toBe('prod');
    expect(fetchMock).toHaveBeenLastCalledWith({
      url: '/api/datasources/uid/prod/resources/options',
      method: 'GET',
      showErrorAlert: false,
    });

    ds.changeValueTo('staging');
    await waitFor(() =>
      expect(fetchMock).toHaveBeenLastCalledWith({
        url: '/api/datasources/uid/staging/resources/options',
        method: 'GET',
        showErrorAlert: false,
      })
    );
    deactivate();
  });
});
