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
  errorsOnly?: boolean;
  limit?: number;
  /** Absent: newest. */
  order?: 'newest' | 'slowest';
  maxNodes?: number;
  /** Absent: endpoint (the backend's default). */
  groupBy?: 'endpoint' | 'pool' | 'service' | 'none';
  /** Name of the only agent to ask; absent asks all agents. */
  agent?: string;
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
