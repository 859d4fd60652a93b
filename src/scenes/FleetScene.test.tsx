import React from 'react';
import { of, throwError } from 'rxjs';
import { act, render, screen } from '@testing-library/react';
import { EmbeddedScene, SceneTimeRange } from '@grafana/scenes';
import { goldenFleet } from '../testing/golden';
import { FleetScene, type FleetViewComponentProps } from './FleetScene';

const fetchMock = jest.fn();

jest.mock('@grafana/runtime', () => ({
  ...jest.requireActual('@grafana/runtime'),
  getBackendSrv: () => ({ fetch: fetchMock }),
}));

function CountView({ load }: FleetViewComponentProps) {
  return (
    <p>
      {load.loading ? 'loading' : 'loaded'}: {load.fleet?.agents.length ?? 'no'} agents
      {load.error && `, error ${load.error}`}
    </p>
  );
}

function setup() {
  const timeRange = new SceneTimeRange({ from: 'now-1h', to: 'now' });
  const scene = new EmbeddedScene({ $timeRange: timeRange, body: new FleetScene({ view: CountView }) });
  render(<scene.Component model={scene} />);
  return timeRange;
}

beforeEach(() => fetchMock.mockReset());

it('asks the fleet again on every refresh of the time range', async () => {
  fetchMock.mockReturnValue(of({ data: goldenFleet() }));
  const timeRange = setup();
  expect(await screen.findByText('loaded: 1 agents')).toBeInTheDocument();
  expect(fetchMock).toHaveBeenCalledTimes(1);
  act(() => timeRange.onRefresh());
  expect(await screen.findByText('loaded: 1 agents')).toBeInTheDocument();
  expect(fetchMock).toHaveBeenCalledTimes(2);
});

it('keeps the last answer when a refresh fails, and says why', async () => {
  fetchMock.mockReturnValueOnce(of({ data: goldenFleet() }));
  fetchMock.mockReturnValueOnce(throwError(() => ({ status: 502, data: { error: 'plugin unavailable' } })));
  const timeRange = setup();
  expect(await screen.findByText('loaded: 1 agents')).toBeInTheDocument();
  act(() => timeRange.onRefresh());
  expect(await screen.findByText('loaded: 1 agents, error plugin unavailable')).toBeInTheDocument();
});
