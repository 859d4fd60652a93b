import { goDurationError, parseGoDuration } from './goDuration';

describe('parseGoDuration', () => {
  it.each([
    ['250ms', 250],
    ['1.5s', 1500],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['1m30s', 90_000],
    ['1h2m3.5s', 3_723_500],
    ['.5s', 500],
    ['5.s', 5000],
    ['1500us', 1.5],
    ['1500µs', 1.5],
    ['1500μs', 1.5],
    ['2000000ns', 2],
    ['0', 0],
    ['+0', 0],
    [' 100ms ', 100],
    ['-2s', -2000],
  ])('reads %s as Go does', (text, ms) => {
    expect(parseGoDuration(text)).toBeCloseTo(ms);
  });

  it.each(['', '250', '1.5', 'ms', '.s', '1 s', '1S', '2d', '1sec', '1m30', '1h-2m', '--1s', 'abc'])(
    'rejects %p as Go does',
    (text) => {
      expect(parseGoDuration(text)).toBeUndefined();
    }
  );
});

describe('goDurationError', () => {
  it('accepts empty and valid durations', () => {
    expect(goDurationError(undefined)).toBeUndefined();
    expect(goDurationError('  ')).toBeUndefined();
    expect(goDurationError('250ms')).toBeUndefined();
  });

  it('asks for a unit after a bare number', () => {
    expect(goDurationError('250')).toBe('Add a unit: 250ms, 250s or 250m');
  });

  it('says what a duration looks like', () => {
    expect(goDurationError('2 seconds')).toBe(
      '"2 seconds" is not a duration: write a number and a unit, e.g. 250ms, 1.5s or 2m'
    );
  });

  it('refuses negative durations, as the backend does', () => {
    expect(goDurationError('-1s')).toBe('A duration cannot be negative');
  });
});
