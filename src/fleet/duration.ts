// Go durations ("250ms", "1.5s", "1h30m"), which the backend and the agents read (time.ParseDuration).
import { parseGoDuration } from '../shared/goDuration';

/** Milliseconds of a Go duration, or undefined when it is not one or is negative. "0" is 0, as in Go. */
export function parseDuration(text: string): number | undefined {
  const ms = parseGoDuration(text);
  return ms === undefined || ms < 0 ? undefined : ms;
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
