import React from 'react';
import { render, screen, waitFor } from '@testing-library/react';
import { EmbeddedScene } from '@grafana/scenes';
import { DatasourceNotice, DatasourceProblems } from './DatasourceNotice';
import { newSharedVariables } from './variables';

const getList = jest.fn();

jest.mock('@grafana/runtime', () => ({
  ...jest.requireActual('@grafana/runtime'),
  getDataSourceSrv: () => ({ getList }),
  getBackendSrv: () => ({
    fetch: () => jest.requireActual('rxjs').of({ data: { agents: [], services: [], pools: [] } }),
  }),
}));

it('says to add a data source when there is none', () => {
  render(<DatasourceProblems noDatasource failedAgents={[]} />);
  expect(screen.getByText('No Tusk PHP traces data source yet')).toBeInTheDocument();
  expect(screen.getByRole('link', { name: /add a data source/i })).toHaveAttribute(
    'href',
    '/connections/datasources/new'
  );
});

it('names the agents that do not answer', () => {
  render(<DatasourceProblems noDatasource={false} failedAgents={['web-2: connection refused']} />);
  expect(screen.getByText('web-2: connection refused')).toBeInTheDocument();
});

it('says nothing when all is well', () => {
  const { container } = render(<DatasourceProblems noDatasource={false} failedAgents={[]} />);
  expect(container).toBeEmptyDOMElement();
});

describe('in a scene', () => {
  it('appears once the data source variable found no Tusk data source', async () => {
    getList.mockReturnValue([]);
    const scene = new EmbeddedScene({
      $variables: newSharedVariables(),
      body: new DatasourceNotice({}),
    });
    render(<scene.Component model={scene} />);
    expect(await screen.findByText('No Tusk PHP traces data source yet')).toBeInTheDocument();
  });

  it('stays away while there is one', async () => {
    getList.mockReturnValue([{ name: 'Tusk', uid: 'tusk', type: 'tusk-php-datasource' }]);
    const variables = newSharedVariables();
    const scene = new EmbeddedScene({ $variables: variables, body: new DatasourceNotice({}) });
    render(<scene.Component model={scene} />);
    await waitFor(() => expect(variables.state.variables[0].getValue()).toBe('tusk'));
    expect(screen.queryByText('No Tusk PHP traces data source yet')).not.toBeInTheDocument();
  });
});
