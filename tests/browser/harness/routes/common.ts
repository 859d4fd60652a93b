import type { DataQuery } from '@grafana/schema';
import { type DataQueryRequest, type DataSourceApi, type TimeRange, CoreApp, dateMath, dateTime } from '@grafana/data';

/** The route's ?query=<json>, or undefined; a malformed one throws with the reason. */
export function parseQueryParam(search: URLSearchParams): Record<string, unknown> | undefined {
  const raw = search.get('query');
  if (!raw) {
    return undefined;
  }
  const parsed: unknown = JSON.parse(raw);
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new Error('?query must be a JSON object');
  }
  return parsed as Record<string, unknown>;
}

/** ?from & ?to as Grafana reads them: epoch milliseconds or relative ("now-6h"); default the last 6 hours. */
export function parseTimeRange(search: URLSearchParams): TimeRange {
  const rawFrom = search.get('from') ?? 'now-6h';
  const rawTo = search.get('to') ?? 'now';
  const parse = (raw: string, roundUp: boolean) =>
    /^\d+$/.test(raw) ? dateTime(Number(raw)) : (dateMath.toDateTime(raw, { roundUp }) ?? dateTime());
  return { from: parse(rawFrom, false), to: parse(rawTo, true), raw: { from: rawFrom, to: rawTo } };
}

let requestCounter = 0;

export function buildRequest<Q extends DataQuery>(
  datasource: DataSourceApi,
  query: Q,
  range: TimeRange,
  app: CoreApp
): DataQueryRequest<Q> {
  requestCounter++;
  return {
    app,
    requestId: `harness-${app}-${requestCounter}`,
    interval: '1s',
    intervalMs: 1000,
    maxDataPoints: 1000,
    range,
    scopedVars: {},
    targets: [{ ...query, datasource: datasource.getRef() }],
    timezone: 'browser',
    startTime: Date.now(),
  };
}
