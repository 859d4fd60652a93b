import {
  EmbeddedScene,
  PanelBuilders,
  SceneDataTransformer,
  SceneFlexItem,
  SceneFlexLayout,
  type SceneQueryRunner,
  SceneVariableSet,
  TextBoxVariable,
  type VizPanel,
} from '@grafana/scenes';
import { VariableHide } from '@grafana/schema';
import { VAR_DATASOURCE, VAR_POOL, VAR_SERVICE, VAR_TRACE_ID } from '../../constants';
import { pageControls } from '../../scenes/controls';
import { DatasourceNotice } from '../../scenes/DatasourceNotice';
import { syncQueries, traceQuery, tuskRunner } from '../../scenes/queries';
import { showBelowLink, traceIdLinkTransformation } from '../../scenes/traceLinks';
import { RequestFilters } from './RequestFilters';
import { searchQuery } from './requestFilters';
import { TraceSection } from './TraceSection';

export function newTraceIdVariable(): TextBoxVariable {
  return new TextBoxVariable({
    name: VAR_TRACE_ID,
    label: 'Trace ID',
    value: '',
    hide: VariableHide.hideVariable,
  });
}

export function buildRequestsScene(): EmbeddedScene {
  const traceId = newTraceIdVariable();
  const filters = new RequestFilters();
  const searchRunner = tuskRunner([searchQuery(filters.values)]);
  return new EmbeddedScene({
    $variables: new SceneVariableSet({ variables: [traceId] }),
    $behaviors: [syncQueries(searchRunner, () => [searchQuery(filters.values)], { rerunOn: [filters] })],
    controls: pageControls([VAR_DATASOURCE, VAR_SERVICE, VAR_POOL]),
    body: new SceneFlexLayout({
      direction: 'column',
      children: [
        new SceneFlexItem({ ySizing: 'content', body: new DatasourceNotice({}) }),
        new SceneFlexItem({ ySizing: 'content', body: filters }),
        new SceneFlexItem({ height: 420, body: searchPanel(searchRunner, (id) => traceId.setValue(id)) }),
        new SceneFlexItem({ ySizing: 'content', minHeight: 60, body: new TraceSection({ panel: tracePanel() }) }),
      ],
    }),
  });
}

export function searchPanel(runner: SceneQueryRunner, showTrace: (traceId: string) => void): VizPanel {
  return PanelBuilders.table()
    .setTitle('Requests')
    .setDescription(
      'PHP requests in the time range that match the filters. Click a trace id: “Show trace … below” opens it on ' +
        'this page, “Open trace …” in Explore. No rows: widen the time range or loosen the filters.'
    )
    .setData(
      new SceneDataTransformer({
        $data: runner,
        transformations: [traceIdLinkTransformation(showBelowLink(showTrace))],
      })
    )
    .build();
}

export function tracePanel(): VizPanel {
  return PanelBuilders.traces()
    .setTitle('')
    .setData(tuskRunner([traceQuery('trace', VAR_TRACE_ID)]))
    .build();
}
