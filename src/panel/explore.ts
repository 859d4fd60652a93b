import { type DataQueryRequest, type TimeRange, toURLRange, urlUtil } from '@grafana/data';
import type { DataQuery } from '@grafana/schema';
import type { TuskQuery } from '../datasource/types';

/** src/datasource/plugin.json's id. */
export const TUSK_DATASOURCE = 'tusk-php-datasource';

/** Interpolates dashboard variables, as PanelProps.replaceVariables does. */
export type Interpolate = (value: string) => string;

/**
 * The query behind the panel's flame-graph frame: the request's target with the frame's refId, else its first Tusk
 * flamegraph query, else its first target. Undefined when the panel has no request (yet).
 */
export function flameTarget(request: DataQueryRequest | undefined, refId?: string): TuskQuery | undefined {
  const targets: DataQuery[] = request?.targets ?? [];
  const target =
    targets.find((t) => refId !== undefined && t.refId === refId) ??
    targets.find((t) => t.queryType === 'flamegraph') ??
    targets[0];
  return target as TuskQuery | undefined;
}

/**
 * Whether a flame-graph label names one PHP function that a search query can look for: not the root ("total"), not
 * a runtime frame ("[php-fpm]", "[truncated]").
 */
export function isSearchableFunction(label: string, level: number): boolean {
  return level > 0 && label !== '' && !label.startsWith('[');
}

export interface HotTracesLink {
  /** The query the flame graph came from: its datasource and its service, pool and endpoint filters. */
  target: TuskQuery;
  /** The function's flame-graph label, "Class::method" or "function". */
  fn: string;
  /** The function's PHP file; empty for internal functions. */
  file: string;
  /** The panel's time range; Explore gets it as absolute epoch milliseconds, the window the flame graph shows. */
  range: TimeRange;
  interpolate: Interpolate;
}

/**
 * The Explore URL (path and query, without Grafana's sub-path: add it with locationUtil.assureBaseUrl for an href)
 * of a Tusk search for the requests whose CPU samples contain fn, hottest first, over the panel's time range.
 * Undefined when the target has no Tusk datasource uid to search with.
 */
export function hotTracesUrl({ target, fn, file, range, interpolate }: HotTracesLink): string | undefined {
  const ds = target.datasource;
  const uid = ds?.uid ? interpolate(ds.uid) : '';
  if (!uid || (ds?.type && ds.type !== TUSK_DATASOURCE)) {
    return undefined;
  }
  const query: TuskQuery = {
    refId: 'A',
    datasource: { type: TUSK_DATASOURCE, uid },
    queryType: 'search',
    function: fn,
  };
  if (file) {
    query.file = file;
  }
  for (const key of ['service', 'pool', 'endpoint'] as const) {
    const value = target[key] ? interpolate(target[key]) : '';
    if (value) {
      query[key] = value;
    }
  }
  // Grafana's Explore URL (schemaVersion 1): panes maps a pane id to that pane's datasource, queries and range.
  const panes = { tusk: { datasource: uid, queries: [query], range: toURLRange({ from: range.from, to: range.to }) } };
  return urlUtil.renderUrl('/explore', { schemaVersion: 1, panes: JSON.stringify(panes) });
}
