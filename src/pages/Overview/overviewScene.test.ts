import type { DataFrame } from '@grafana/data';
import type { CustomTransformOperator } from '@grafana/scenes';
import { lastValueFrom, of } from 'rxjs';
import { N_PLUS_ONE_COLUMNS, nPlusOneRows } from './nPlusOne';
import { goldenFrames, transform } from '../../testing/golden';
import { panels, panelTitled, queriesOf, runnerOf, transformerOf } from '../../testing/scenes';
import {
  buildOverviewScene,
  N_PLUS_ONE_ROWS,
  PROFILES_PAGE_ENDPOINT_URL,
  SLOW_ENDPOINT_TRANSFORMATIONS,
} from './overviewScene';

const TUSK = { type: 'tusk-php-datasource', uid: '${ds}' };
const SHARED = { service: '${service}', pool: '${pool}' };

function values(frame: DataFrame, name: string): unknown[] {
  const field = frame.fields.find((f) => f.name === name);
  if (!field) {
    throw new Error(`no field ${name} in ${frame.fields.map((f) => f.name).join(', ')}`);
  }
  return field.values;
}

describe('Overview scene', () => {
  const scene = buildOverviewScene();

  it('has the RED panels, the slowest endpoints and the N+1 findings', () => {
    expect(panels(scene).map((p) => [p.state.pluginId, p.state.title])).toEqual([
      ['timeseries', 'Requests/s by pool'],
      ['timeseries', 'Errors/s by pool'],
      ['timeseries', 'p95 latency by pool'],
      ['table', 'Slowest endpoints'],
      ['table', 'N+1 queries'],
    ]);
  });

  it('queries RED metrics per pool from the chosen data source, filtered by service and pool', () => {
    const red = (title: string) => queriesOf(panelTitled(scene, title));
    expect(red('Requests/s by pool')).toEqual([
      { refId: 'requests', queryType: 'metrics', ...SHARED, metrics: ['requests'], groupBy: 'pool', datasource: TUSK },
    ]);
    expect(red('Errors/s by pool')).toEqual([
      { refId: 'errors', queryType: 'metrics', ...SHARED, metrics: ['errors'], groupBy: 'pool', datasource: TUSK },
    ]);
    expect(red('p95 latency by pool')).toEqual([
      { refId: 'p95', queryType: 'metrics', ...SHARED, metrics: ['p95'], groupBy: 'pool', datasource: TUSK },
    ]);
    expect(runnerOf(panelTitled(scene, 'Requests/s by pool')).state.datasource).toEqual(TUSK);
    expect(panelTitled(scene, 'p95 latency by pool').state.fieldConfig.defaults.unit).toBe('ms');
  });

  it('ranks endpoints by p95 and searches the newest requests for N+1 statements', () => {
    expect(queriesOf(panelTitled(scene, 'Slowest endpoints'))).toEqual([
      { refId: 'slow', queryType: 'metrics', ...SHARED, metrics: ['p95'], groupBy: 'endpoint', datasource: TUSK },
    ]);
    expect(queriesOf(panelTitled(scene, 'N+1 queries'))).toEqual([
      { refId: 'nplusone', queryType: 'search', ...SHARED, order: 'newest', limit: 500, datasource: TUSK },
    ]);
  });

  it('links an endpoint to its flame graph', () => {
    const overrides = panelTitled(scene, 'Slowest endpoints').state.fieldConfig.overrides;
    expect(overrides[0].matcher).toEqual({ id: 'byName', options: 'Endpoint' });
    expect(overrides[0].properties[0].value).toEqual([
      { title: 'Flame graph of ${__value.raw}', url: PROFILES_PAGE_ENDPOINT_URL },
    ]);
    expect(PROFILES_PAGE_ENDPOINT_URL).toBe(
      '/a/tusk-php-app/profiles?var-endpoint=${__value.raw}&${__url_time_range}&var-ds=${ds}'
    );
  });

  it('adds the Requests-page link to the N+1 trace ids after the other transformations', () => {
    const transformations = transformerOf(panelTitled(scene, 'N+1 queries')).state.transformations;
    expect(transformations).toHaveLength(2);
    expect(transformations.every((t) => typeof t === 'function')).toBe(true);
  });
});

describe('panel transformations over the golden frames', () => {
  it('turns p95 series into one row per endpoint, worst first', async () => {
    const p95 = goldenFrames('metrics').filter((frame) => frame.name === 'p95');
    const [table] = await transform(p95, SLOW_ENDPOINT_TRANSFORMATIONS);
    const names = table.fields.map((f) => f.config.displayName ?? f.name);
    expect(names).toEqual(['Endpoint', 'Service', 'Pool', 'p95, worst interval', 'p95, mean']);
    const worst = values(table, 'Max') as number[];
    expect(worst.length).toBe(Math.min(p95.length, 10));
    expect([...worst].sort((a, b) => b - a)).toEqual(worst);
    const endpoints = values(table, 'endpoint');
    const slowest = p95.reduce((a, b) =>
      Math.max(...(a.fields[1].values as number[])) >= Math.max(...(b.fields[1].values as number[])) ? a : b
    );
    expect(endpoints[0]).toBe(slowest.fields[1].labels?.endpoint);
  });

  it('keeps only requests with N+1 statements, with their trace ids and the Requests-page link', async () => {
    const search = goldenFrames('search');
    const expected = (values(search[0], 'nPlusOne') as number[]).filter((n) => n > 0).length;
    expect(expected).toBeGreaterThan(0);
    const data = transformerOf(panelTitled(buildOverviewScene(), 'N+1 queries'));
    const operators = data.state.transformations as CustomTransformOperator[];
    let frames = of(search);
    for (const operator of operators) {
      frames = frames.pipe(operator({ interpolate: (s: string) => s }));
    }
    const [table] = await lastValueFrom(frames);
    expect(table.length).toBe(Math.min(expected, N_PLUS_ONE_ROWS));
    expect((values(table, 'nPlusOne') as number[]).every((n) => n > 0)).toBe(true);
    expect(table.fields.map((f) => f.name)).toEqual(N_PLUS_ONE_COLUMNS);
    expect(table.fields[6].config.links?.map((l) => l.title)).toEqual([
      'Open trace ${__value.raw}',
      'Show trace ${__value.raw} on the Requests page',
    ]);
  });
});

describe('nPlusOneRows', () => {
  it('stops at the limit', () => {
    const [search] = goldenFrames('search');
    const many = {
      ...search,
      fields: search.fields.map((f) => (f.name === 'nPlusOne' ? { ...f, values: f.values.map(() => 3) } : f)),
    };
    expect(nPlusOneRows([many], 2)[0].length).toBe(2);
  });
});
