import {
  EmbeddedScene,
  PanelBuilders,
  SceneDataTransformer,
  SceneFlexItem,
  SceneFlexLayout,
  type SceneObject,
  type VizPanel,
} from '@grafana/scenes';
import type { DataTransformerConfig } from '@grafana/data';
import { prefixRoute, ROUTES, VAR_DATASOURCE, VAR_ENDPOINT, VAR_POOL, VAR_SERVICE } from '../../constants';
import type { TuskQuery } from '../../datasource/types';
import { pageControls } from '../../scenes/controls';
import { DatasourceNotice } from '../../scenes/DatasourceNotice';
import { FleetScene } from '../../scenes/FleetScene';
import { redQuery, SHARED_FILTERS, tuskRunner } from '../../scenes/queries';
import { openOnRequestsPageLink, traceIdLinkTransformation } from '../../scenes/traceLinks';
import { FleetView } from './FleetView';
import { nPlusOneTransformation } from './nPlusOne';

/** How many of the newest requests the N+1 panel looks through. */
export const N_PLUS_ONE_SCAN = 500;
/** How many findings it lists. */
export const N_PLUS_ONE_ROWS = 20;
/** How many endpoints the slow-endpoint table lists. */
export const SLOW_ENDPOINTS = 10;

export function buildOverviewScene(): EmbeddedScene {
  return new EmbeddedScene({
    controls: pageControls([VAR_DATASOURCE, VAR_SERVICE, VAR_POOL]),
    body: new SceneFlexLayout({
      direction: 'column',
      children: [
        new SceneFlexItem({ ySizing: 'content', body: new DatasourceNotice({}) }),
        new SceneFlexItem({ ySizing: 'content', body: new FleetScene({ view: FleetView, tickMs: 30_000 }) }),
        row(300, [requestsPanel(), errorsPanel(), p95Panel()]),
        row(380, [slowEndpointsPanel(), nPlusOnePanel()]),
      ],
    }),
  });
}

function row(height: number, panels: SceneObject[]): SceneFlexItem {
  return new SceneFlexItem({
    height,
    body: new SceneFlexLayout({
      direction: 'row',
      children: panels.map((body) => new SceneFlexItem({ minWidth: 320, body })),
    }),
  });
}

export function requestsPanel(): VizPanel {
  return PanelBuilders.timeseries()
    .setTitle('Requests/s by pool')
    .setData(tuskRunner([redQuery('requests', ['requests'], 'pool')]))
    .setUnit('reqps')
    .build();
}

export function errorsPanel(): VizPanel {
  return PanelBuilders.timeseries()
    .setTitle('Errors/s by pool')
    .setDescription('Requests per second that ended in an error: a 5xx status or an uncaught PHP error.')
    .setData(tuskRunner([redQuery('errors', ['errors'], 'pool')]))
    .setUnit('reqps')
    .setColor({ mode: 'palette-classic' })
    .build();
}

export function p95Panel(): VizPanel {
  return PanelBuilders.timeseries()
    .setTitle('p95 latency by pool')
    .setDescription('95th percentile of request duration per interval, over all agents.')
    .setData(tuskRunner([redQuery('p95', ['p95'], 'pool')]))
    .setUnit('ms')
    .build();
}

/** Each endpoint's p95 series reduced to its worst and mean interval, slowest first. */
export const SLOW_ENDPOINT_TRANSFORMATIONS: DataTransformerConfig[] = [
  { id: 'reduce', options: { mode: 'seriesToRows', reducers: ['max', 'mean'], labelsToFields: true } },
  { id: 'sortBy', options: { sort: [{ field: 'Max', desc: true }] } },
  { id: 'limit', options: { limitField: SLOW_ENDPOINTS } },
  {
    id: 'organize',
    options: {
      excludeByName: { Field: true },
      indexByName: { endpoint: 0, service: 1, pool: 2, Max: 3, Mean: 4 },
      renameByName: {
        endpoint: 'Endpoint',
        service: 'Service',
        pool: 'Pool',
        Max: 'p95, worst interval',
        Mean: 'p95, mean',
      },
    },
  },
];

export const PROFILES_PAGE_ENDPOINT_URL =
  `${prefixRoute(ROUTES.Profiles)}?var-${VAR_ENDPOINT}=\${__value.raw}` +
  `&\${__url_time_range}&var-${VAR_DATASOURCE}=\${${VAR_DATASOURCE}}`;

export function slowEndpointsPanel(): VizPanel {
  const data = new SceneDataTransformer({
    $data: tuskRunner([redQuery('slow', ['p95'], 'endpoint')]),
    transformations: SLOW_ENDPOINT_TRANSFORMATIONS,
  });
  return PanelBuilders.table()
    .setTitle('Slowest endpoints')
    .setDescription(
      'Endpoints by their worst p95 over the time range (the busiest endpoints the agents keep, per query). ' +
        'Click an endpoint for its flame graph.'
    )
    .setData(data)
    .setUnit('ms')
    .setOverrides((b) =>
      b
        .matchFieldsWithName('Endpoint')
        .overrideLinks([{ title: 'Flame graph of ${__value.raw}', url: PROFILES_PAGE_ENDPOINT_URL }])
    )
    .build();
}

export const N_PLUS_ONE_QUERY: TuskQuery = {
  refId: 'nplusone',
  queryType: 'search',
  ...SHARED_FILTERS,
  order: 'newest',
  limit: N_PLUS_ONE_SCAN,
};

export function nPlusOnePanel(): VizPanel {
  const data = new SceneDataTransformer({
    $data: tuskRunner([N_PLUS_ONE_QUERY]),
    transformations: [nPlusOneTransformation(N_PLUS_ONE_ROWS), traceIdLinkTransformation(openOnRequestsPageLink())],
  });
  return PanelBuilders.table()
    .setTitle('N+1 queries')
    .setDescription(
      `Requests that ran one SQL statement repeatedly from one call site (N+1 column: how many times), among the ` +
        `${N_PLUS_ONE_SCAN} newest requests of the time range. Click a trace id to open the trace. ` +
        'No rows: none of those requests had N+1 statements.'
    )
    .setData(data)
    .build();
}
