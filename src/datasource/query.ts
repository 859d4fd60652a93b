import { goDurationError, parseGoDuration } from '../shared/goDuration';
import { normalizeTraceId } from './traceId';
import type { TuskQuery, TuskQueryType } from './types';

/** Bounds the backend enforces; change them with the Go constants named. */
export const QUERY_LIMITS = {
  /** pkg/trace/query.go MaxLimit: the most traces one search returns. */
  searchLimit: 5000,
  /** pkg/trace/query.go DefaultLimit, used when limit is absent. */
  defaultSearchLimit: 100,
  /** pkg/agentapi/red.go MaxREDLimit: the most series one metrics query returns. */
  metricsLimit: 500,
  /** pkg/agentapi/red.go DefaultREDLimit, used when limit is absent. */
  defaultMetricsLimit: 20,
  /** pkg/agentapi/profiles.go MaxMaxNodes. */
  maxNodes: 200_000,
  /** pkg/agentapi/profiles.go DefaultMaxNodes, used when maxNodes is absent. */
  defaultMaxNodes: 20_000,
} as const;

export const QUERY_TYPES: readonly TuskQueryType[] = ['search', 'trace', 'flamegraph', 'metrics'];

/**
 * The type of a query. Queries saved before there were several types, or made by the HTTP API, have none; links
 * from other data sources may carry theirs (Loki's derived fields set "traceql" for Tempo): all read as search.
 */
export function queryTypeOf(query: { queryType?: string }): TuskQueryType {
  return QUERY_TYPES.find((type) => type === query.queryType) ?? 'search';
}

/** Text fields of a search where a pasted trace id is taken for a trace query. */
export const SEARCH_TEXT_FIELDS = [
  'service',
  'pool',
  'method',
  'path',
  'minDuration',
  'maxDuration',
  'function',
  'file',
] as const;

/** query turned into the trace query of traceId (already normalized); the other fields stay for switching back. */
export function traceQueryOf(query: TuskQuery, traceId: string): TuskQuery {
  return { ...query, queryType: 'trace', traceId };
}

/**
 * The query the backend should run for query: a search with a trace id in one of its text fields (a trace id
 * pasted into the path in Explore, or a dashboard variable feeding one) becomes the trace query of that id, and a
 * trace id written any way normalizeTraceId reads is sent as 32 hex digits. Anything else is query unchanged.
 */
export function resolveTraceId(query: TuskQuery): TuskQuery {
  const type = queryTypeOf(query);
  // Links from other data sources (Loki's derived fields) send the trace id as `query`.
  const linked = query.query === undefined ? undefined : normalizeTraceId(String(query.query));
  if (linked && !QUERY_TYPES.includes(query.queryType)) {
    const { query: _, ...rest } = query;
    return traceQueryOf(rest, linked);
  }
  if (type === 'search') {
    for (const field of SEARCH_TEXT_FIELDS) {
      const id = normalizeTraceId(query[field] ?? '');
      if (id) {
        return traceQueryOf({ ...query, [field]: undefined }, id);
      }
    }
    return query;
  }
  if ((type === 'trace' || type === 'flamegraph') && query.traceId) {
    const id = normalizeTraceId(query.traceId);
    return id && id !== query.traceId ? { ...query, traceId: id } : query;
  }
  return query;
}

/** Text with a Grafana template variable ($var, ${var}, [[var]]): checked only once interpolated. */
export function hasTemplateVariable(text: string): boolean {
  return /\$\w|\$\{|\[\[/.test(text);
}

/** Why a trace id field's text is wrong, or undefined. */
export function traceIdError(text: string | undefined): string | undefined {
  const s = text?.trim() ?? '';
  if (s === '' || hasTemplateVariable(s) || normalizeTraceId(s)) {
    return undefined;
  }
  return 'Not a trace id: want 32 hex digits (or 16, or a W3C traceparent)';
}

/** Why min/max duration are wrong together (the backend's trace.Query.Validate), or undefined. */
export function durationRangeError(query: Pick<TuskQuery, 'minDuration' | 'maxDuration'>): string | undefined {
  const min = parseGoDuration(query.minDuration ?? '');
  const max = parseGoDuration(query.maxDuration ?? '');
  if (min !== undefined && max !== undefined && max > 0 && max < min) {
    return 'Max duration is below min duration';
  }
  return undefined;
}

/** Why a whole-number field's value is out of the backend's range, or undefined; absent is always fine. */
export function numberError(value: number | undefined, min: number, max: number, what: string): string | undefined {
  if (value === undefined) {
    return undefined;
  }
  if (!Number.isInteger(value) || value < min || value > max) {
    return `${what}: want a whole number from ${min} to ${max}`;
  }
  return undefined;
}

/** The limit bound of a query type, or undefined where limit means nothing. */
export function limitMax(type: TuskQueryType): number | undefined {
  switch (type) {
    case 'search':
      return QUERY_LIMITS.searchLimit;
    case 'metrics':
      return QUERY_LIMITS.metricsLimit;
    default:
      return undefined;
  }
}

/**
 * query switched to type. Fields of other types stay (switching back finds them), but a limit the new type would
 * refuse (a search's 1000 traces is not a valid number of metrics series) is dropped for the backend's default.
 */
export function switchQueryType(query: TuskQuery, type: TuskQueryType): TuskQuery {
  const max = limitMax(type);
  const next: TuskQuery = { ...query, queryType: type };
  if (max !== undefined && next.limit !== undefined && next.limit > max) {
    next.limit = undefined;
  }
  return next;
}

export type CheckedField = 'traceId' | 'minDuration' | 'maxDuration' | 'status' | 'limit' | 'maxNodes';
export type QueryErrors = Partial<Record<CheckedField, string>>;

/**
 * What is wrong with the fields the query's type uses, each in words for an inline error, by the rules the backend
 * applies (pkg/plugin/query.go, pkg/trace/query.go Validate): a query with errors is not worth running.
 */
export function queryErrors(query: TuskQuery): QueryErrors {
  const errors: QueryErrors = {};
  const set = (field: CheckedField, error: string | undefined) => {
    if (error) {
      errors[field] = error;
    }
  };
  const type = queryTypeOf(query);
  switch (type) {
    case 'search':
      set('minDuration', goDurationError(query.minDuration));
      set('maxDuration', goDurationError(query.maxDuration) ?? durationRangeError(query));
      set('status', numberError(query.status, 100, 599, 'HTTP status'));
      set('limit', numberError(query.limit, 1, QUERY_LIMITS.searchLimit, 'Limit'));
      break;
    case 'trace':
      set('traceId', traceIdError(query.traceId));
      break;
    case 'flamegraph':
      set('traceId', traceIdError(query.traceId));
      set('maxNodes', numberError(query.maxNodes, 1, QUERY_LIMITS.maxNodes, 'Max nodes'));
      break;
    case 'metrics':
      set('limit', numberError(query.limit, 1, QUERY_LIMITS.metricsLimit, 'Series'));
      break;
  }
  return errors;
}
