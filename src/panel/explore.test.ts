import { type DataQueryRequest, type GrafanaConfig, dateTime, locationUtil } from '@grafana/data';
import type { TuskQuery } from '../datasource/types';
import { flameTarget, hotTracesUrl, isSearchableFunction } from './explore';

const range = {
  from: dateTime(1764000000000),
  to: dateTime(1764003600000),
  raw: { from: 'now-1h', to: 'now' },
};

const target: TuskQuery = {
  refId: 'A',
  datasource: { type: 'tusk-php-datasource', uid: '${tusk}' },
  queryType: 'flamegraph',
  service: 'php-fpm',
  pool: '$pool',
  endpoint: 'GET /cart',
  maxNodes: 2000,
};

const vars: Record<string, string> = { $pool: 'www', '${tusk}': 'P7C2D' };
const interpolate = (s: string) => vars[s] ?? s;

/** The search and params of an Explore URL. */
function parse(url: string) {
  const u = new URL(url, 'http://grafana.local');
  return {
    path: u.pathname,
    params: Object.fromEntries(u.searchParams),
    panes: JSON.parse(u.searchParams.get('panes')!),
  };
}

describe('hotTracesUrl', () => {
  it('opens Explore on a Tusk search for the function, with the flame query filters and range', () => {
    const url = hotTracesUrl({ target, fn: 'App\\Cart::total', file: '/srv/app/src/Cart.php', range, interpolate });
    const { path, params, panes } = parse(url!);
    expect(path).toBe('/explore');
    expect(params.schemaVersion).toBe('1');
    expect(panes).toEqual({
      tusk: {
        datasource: 'P7C2D',
        queries: [
          {
            refId: 'A',
            datasource: { type: 'tusk-php-datasource', uid: 'P7C2D' },
            queryType: 'search',
            function: 'App\\Cart::total',
            file: '/srv/app/src/Cart.php',
            service: 'php-fpm',
            pool: 'www',
            endpoint: 'GET /cart',
          },
        ],
        range: { from: '1764000000000', to: '1764003600000' },
      },
    });
  });

  it('keeps characters that end a URL parameter or the URL', () => {
    const endpoint = 'GET /search?q=a&b=%41#top';
    const url = hotTracesUrl({
      target: { ...target, endpoint },
      fn: 'App\\A::b',
      file: '/srv/a #1/A.php',
      range,
      interpolate,
    });
    const query = parse(url!).panes.tusk.queries[0];
    expect(query.endpoint).toBe(endpoint);
    expect(query.file).toBe('/srv/a #1/A.php');
  });

  it('leaves out a file and the filters the query did not set', () => {
    const url = hotTracesUrl({
      target: { refId: 'A', queryType: 'flamegraph', datasource: { uid: 'abc' } },
      fn: 'strlen',
      file: '',
      range,
      interpolate,
    });
    expect(parse(url!).panes.tusk.queries).toEqual([
      { refId: 'A', datasource: { type: 'tusk-php-datasource', uid: 'abc' }, queryType: 'search', function: 'strlen' },
    ]);
  });

  it('has no URL without a Tusk datasource to search', () => {
    const link = { fn: 'burn', file: '', range, interpolate };
    expect(hotTracesUrl({ ...link, target: { refId: 'A', queryType: 'flamegraph' } })).toBeUndefined();
    expect(
      hotTracesUrl({ ...link, target: { ...target, datasource: { type: 'grafana-pyroscope-datasource', uid: 'x' } } })
    ).toBeUndefined();
  });

  it('gets Grafana’s sub-path from locationUtil for the href', () => {
    locationUtil.initialize({
      config: { appSubUrl: '/grafana' } as GrafanaConfig,
      getTimeRangeForUrl: () => range.raw,
      getVariablesUrlParams: () => ({}),
    });
    try {
      const url = hotTracesUrl({ target, fn: 'burn', file: '', range, interpolate })!;
      expect(locationUtil.assureBaseUrl(url)).toBe(`/grafana${url}`);
    } finally {
      locationUtil.initialize({
        config: { appSubUrl: '' } as GrafanaConfig,
        getTimeRangeForUrl: () => range.raw,
        getVariablesUrlParams: () => ({}),
      });
    }
  });
});

describe('flameTarget', () => {
  const request = (targets: TuskQuery[]) => ({ targets }) as DataQueryRequest<TuskQuery>;
  const search: TuskQuery = { refId: 'S', queryType: 'search' };
  it('takes the target of the frame, else the flamegraph query, else the first', () => {
    expect(flameTarget(request([search, target]), 'A')).toBe(target);
    expect(flameTarget(request([search, target]))).toBe(target);
    expect(flameTarget(request([search]))).toBe(search);
    expect(flameTarget(undefined)).toBeUndefined();
  });
});

it('searches functions, not the root or runtime frames', () => {
  expect(isSearchableFunction('App\\Cart::total', 2)).toBe(true);
  expect(isSearchableFunction('{main}', 1)).toBe(true);
  expect(isSearchableFunction('total', 0)).toBe(false);
  expect(isSearchableFunction('[php-fpm]', 1)).toBe(false);
  expect(isSearchableFunction('[truncated]', 3)).toBe(false);
});
