import { urlUtil } from '@grafana/data';
import { DATASOURCE_PLUGIN_ID } from '../constants';

/** Explore, one pane, running a trace query of the given Tusk data source. */
export function exploreTraceUrl(datasourceUid: string, traceId: string, range: { from: string; to: string }): string {
  const datasource = { type: DATASOURCE_PLUGIN_ID, uid: datasourceUid };
  const panes = {
    tusk: {
      datasource: datasourceUid,
      queries: [{ refId: 'A', datasource, queryType: 'trace', traceId }],
      range,
    },
  };
  return urlUtil.renderUrl('/explore', { schemaVersion: 1, panes: JSON.stringify(panes) });
}
