import React from 'react';
import { of, throwError } from 'rxjs';
import { OrgRole } from '@grafana/data';
import { config } from '@grafana/runtime';
import { act, fireEvent, render, screen } from '@testing-library/react';
import { goldenFleet, goldenStatus } from '../../testing/golden';
import type { FleetResponse } from '../../fleet/types';
import type { FleetLoad } from '../../fleet/useFleet';
import { ProbesView } from './ProbesView';

const fetchMock = jest.fn();

jest.mock('@grafana/runtime', () => ({
  ...jest.requireActual('@grafana/runtime'),
  getBackendSrv: () => ({ fetch: fetchMock }),
}));

const NOW = Date.parse(goldenStatus().startedAt) + 60_000;

function deepFleet(): FleetResponse {
  const fleet = goldenFleet();
  const status = fleet.agents[0].status!;
  status.binaries = status.binaries!.map((b) => ({ ...b, deepAvailable: true, deepReason: undefined }));
  return fleet;
}

function renderView(fleet: FleetResponse, reload = jest.fn()) {
  const load: FleetLoad = { fleet, loading: false, reload };
  render(<ProbesView load={load} nowMs={NOW} />);
  return reload;
}

async function enableOnFirstPool() {
  fireEvent.click(screen.getByRole('button', { name: /enable deep mode…/i }));
  fireEvent.click(screen.getByRole('button', { name: /review cost and enable/i }));
  const confirm = await screen.findByRole('button', { name: 'Enable deep mode' });
  await act(async () => fireEvent.click(confirm));
}

beforeEach(() => {
  fetchMock.mockReset();
  config.bootData.user.orgRole = OrgRole.Editor;
});

it('offers a Viewer no deep mode controls, and says who may', () => {
  config.bootData.user.orgRole = OrgRole.Viewer;
  renderView(deepFleet());
  expect(screen.queryByRole('button', { name: /enable deep mode…/i })).not.toBeInTheDocument();
  expect(screen.getByText(/needs the Editor or Admin role/)).toBeInTheDocument();
});

it('shows what the recorded agent attached and why deep mode is unavailable', () => {
  renderView(goldenFleet());
  expect(screen.getByText(/Attached probes: 2 request, \d+ error\/exception, \d+ I\/O/)).toBeInTheDocument();
  expect(screen.getByText(/Requests: USDT probes/)).toBeInTheDocument();
  expect(screen.getByText(/unavailable\. PHP was started without USE_ZEND_DTRACE=1/)).toBeInTheDocument();
  expect(screen.getByText('Deep mode is not available on this agent')).toBeInTheDocument();
  expect(screen.queryByRole('button', { name: /enable deep mode…/i })).not.toBeInTheDocument();
  expect(screen.getByText(/workers \d+, \d+/, { exact: false })).toBeInTheDocument();
});

it('enables deep mode, says so and reloads the status', async () => {
  const granted = {
    id: 'dm-1',
    pool: 'fixture',
    threshold: '1ms',
    maxDepth: 64,
    expiresAt: new Date(NOW + 600_000).toISOString(),
    attachedPids: [],
  };
  fetchMock.mockReturnValue(of({ data: granted, status: 201 }));
  const reload = renderView(deepFleet());
  await enableOnFirstPool();
  expect(fetchMock.mock.calls[0][0]).toMatchObject({
    url: '/api/plugins/tusk-php-app/resources/agents/web-1/probes/deep',
    method: 'POST',
    data: { pool: 'fixture', threshold: '1ms', for: '10m', maxDepth: 64 },
  });
  expect(await screen.findByText('Deep mode is on')).toBeInTheDocument();
  expect(screen.getByText(/Function spans of pool fixture on web-1 until/)).toBeInTheDocument();
  expect(reload).toHaveBeenCalled();
  expect(screen.queryByRole('button', { name: /review cost and enable/i })).not.toBeInTheDocument();
});

it("shows the agent's refusal as an error, keeping the form", async () => {
  fetchMock.mockReturnValue(
    throwError(() => ({ status: 400, data: { error: 'agent web-1: pool "fixture": deep mode is already on' } }))
  );
  renderView(deepFleet());
  await enableOnFirstPool();
  expect(await screen.findByText('Deep mode was not enabled')).toBeInTheDocument();
  expect(screen.getByText('agent web-1: pool "fixture": deep mode is already on')).toBeInTheDocument();
  expect(screen.getByRole('button', { name: /review cost and enable/i })).toBeInTheDocument();
});

it('turns a deep mode off', async () => {
  fetchMock.mockReturnValue(of({ data: undefined, status: 204 }));
  const fleet = deepFleet();
  fleet.agents[0].status!.deepModes = [
    {
      id: 'dm-1',
      pids: [17496],
      threshold: '1ms',
      maxDepth: 64,
      expiresAt: new Date(NOW + 90_000).toISOString(),
      attachedPids: [17496],
    },
  ];
  const reload = renderView(fleet);
  expect(screen.getByText('1m 30s left')).toBeInTheDocument();
  fireEvent.click(screen.getByRole('button', { name: /turn off/i }));
  await act(async () => fireEvent.click(screen.getAllByRole('button', { name: 'Turn off' }).pop()!));
  expect(fetchMock.mock.calls[0][0]).toMatchObject({
    url: '/api/plugins/tusk-php-app/resources/agents/web-1/probes/deep/dm-1',
    method: 'DELETE',
  });
  expect(await screen.findByText('Deep mode is off')).toBeInTheDocument();
  expect(reload).toHaveBeenCalled();
});

it('reloads when a deep mode ran out', () => {
  const fleet = deepFleet();
  fleet.agents[0].status!.deepModes = [
    {
      id: 'old',
      pool: 'fixture',
      threshold: '1ms',
      maxDepth: 64,
      expiresAt: new Date(NOW - 1).toISOString(),
      attachedPids: [],
    },
  ];
  const reload = renderView(fleet);
  expect(reload).toHaveBeenCalledTimes(1);
});

it('shows an agent that does not answer', () => {
  renderView({ agents: [{ name: 'web-2', url: 'http://web-2:7070', ok: false, latencyMs: 1, error: 'timeout' }] });
  expect(screen.getByText('Agent web-2 does not answer')).toBeInTheDocument();
  expect(screen.getByText('timeout')).toBeInTheDocument();
});
