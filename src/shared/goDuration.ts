/** Go's time.ParseDuration units in milliseconds (µ is U+00B5, μ U+03BC: Go accepts both). */
const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1e3,
  m: 60e3,
  h: 3600e3,
};

/** One "<number><unit>" term; longer units first so that "ms" is not read as "m" then "s". */
const TERM = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;

/**
 * Milliseconds of a duration as Go's time.ParseDuration reads it ("250ms", "1.5s", "1m30s", "0"), or undefined
 * when Go would reject it. The sign is kept: the caller decides whether a negative duration makes sense.
 */
export function parseGoDuration(text: string): number | undefined {
  let s = text.trim();
  let sign = 1;
  if (s.startsWith('-') || s.startsWith('+')) {
    sign = s.startsWith('-') ? -1 : 1;
    s = s.slice(1);
  }
  if (s === '0') {
    return 0;
  }
  if (s === '') {
    return undefined;
  }
  let total = 0;
  TERM.lastIndex = 0;
  while (TERM.lastIndex < s.length) {
    const match = TERM.exec(s);
    if (!match) {
      return undefined;
    }
    total += parseFloat(match[1]) * UNIT_MS[match[2]];
  }
  return sign * total;
}

/**
 * Why text is not a duration the backend accepts (pkg/plugin/query.go parseDuration: Go syntax, not negative), in
 * words for an inline error; undefined when it is fine or empty (no filter).
 */
export function goDurationError(text: string | undefined): string | undefined {
  const s = text?.trim() ?? '';
  if (s === '') {
    return undefined;
  }
  const ms = parseGoDuration(s);
  if (ms === undefined) {
    return /^[+-]?(\d+(\.\d*)?|\.\d+)$/.test(s)
      ? `Add a unit: ${s}ms, ${s}s or ${s}m`
      : `"${s}" is not a duration: write a number and a unit, e.g. 250ms, 1.5s or 2m`;
  }
  if (ms < 0) {
    return 'A duration cannot be negative';
  }
  return undefined;
}
