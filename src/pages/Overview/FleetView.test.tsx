import React from 'react';
import { fireEvent, render, screen, within } from '@testing-library/react';
import { goldenFleet, goldenStatus } from '../../testing/golden';
import type { FleetLoad } from '../../fleet/useFleet';
import { FleetView } from './FleetView';

const reload = jest.fn();
const load = (patch: Partial<FleetLoad>): FleetLoad => ({ loading: false, reload, ...patch });
const NOW = Date.parse(goldenStatus().startedAt) + 60 * 60_000;

it('shows each pool of the recorded agent with its PHP, probe mode and deep-mode availability', () => {
  render(<FleetView load={load({ fleet: goldenFleet() })} nowMs={NOW} />);
  expect(screen.getByRole('heading', { name: 'web-1' })).toBeInTheDocument();
  expect(screen.getByText(/agent dev, up 1h 0m/)).toBeInTheDocument();
  const rows = screen.getAllByRole('row');
  // header + the fixture and upstream pools
  expect(rows).toHaveLength(3);
  const fixture = within(rows[1]);
  // pool and service
  expect(fixture.getAllByText('fixture')).toHaveLength(2);
  expect(fixture.getByText('PHP 8.2.36 fpm')).toBeInTheDocument();
  expect(fixture.getByText('USDT probes')).toBeInTheDocument();
  expect(fixture.getByText('2')).toBeInTheDocument();
  expect(fixture.getByText('unavailable')).toBeInTheDocument();
  expect(within(rows[2]).getAllByText('upstream')).toHaveLength(2);
});

it('shows events, losses and the overhead estimate, saying how it is computed', async () => {
  const fleet = goldenFleet();
  fleet.agents[0].status!.events = { ...fleet.agents[0].status!.events, perSecond: 10_000, lost: 5, total: 995 };
  render(<FleetView load={load({ fleet })} nowMs={NOW} />);
  expect(screen.getByText('10.0k/s')).toBeInTheDocument();
  expect(screen.getByText('5 (0.50 %)')).toBeInTheDocument();
  expect(screen.getByText('Overhead (estimate)')).toBeInTheDocument();
  expect(screen.getByText('≈ 0.70 % of one CPU')).toBeInTheDocument();
  fireEvent.focus(screen.getByLabelText('About Overhead (estimate)'));
  expect(await screen.findByText(/events per second × 0.7 µs/)).toBeInTheDocument();
});

it('shows an agent that does not answer with its error and where to fix it', () => {
  const down = { name: 'web-2', url: 'http://web-2:7070', ok: false, latencyMs: 5000, error: 'connection refused' };
  render(<FleetView load={load({ fleet: goldenFleet([down]) })} nowMs={NOW} />);
  expect(screen.getByText('Agent web-2 does not answer')).toBeInTheDocument();
  expect(screen.getByText('connection refused')).toBeInTheDocument();
  expect(screen.getByRole('link', { name: /configuration/i })).toHaveAttribute('href', '/plugins/tusk-php-app');
});

it('sends to the configuration page when no agent is configured', () => {
  render(<FleetView load={load({ fleet: { agents: [] } })} nowMs={NOW} />);
  expect(screen.getByText('No agents configured')).toBeInTheDocument();
  expect(screen.getByRole('link', { name: /configure agents/i })).toHaveAttribute('href', '/plugins/tusk-php-app');
});

it('says when the fleet cannot be read, with a way to retry', async () => {
  render(<FleetView load={load({ error: 'Bad Gateway' })} nowMs={NOW} />);
  expect(screen.getByText("Could not read the agents' status")).toBeInTheDocument();
  fireEvent.click(screen.getByRole('button', { name: /try again/i }));
  expect(reload).toHaveBeenCalled();
});

it('says it is loading before the first answer', () => {
  render(<FleetView load={load({ loading: true })} nowMs={NOW} />);
  expect(screen.getByText(/asking the agents/i)).toBeInTheDocument();
});
