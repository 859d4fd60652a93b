import type { CoreApp, DataSourceInstanceSettings, ScopedVars } from '@grafana/data';
import { DataSourceWithBackend, getTemplateSrv } from '@grafana/runtime';
import { DEFAULT_QUERY, type TuskDataSourceOptions, type TuskQuery } from './types';

const INTERPOLATED_FIELDS = ['traceId', 'service', 'pool', 'method', 'path', 'endpoint', 'function', 'file'] as const;

export class DataSource extends DataSourceWithBackend<TuskQuery, TuskDataSourceOptions> {
  readonly agentNames: string[];

  constructor(instanceSettings: DataSourceInstanceSettings<TuskDataSourceOptions>) {
    super(instanceSettings);
    this.agentNames = (instanceSettings.jsonData.agents ?? []).map((agent) => agent.name);
  }

  getDefaultQuery(_app: CoreApp): Partial<TuskQuery> {
    return { ...DEFAULT_QUERY };
  }

  // A trace query without an id would only come back as an error.
  filterQuery(query: TuskQuery): boolean {
    return query.queryType !== 'trace' || Boolean(query.traceId?.trim());
  }

  applyTemplateVariables(query: TuskQuery, scopedVars: ScopedVars): TuskQuery {
    const templateSrv = getTemplateSrv();
    const interpolated: TuskQuery = { ...query };
    for (const field of INTERPOLATED_FIELDS) {
      const value = query[field];
      if (value !== undefined) {
        interpolated[field] = templateSrv.replace(value, scopedVars);
      }
    }
    return interpolated;
  }
}
