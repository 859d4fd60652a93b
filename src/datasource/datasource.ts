import type { CoreApp, DataSourceInstanceSettings, ScopedVars } from '@grafana/data';
import { DataSourceWithBackend, getTemplateSrv } from '@grafana/runtime';
import { queryTypeOf, resolveTraceId } from './query';
import { DEFAULT_QUERY, type TuskDataSourceOptions, type TuskQuery } from './types';

const INTERPOLATED_FIELDS = [
  'traceId',
  'service',
  'pool',
  'method',
  'path',
  'endpoint',
  'function',
  'file',
  'query',
] as const;

export class DataSource extends DataSourceWithBackend<TuskQuery, TuskDataSourceOptions> {
  readonly agentNames: string[];

  constructor(instanceSettings: DataSourceInstanceSettings<TuskDataSourceOptions>) {
    super(instanceSettings);
    this.agentNames = (instanceSettings.jsonData.agents ?? []).map((agent) => agent.name);
  }

  /** A new query in Explore or a panel: the 20 newest requests, which is what a first look wants. */
  getDefaultQuery(_app: CoreApp): Partial<TuskQuery> {
    return { ...DEFAULT_QUERY };
  }

  /**
   * A trace query without an id would only come back as an error. A query that resolveTraceId makes a trace
   * query (a search whose path is a pasted trace id, a link from Loki carrying `query`) counts as one with its id.
   */
  // Grafana calls this before applyTemplateVariables, so "$traceId" of an empty dashboard variable must be
  // replaced here to be seen as empty: a trace query without an id would only come back as an error.
  filterQuery(query: TuskQuery): boolean {
    const traceId = query.traceId === undefined ? undefined : getTemplateSrv().replace(query.traceId);
    const resolved = resolveTraceId({ ...query, traceId });
    return queryTypeOf(resolved) !== 'trace' || Boolean(resolved.traceId?.trim());
  }

  /** Template variables replaced, then trace ids read the way the editor reads them (query.ts resolveTraceId). */
  applyTemplateVariables(query: TuskQuery, scopedVars: ScopedVars): TuskQuery {
    const templateSrv = getTemplateSrv();
    const interpolated: TuskQuery = { ...query };
    for (const field of INTERPOLATED_FIELDS) {
      const value = query[field];
      if (value !== undefined) {
        interpolated[field] = templateSrv.replace(value, scopedVars);
      }
    }
    const resolved = resolveTraceId(interpolated);
    return { ...resolved, queryType: queryTypeOf(resolved) };
  }
}
