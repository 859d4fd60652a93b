// Go durations ("250ms", "1.5s", "1h30m"), which the backend and the agents read (time.ParseDuration).

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

const PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;

/** Milliseconds of a Go duration, or undefined when it is not one. "0" is 0, as in Go. Negative is refused. */
export function parseDuration(text: string): number | undefined {
  const s = text.trim();
  if (s === '0') {
    return 0;
  }
  if (!s) {
    return undefined;
  }
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < s.length) {
    const start = PART.lastIndex;
    const match = PART.exec(s);
    if (!match || match.index !== start) {
      return undefined;
    }
    total += parseFloat(match[1]) * UNIT_MS[match[2]];
  }
  return total;
}

export interface DurationInput {
  /** The Go duration to send; undefined for an empty input. */
  value?: string;
  error?: string;
}

/**
 * Reads a duration typed in a filter: a Go duration, or a bare number taken as milliseconds ("250" is "250ms").
 * Empty means no filter.
 */
export function readDurationInput(text: string): DurationInput {
  const s = text.trim();
  if (!s) {
    return {};
  }
  if (/^\d+(\.\d+)?$/.test(s)) {
    return { value: `${s}ms` };
  }
  if (parseDuration(s) === undefined) {
    return { error: `"${s}" is not a duration: write e.g. 250ms, 1.5s or 2m` };
  }
  return { value: s };
}

/** A whole number of minutes as a Go duration: 90 → "90m". */
export function minutesToDuration(minutes: number): string {
  return `${Math.round(minutes)}m`;
}
