import React from 'react';
import { act, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { goldenStatus } from '../../testing/golden';
import { DeepModeForm } from './DeepModeForm';
import { deepCapablePools } from './deepModeForm';

function pools() {
  const status = goldenStatus();
  status.binaries = status.binaries!.map((b) => ({ ...b, deepAvailable: true }));
  return deepCapablePools(status);
}

it('confirms the cost, then asks for deep mode on the pool', async () => {
  const onSubmit = jest.fn().mockResolvedValue(undefined);
  render(<DeepModeForm agentName="web-1" pools={pools()} nowMs={0} onSubmit={onSubmit} onCancel={jest.fn()} />);
  fireEvent.change(screen.getByLabelText(/Threshold/), { target: { value: '5ms' } });
  fireEvent.change(screen.getByLabelText(/Duration \(minutes\)/), { target: { value: '30' } });
  fireEvent.click(screen.getByRole('button', { name: /review cost and enable/i }));

  expect(await screen.findByText(/Enable deep mode on pool fixture/)).toBeInTheDocument();
  expect(screen.getByText(/about 0.7 µs of CPU each/)).toBeInTheDocument();
  expect(screen.getByText(/runs about 5–6× slower/)).toBeInTheDocument();
  expect(onSubmit).not.toHaveBeenCalled();

  await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Enable deep mode' })));
  expect(onSubmit).toHaveBeenCalledWith({ pool: 'fixture', threshold: '5ms', for: '30m', maxDepth: 64 });
  await waitFor(() => expect(screen.queryByText(/Enable deep mode on pool fixture/)).not.toBeInTheDocument());
});

it('does not ask before the values are right', () => {
  const onSubmit = jest.fn();
  render(<DeepModeForm agentName="web-1" pools={pools()} nowMs={0} onSubmit={onSubmit} onCancel={jest.fn()} />);
  fireEvent.change(screen.getByLabelText(/Max depth/), { target: { value: '0' } });
  fireEvent.click(screen.getByRole('button', { name: /review cost and enable/i }));
  expect(screen.getByText('1 to 1024')).toBeInTheDocument();
  expect(screen.queryByText(/Enable deep mode on pool/)).not.toBeInTheDocument();
});

it('asks for workers when only some are to be probed', () => {
  render(<DeepModeForm agentName="web-1" pools={pools()} nowMs={0} onSubmit={jest.fn()} onCancel={jest.fn()} />);
  fireEvent.click(screen.getByLabelText('Chosen workers'));
  fireEvent.click(screen.getByRole('button', { name: /review cost and enable/i }));
  expect(screen.getByText('Choose at least one worker')).toBeInTheDocument();
});
