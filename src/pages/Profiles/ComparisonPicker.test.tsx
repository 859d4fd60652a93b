import React from 'react';
import { render, screen } from '@testing-library/react';
import { ComparisonPicker } from './ComparisonPicker';

const compared = { from: Date.parse('2026-11-26T10:00:00Z'), to: Date.parse('2026-11-26T11:00:00Z') };
const noop = () => {};

it('says which side is the baseline and which the comparison', () => {
  render(
    <ComparisonPicker
      mode="yesterday"
      compared={compared}
      baseline={{ from: compared.from - 86400_000, to: compared.to - 86400_000 }}
      timeZone="utc"
      onModeChange={noop}
      onCustomChange={noop}
    />
  );
  expect(screen.getByText('Baseline')).toBeInTheDocument();
  expect(screen.getByText(/Nov 25, 10:00 – 11:00/)).toBeInTheDocument();
  expect(screen.getByText('Comparison')).toBeInTheDocument();
  expect(screen.getByText(/Nov 26, 10:00 – 11:00 \(the page's time range\)/)).toBeInTheDocument();
  expect(screen.getByText(/Red: the function takes a larger share/)).toBeInTheDocument();
});

it('shows no legend without comparison', () => {
  render(<ComparisonPicker mode="none" compared={compared} onModeChange={noop} onCustomChange={noop} />);
  expect(screen.getByText('Compare with')).toBeInTheDocument();
  expect(screen.queryByText('Baseline')).not.toBeInTheDocument();
});

it('asks for the custom range until one is picked', () => {
  render(<ComparisonPicker mode="custom" compared={compared} onModeChange={noop} onCustomChange={noop} />);
  expect(screen.getByText('Baseline range')).toBeInTheDocument();
  expect(screen.getByText(/Pick the baseline range/)).toBeInTheDocument();
});
