import { baselineRange, flameQuery, formatRange, readMs } from './comparison';

const HOUR = 3_600_000;
const range = { from: Date.parse('2026-11-26T10:00:00Z'), to: Date.parse('2026-11-26T11:00:00Z') };

describe('baselineRange', () => {
  it('has none without comparison', () => {
    expect(baselineRange('none', range)).toBeUndefined();
  });

  it('takes the period just before', () => {
    expect(baselineRange('previous', range)).toEqual({ from: range.from - HOUR, to: range.from });
  });

  it('shifts by a day or a week', () => {
    expect(baselineRange('yesterday', range)).toEqual({ from: range.from - 24 * HOUR, to: range.to - 24 * HOUR });
    expect(baselineRange('week', range)).toEqual({ from: range.from - 168 * HOUR, to: range.to - 168 * HOUR });
  });

  it('takes a custom range only once it is a range', () => {
    const custom = { from: 1000, to: 2000 };
    expect(baselineRange('custom', range, custom)).toBe(custom);
    expect(baselineRange('custom', range)).toBeUndefined();
    expect(baselineRange('custom', range, { from: 2000, to: 1000 })).toBeUndefined();
  });
});

describe('flameQuery', () => {
  it('is a flame graph of the shared filters and the endpoint', () => {
    expect(flameQuery()).toEqual({
      refId: 'flame',
      queryType: 'flamegraph',
      service: '${service}',
      pool: '${pool}',
      endpoint: '${endpoint}',
    });
  });

  it('becomes a diff against the baseline, in epoch milliseconds', () => {
    expect(flameQuery({ from: 1000.4, to: 2000 })).toMatchObject({ baselineFrom: 1000, baselineTo: 2000 });
  });
});

it('formats ranges within and across days', () => {
  expect(formatRange(range, 'utc')).toBe('Nov 26, 10:00 – 11:00');
  expect(formatRange({ from: range.from - 12 * HOUR, to: range.to }, 'utc')).toBe('Nov 25, 22:00 – Nov 26, 11:00');
});

it('reads epoch milliseconds', () => {
  expect(readMs('1764151200000')).toBe(1764151200000);
  expect(readMs('now-1h')).toBeUndefined();
  expect(readMs(undefined)).toBeUndefined();
});
