// The Tusk queries the pages' panels run, and the query runners that run them against the chosen data source.
import { type SceneObject, SceneQueryRunner, type SceneStatelessBehavior } from '@grafana/scenes';
import { DATASOURCE_PLUGIN_ID, VAR_DATASOURCE, VAR_POOL, VAR_SERVICE } from '../constants';
import type { TuskQuery } from '../datasource/types';

/** The data source variable's choice: every query of the pages goes there. */
export const TUSK_DATASOURCE = { type: DATASOURCE_PLUGIN_ID, uid: `\${${VAR_DATASOURCE}}` };

/** The service and pool filters of the shared variables ('' is all, which the backend ignores). */
export const SHARED_FILTERS = { service: `\${${VAR_SERVICE}}`, pool: `\${${VAR_POOL}}` } as const;

/** The query as a runner holds it: addressed to the chosen Tusk data source. */
export function withDatasource(query: TuskQuery): TuskQuery {
  return { ...query, datasource: TUSK_DATASOURCE };
}

export function tuskRunner(queries: TuskQuery[], options: { maxDataPoints?: number } = {}): SceneQueryRunner {
  return new SceneQueryRunner({ datasource: TUSK_DATASOURCE, queries: queries.map(withDatasource), ...options });
}

export interface SyncTriggers {
  /** Changes of these set the queries and run them. */
  rerunOn: SceneObject[];
  /**
   * Changes of these only set the queries: for objects the runner itself runs again on (the time range). The runner
   * reads its queries after an await, so it runs the ones set here.
   */
  updateOn?: (scene: SceneObject) => SceneObject[];
}

/**
 * A behavior keeping `runner`'s queries equal to build(): set when the scene activates, and again when a trigger
 * changes. For queries made of state the data source does not interpolate (numbers, booleans, the baseline range).
 */
export function syncQueries(
  runner: SceneQueryRunner,
  build: () => TuskQuery[],
  triggers: SyncTriggers
): SceneStatelessBehavior {
  return (scene) => {
    const apply = (run: boolean) => {
      const queries = build().map(withDatasource);
      if (JSON.stringify(queries) === JSON.stringify(runner.state.queries)) {
        return;
      }
      // An inactive runner with data would not run again on activation: drop its data so it does.
      runner.setState(runner.isActive ? { queries } : { queries, data: undefined });
      if (run && runner.isActive) {
        runner.runQueries();
      }
    };
    apply(false);
    const subs = [
      ...triggers.rerunOn.map((object) => object.subscribeToState(() => apply(true))),
      ...(triggers.updateOn?.(scene) ?? []).map((object) => object.subscribeToState(() => apply(false))),
    ];
    return () => subs.forEach((sub) => sub.unsubscribe());
  };
}

/** RED time series for the shared filters. */
export function redQuery(
  refId: string,
  metrics: NonNullable<TuskQuery['metrics']>,
  groupBy: NonNullable<TuskQuery['groupBy']>
): TuskQuery {
  return { refId, queryType: 'metrics', ...SHARED_FILTERS, metrics, groupBy };
}

/** The trace whose id the given variable holds. */
export function traceQuery(refId: string, traceIdVariable: string): TuskQuery {
  return { refId, queryType: 'trace', traceId: `\${${traceIdVariable}}` };
}
