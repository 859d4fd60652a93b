import { type DataFrame, LoadingState, type PanelData } from '@grafana/data';
import { checkFields, getMessageCheckFieldsResult } from '@grafana/flamegraph';
import type { TuskQuery } from '../datasource/types';
import type { Interpolate } from './explore';

/** What the panel shows for its data: a flame graph, or a message saying what to do. */
export type FlameState =
  | { kind: 'waiting' }
  | { kind: 'error'; messages: string[] }
  | { kind: 'message'; title: string; text: string }
  | { kind: 'frame'; frame: DataFrame };

/** The query types' names as the query editor shows them (src/datasource/components/QueryEditor.tsx). */
const QUERY_TYPE_NAMES: Record<string, string> = {
  search: 'Search',
  trace: 'Trace',
  flamegraph: 'Flame graph',
  metrics: 'Metrics',
};

/** What a flame-graph query covers, in words: "service php-fpm, pool www, endpoint GET /cart". */
export function describeQuery(target: TuskQuery | undefined, interpolate: Interpolate): string {
  const parts: string[] = [];
  for (const key of ['service', 'pool', 'endpoint', 'traceId'] as const) {
    const value = target?.[key] ? interpolate(target[key]) : '';
    if (value) {
      parts.push(`${key === 'traceId' ? 'trace' : key} ${value}`);
    }
  }
  return parts.length > 0 ? parts.join(', ') : 'any PHP service';
}

function rootValue(frame: DataFrame): number {
  const level = frame.fields.find((f) => f.name === 'level')!.values;
  const value = frame.fields.find((f) => f.name === 'value')!.values;
  let total = 0;
  for (let i = 0; i < frame.length; i++) {
    if (level[i] === 0) {
      total += Number(value[i] ?? 0);
    }
  }
  return total;
}

/**
 * Decides what the panel shows: the query errors; the first frame @grafana/flamegraph can read (a nested set with
 * label, level, value and self); or a message for no samples, and for frames of another query type.
 */
export function flameState(data: PanelData, target: TuskQuery | undefined, interpolate: Interpolate): FlameState {
  const errors = data.errors ?? [];
  if (errors.length > 0) {
    return {
      kind: 'error',
      messages: errors.map((e) => e.message || e.data?.message || e.statusText || 'The query failed'),
    };
  }
  const series = data.series.filter((f) => f.fields.length > 0);
  if (series.length === 0 && data.state === LoadingState.Loading) {
    return { kind: 'waiting' };
  }
  const frame = series.find((f) => checkFields(f) === undefined);
  if (!frame && series.length > 0) {
    const wrong = checkFields(series[0])!;
    const queryType = target?.queryType ? (QUERY_TYPE_NAMES[target.queryType] ?? target.queryType) : undefined;
    return {
      kind: 'message',
      title: 'This query does not return a flame graph',
      text:
        `${getMessageCheckFieldsResult(wrong)}. Set the query type to Flame graph` +
        (queryType && queryType !== 'Flame graph' ? ` (it is ${queryType}).` : '.'),
    };
  }
  if (!frame || frame.length === 0 || rootValue(frame) === 0) {
    const scope = describeQuery(target, interpolate);
    return {
      kind: 'message',
      title: 'No CPU samples',
      text: target?.traceId
        ? `No CPU samples for ${scope}: the request may have been too short to be sampled, or its profile expired.`
        : `No CPU samples in this range for ${scope} — widen the time range, or check the agent’s profiler is on: ` +
          '`tusk-agent status --json` shows profiling.enabled and the rate (hz).',
    };
  }
  return { kind: 'frame', frame };
}
