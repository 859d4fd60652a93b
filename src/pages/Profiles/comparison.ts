// The Profiles page's "Compare with" choice: which baseline range a diff flame graph compares the page's range with.
import { dateTimeFormat, type TimeRange } from '@grafana/data';
import { SHARED_FILTERS } from '../../scenes/queries';
import type { TuskQuery } from '../../datasource/types';
import { VAR_ENDPOINT } from '../../constants';

export type CompareMode = 'none' | 'previous' | 'yesterday' | 'week' | 'custom';

export const COMPARE_OPTIONS: Array<{ label: string; value: CompareMode; description: string }> = [
  { label: 'Nothing', value: 'none', description: 'One flame graph of the time range' },
  { label: 'Previous period', value: 'previous', description: 'The same length of time just before' },
  { label: 'Same time yesterday', value: 'yesterday', description: 'The time range 24 hours earlier' },
  { label: '1 week earlier', value: 'week', description: 'The time range 7 days earlier' },
  { label: 'Custom range', value: 'custom', description: 'A time range you pick' },
];

export const COMPARE_MODES = COMPARE_OPTIONS.map((o) => o.value);

const HOUR = 3_600_000;

/** Epoch milliseconds. */
export interface MsRange {
  from: number;
  to: number;
}

/** The baseline range for `mode`, given the page's (compared) range; undefined when there is no comparison. */
export function baselineRange(mode: CompareMode, range: MsRange, custom?: MsRange): MsRange | undefined {
  const shift = (ms: number) => ({ from: range.from - ms, to: range.to - ms });
  switch (mode) {
    case 'previous':
      return shift(range.to - range.from);
    case 'yesterday':
      return shift(24 * HOUR);
    case 'week':
      return shift(7 * 24 * HOUR);
    case 'custom':
      return custom && custom.to > custom.from ? custom : undefined;
    default:
      return undefined;
  }
}

export function msRange(range: TimeRange): MsRange {
  return { from: range.from.valueOf(), to: range.to.valueOf() };
}

export const FLAME_REF_ID = 'flame';

/**
 * The flame graph query for the shared filters and the endpoint variable; with a baseline, a diff flame graph of
 * the baseline (left) against the query's own time range (right).
 */
export function flameQuery(baseline?: MsRange): TuskQuery {
  const query: TuskQuery = {
    refId: FLAME_REF_ID,
    queryType: 'flamegraph',
    ...SHARED_FILTERS,
    endpoint: `\${${VAR_ENDPOINT}}`,
  };
  if (baseline) {
    query.baselineFrom = Math.round(baseline.from);
    query.baselineTo = Math.round(baseline.to);
  }
  return query;
}

/** "Nov 25, 10:00 – 11:00" or, across days, "Nov 25, 23:00 – Nov 26, 01:00", in the given time zone. */
export function formatRange(range: MsRange, timeZone?: string): string {
  const from = dateTimeFormat(range.from, { format: 'MMM D, HH:mm', timeZone });
  const sameDay =
    dateTimeFormat(range.from, { format: 'YYYY-MM-DD', timeZone }) ===
    dateTimeFormat(range.to, { format: 'YYYY-MM-DD', timeZone });
  const to = dateTimeFormat(range.to, { format: sameDay ? 'HH:mm' : 'MMM D, HH:mm', timeZone });
  return `${from} – ${to}`;
}

/** Reads epoch milliseconds from the URL ("1764140400000"). */
export function readMs(text: string | undefined): number | undefined {
  if (!text || !/^\d+$/.test(text)) {
    return undefined;
  }
  return Number(text);
}
