// The Requests page's search filters: their defaults, how they read from and write to the URL, and the search
// query they make. Service and pool are the shared variables; these are the rest of a search.
import type { SceneObjectUrlValues } from '@grafana/scenes';
import type { TuskQuery } from '../../datasource/types';
import { readDurationInput } from '../../fleet/duration';
import { SHARED_FILTERS } from '../../scenes/queries';

export type SearchOrder = 'slowest' | 'newest';

export interface RequestFilterValues {
  /** HTTP method, '' for any. */
  method: string;
  /** Path prefix, '' for any. */
  path: string;
  /** Only requests whose CPU samples contain this PHP function ("Class::method"), hottest first; '' for any. */
  function: string;
  /** HTTP status, undefined for any. */
  status?: number;
  /** Go duration ("250ms"), '' for no minimum. */
  minDuration: string;
  errorsOnly: boolean;
  limit: number;
  order: SearchOrder;
}

export const DEFAULT_FILTERS: RequestFilterValues = {
  method: '',
  path: '',
  function: '',
  status: undefined,
  minDuration: '',
  errorsOnly: false,
  limit: 50,
  order: 'slowest',
};

export const MAX_LIMIT = 5000;
export const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'];

/** URL parameter of each filter. */
export const URL_KEYS = {
  method: 'method',
  path: 'path',
  function: 'function',
  status: 'status',
  minDuration: 'minDuration',
  errorsOnly: 'errorsOnly',
  limit: 'limit',
  order: 'order',
} as const satisfies Record<keyof RequestFilterValues, string>;

export const SEARCH_REF_ID = 'search';

/** The search the table runs. Filters left at "any" are left out of the query. */
export function searchQuery(values: RequestFilterValues): TuskQuery {
  const query: TuskQuery = {
    refId: SEARCH_REF_ID,
    queryType: 'search',
    ...SHARED_FILTERS,
    order: values.order,
    limit: values.limit,
  };
  if (values.method) {
    query.method = values.method;
  }
  if (values.path) {
    query.path = values.path;
  }
  if (values.function) {
    query.function = values.function;
  }
  if (values.status !== undefined) {
    query.status = values.status;
  }
  if (values.minDuration) {
    query.minDuration = values.minDuration;
  }
  if (values.errorsOnly) {
    query.errorsOnly = true;
  }
  return query;
}

/** The URL state of the filters; defaults are left out of the URL. */
export function filtersToUrl(values: RequestFilterValues): SceneObjectUrlValues {
  const differs = <K extends keyof RequestFilterValues>(key: K) => values[key] !== DEFAULT_FILTERS[key];
  return {
    [URL_KEYS.method]: differs('method') ? values.method : null,
    [URL_KEYS.path]: differs('path') ? values.path : null,
    [URL_KEYS.function]: differs('function') ? values.function : null,
    [URL_KEYS.status]: values.status !== undefined ? String(values.status) : null,
    [URL_KEYS.minDuration]: differs('minDuration') ? values.minDuration : null,
    [URL_KEYS.errorsOnly]: values.errorsOnly ? 'true' : null,
    [URL_KEYS.limit]: differs('limit') ? String(values.limit) : null,
    [URL_KEYS.order]: differs('order') ? values.order : null,
  };
}

function urlString(values: SceneObjectUrlValues, key: string): string | undefined {
  const value = values[key];
  const first = Array.isArray(value) ? value[0] : value;
  return typeof first === 'string' ? first : undefined;
}

/**
 * The filters the URL sets, over `current`. A parameter the URL lacks keeps its current value (as variables do), so
 * that leaving and coming back to the page keeps the filters; a value that does not parse is ignored.
 */
export function filtersFromUrl(
  values: SceneObjectUrlValues,
  current: RequestFilterValues
): Partial<RequestFilterValues> {
  const update: Partial<RequestFilterValues> = {};
  const method = urlString(values, URL_KEYS.method);
  if (method !== undefined) {
    update.method = method.toUpperCase();
  }
  const path = urlString(values, URL_KEYS.path);
  if (path !== undefined) {
    update.path = path;
  }
  const fn = urlString(values, URL_KEYS.function);
  if (fn !== undefined) {
    update.function = fn;
  }
  const status = urlString(values, URL_KEYS.status);
  if (status !== undefined) {
    update.status = readStatus(status).value;
  }
  const minDuration = urlString(values, URL_KEYS.minDuration);
  if (minDuration !== undefined) {
    update.minDuration = readDurationInput(minDuration).value ?? '';
  }
  const errorsOnly = urlString(values, URL_KEYS.errorsOnly);
  if (errorsOnly !== undefined) {
    update.errorsOnly = errorsOnly === 'true';
  }
  const limit = urlString(values, URL_KEYS.limit);
  if (limit !== undefined) {
    update.limit = readLimit(limit).value ?? current.limit;
  }
  const order = urlString(values, URL_KEYS.order);
  if (order === 'slowest' || order === 'newest') {
    update.order = order;
  }
  return update;
}

export interface Parsed<T> {
  value?: T;
  error?: string;
}

/** An HTTP status typed in the filter: 100–599, or empty for any. */
export function readStatus(text: string): Parsed<number> {
  const s = text.trim();
  if (!s) {
    return {};
  }
  const n = Number(s);
  if (!Number.isInteger(n) || n < 100 || n > 599) {
    return { error: 'An HTTP status is a number from 100 to 599' };
  }
  return { value: n };
}

export function readLimit(text: string): Parsed<number> {
  const n = Number(text.trim());
  if (!Number.isInteger(n) || n < 1 || n > MAX_LIMIT) {
    return { error: `Show 1 to ${MAX_LIMIT} requests` };
  }
  return { value: n };
}
