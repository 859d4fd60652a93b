import { minutesToDuration, parseDuration, readDurationInput } from './duration';

describe('parseDuration', () => {
  it.each([
    ['250ms', 250],
    ['1.5s', 1500],
    ['2m', 120_000],
    ['1h30m', 5_400_000],
    ['500us', 0.5],
    ['500µs', 0.5],
    ['100ns', 0.0001],
    ['.5s', 500],
    ['0', 0],
    [' 1ms ', 1],
  ])('reads %s as %d ms', (text, ms) => {
    expect(parseDuration(text)).toBeCloseTo(ms);
  });

  it.each(['', '250', 'ms', '-1s', '1d', '1s 2s', 'abc', '1.2.3s'])('refuses %p', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});

describe('readDurationInput', () => {
  it('takes empty as no filter', () => {
    expect(readDurationInput('  ')).toEqual({});
  });

  it('takes a bare number as milliseconds', () => {
    expect(readDurationInput('250')).toEqual({ value: '250ms' });
  });

  it('keeps a Go duration as typed', () => {
    expect(readDurationInput('1.5s')).toEqual({ value: '1.5s' });
  });

  it('says what to write otherwise', () => {
    expect(readDurationInput('soon').error).toMatch(/250ms/);
  });
});

it('turns minutes into a Go duration', () => {
  expect(minutesToDuration(10)).toBe('10m');
});
