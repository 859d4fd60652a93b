import type { DataSourceJsonData } from '@grafana/data';
import type { DataQuery } from '@grafana/schema';
import type { AgentsJsonData, AgentTokens } from '../shared/agents';

export type TuskQueryType = 'search' | 'trace' | 'flamegraph' | 'metrics';

/** The query JSON the Go backend reads; absent fields do not filter. */
export interface TuskQuery extends DataQuery {
  queryType: TuskQueryType;
  /** trace; flamegraph of one trace */
  traceId?: string;
  service?: string;
  pool?: string;
  method?: string;
  /** Path prefix. */
  path?: string;
  /** "GET /cart": flamegraph and metrics filter. */
  endpoint?: string;
  status?: number;
  /** Go duration, e.g. "100ms". */
  minDuration?: string;
  /** Go duration, e.g. "2s". */
  maxDuration?: string;
  errorsOnly?: boolean;
  limit?: number;
  /** Absent: newest. */
  order?: 'newest' | 'slowest';
  maxNodes?: number;
  /**
   * search: only requests whose CPU samples contain this PHP function ("Class::method" or "function", as the flame
   * graph labels it), hottest first. The flame panel's "traces where this is hot" link sets it.
   */
  function?: string;
  /** With function: the function's file, to tell apart functions of one name in different files. */
  file?: string;
  /**
   * flamegraph: compare with this baseline range (epoch milliseconds). The frame then is a diff flame graph as
   * @grafana/flamegraph reads it: value/self = the baseline alone, valueRight/selfRight = the query's own range
   * (the library sizes a bar as value + valueRight).
   */
  baselineFrom?: number;
  baselineTo?: number;
  /** metrics: which series; absent means all. */
  metrics?: Array<'requests' | 'errors' | 'p50' | 'p95' | 'p99'>;
  /** Absent: endpoint (the backend's default). */
  groupBy?: 'endpoint' | 'pool' | 'service' | 'none';
  /** Name of the only agent to ask; absent asks all agents. */
  agent?: string;
  /**
   * Not written by this editor: other data sources' links to a tracing data source send the trace id here (Loki's
   * derived fields send `{ query: "${__value.raw}" }`). datasource.ts turns such a query into a trace query.
   */
  query?: string;
}

export const DEFAULT_QUERY: Partial<TuskQuery> = {
  queryType: 'search',
  limit: 20,
};

/** Where search and trace queries read from (pkg/plugin/tracestore.go). */
export type TraceSource = 'agents' | 'jaeger' | 'tempo';

export interface TraceStoreSettings {
  /** Absent: agents. */
  traceSource?: TraceSource;
  traceStore?: { url?: string; user?: string; tenantId?: string };
}

export interface TraceStoreSecrets {
  'traceStore.token'?: string;
  'traceStore.password'?: string;
}

export interface TuskDataSourceOptions extends DataSourceJsonData, AgentsJsonData, TraceStoreSettings {}

export type TuskSecureJsonData = AgentTokens & TraceStoreSecrets;
