import React from 'react';
import { OrgRole } from '@grafana/data';
import { config } from '@grafana/runtime';
import { act, fireEvent, render, screen } from '@testing-library/react';
import type { DeepMode } from '../../fleet/types';
import { DeepModeList, formatAttached, formatNice } from './DeepModeList';

const NOW = Date.parse('2026-11-26T10:00:00Z');
const MODE: DeepMode = {
  id: 'dm-1',
  pool: 'www',
  threshold: '1ms',
  maxDepth: 64,
  expiresAt: '2026-11-26T10:09:12Z',
  attachedPids: [101, 102],
  nice: 0,
};

it('lists deep modes with their countdown and attached processes', () => {
  render(<DeepModeList modes={[MODE]} nowMs={NOW} onDisable={jest.fn()} />);
  expect(screen.getByText('pool www')).toBeInTheDocument();
  expect(screen.getByText('9m 12s left')).toBeInTheDocument();
  expect(screen.getByText('PIDs 101, 102')).toBeInTheDocument();
});

beforeEach(() => {
  config.bootData.user.orgRole = OrgRole.Editor;
});

it('does not let a Viewer turn one off', () => {
  config.bootData.user.orgRole = OrgRole.Viewer;
  render(<DeepModeList modes={[MODE]} nowMs={NOW} onDisable={jest.fn()} />);
  const button = screen.getByRole('button', { name: /turn off/i });
  expect(button).toHaveAttribute('aria-disabled', 'true'); // Grafana's Button keeps it focusable for its tooltip
  fireEvent.click(button);
  expect(screen.queryByText('Turn deep mode off?')).not.toBeInTheDocument();
});

it('turns one off after confirming', async () => {
  const onDisable = jest.fn().mockResolvedValue(undefined);
  render(<DeepModeList modes={[MODE]} nowMs={NOW} onDisable={onDisable} />);
  fireEvent.click(screen.getByRole('button', { name: /turn off/i }));
  expect(screen.getByText('Turn deep mode off?')).toBeInTheDocument();
  expect(onDisable).not.toHaveBeenCalled();
  await act(async () => fireEvent.click(screen.getAllByRole('button', { name: 'Turn off' }).pop()!));
  expect(onDisable).toHaveBeenCalledWith(MODE);
});

it('says when none is on', () => {
  render(<DeepModeList modes={[]} nowMs={NOW} onDisable={jest.fn()} />);
  expect(screen.getByText(/No deep mode is on/)).toBeInTheDocument();
});

it('shows the CPU priority deep mode gave its processes', () => {
  render(
    <DeepModeList modes={[{ ...MODE, pool: undefined, pids: [101], nice: 10 }]} nowMs={NOW} onDisable={jest.fn()} />
  );
  expect(screen.getByText('nice 10')).toBeInTheDocument();
  expect(formatNice({ nice: 0 })).toBe('unchanged');
  expect(formatNice({})).toBe('unchanged'); // an agent from before the field
  expect(formatNice({ nice: 19, niceError: 'pid 7: setting nice 19: operation not permitted' })).toBe(
    'unchanged: pid 7: setting nice 19: operation not permitted'
  );
});

it('formats attached processes', () => {
  expect(formatAttached(null)).toBe('no process yet');
  expect(formatAttached([7])).toBe('PID 7');
});
