import { useEffect, useState } from 'react';
import type { DataSource } from '../datasource';

/** GET options, the datasource resource of pkg/plugin/resources.go (Options). */
export interface QueryOptions {
  agents: string[];
  services: string[];
  pools: string[];
  /** "agent: why", for agents that did not answer. */
  failed?: string[];
}

export interface QueryOptionsState extends QueryOptions {
  loading: boolean;
  /** Why the options could not be loaded at all; the fields then take typed values only. */
  error?: string;
}

const EMPTY: QueryOptions = { agents: [], services: [], pools: [] };

/** How long one answer serves every editor of a data source (queries A, B, … each mount one). */
const CACHE_MS = 30_000;

const cache = new WeakMap<Pick<DataSource, 'getResource'>, { at: number; options: Promise<QueryOptions> }>();

/** The options resource, asked once per CACHE_MS per data source; a failed answer is not kept. */
export function loadQueryOptions(datasource: Pick<DataSource, 'getResource'>): Promise<QueryOptions> {
  const hit = cache.get(datasource);
  if (hit && Date.now() - hit.at < CACHE_MS) {
    return hit.options;
  }
  const options = datasource.getResource<Partial<QueryOptions>>('options').then((answer) => ({
    agents: answer?.agents ?? [],
    services: answer?.services ?? [],
    pools: answer?.pools ?? [],
    failed: answer?.failed,
  }));
  cache.set(datasource, { at: Date.now(), options });
  options.catch(() => cache.delete(datasource));
  return options;
}

/** Services, pools and agents to offer in the editor's selects, loaded as it mounts. */
export function useQueryOptions(datasource: Pick<DataSource, 'getResource'>): QueryOptionsState {
  const [state, setState] = useState<QueryOptionsState>({ ...EMPTY, loading: true });
  useEffect(() => {
    let current = true;
    loadQueryOptions(datasource).then(
      (options) => current && setState({ ...options, loading: false }),
      (err: unknown) => current && setState({ ...EMPTY, loading: false, error: errorMessage(err) })
    );
    return () => {
      current = false;
    };
  }, [datasource]);
  return state;
}

/** Grafana's fetch rejects with { data: { message } } or { data: { error } } (writeError's JSON); others with an Error. */
function errorMessage(err: unknown): string {
  if (err && typeof err === 'object') {
    const data = (err as { data?: { message?: unknown; error?: unknown } }).data;
    const text = data?.error ?? data?.message ?? (err as { message?: unknown }).message;
    if (typeof text === 'string' && text) {
      return text;
    }
  }
  return String(err);
}
