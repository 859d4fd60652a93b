import { CoreApp, type DataSourceInstanceSettings } from '@grafana/data';
import { DataSource } from './datasource';
import type { TuskDataSourceOptions, TuskQuery } from './types';

const ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const mockVariables: Record<string, string> = {
  $service: 'checkout',
  $pool: 'www',
  $trace: 'abc123',
  $emptyTrace: '',
  $traceparent: `00-${ID}-00f067aa0ba902b7-01`,
};

jest.mock('@grafana/runtime', () => ({
  ...jest.requireActual('@grafana/runtime'),
  getTemplateSrv: () => ({
    replace: (text: string) => text.replace(/\$\w+/g, (name) => mockVariables[name] ?? name),
  }),
}));

const settings = {
  id: 1,
  uid: 'tusk',
  name: 'Tusk PHP traces',
  type: 'tusk-php-datasource',
  jsonData: { agents: [{ name: 'web-1', url: 'http://a:7070' }] },
} as unknown as DataSourceInstanceSettings<TuskDataSourceOptions>;

describe('DataSource', () => {
  const datasource = new DataSource(settings);

  it('starts with a search for the 20 newest traces', () => {
    expect(datasource.getDefaultQuery(CoreApp.Explore)).toEqual({ queryType: 'search', limit: 20 });
  });

  it('drops trace queries without a trace id', () => {
    expect(datasource.filterQuery({ refId: 'A', queryType: 'trace' })).toBe(false);
    expect(datasource.filterQuery({ refId: 'A', queryType: 'trace', traceId: '  ' })).toBe(false);
    expect(datasource.filterQuery({ refId: 'A', queryType: 'trace', traceId: 'abc' })).toBe(true);
    expect(datasource.filterQuery({ refId: 'A', queryType: 'search' })).toBe(true);
  });

  it('drops a trace query whose trace id variable is empty (a dashboard with no trace chosen yet)', () => {
    expect(datasource.filterQuery({ refId: 'A', queryType: 'trace', traceId: '$emptyTrace' })).toBe(false);
    expect(datasource.filterQuery({ refId: 'A', queryType: 'trace', traceId: '$traceparent' })).toBe(true);
  });

  it('accepts a trace id however it was pasted', () => {
    expect(datasource.filterQuery({ refId: 'A', queryType: 'trace', traceId: `00-${ID}-00f067aa0ba902b7-01` })).toBe(
      true
    );
    expect(datasource.filterQuery({ refId: 'A', queryType: 'search', path: ID })).toBe(true);
    // Loki's derived fields link to a tracing data source with { query: "<trace id>" } and no type of ours.
    expect(datasource.filterQuery({ refId: 'A', query: ID } as TuskQuery)).toBe(true);
  });

  it('runs a search whose text is a trace id as the trace query, and normalizes trace ids', () => {
    expect(
      datasource.applyTemplateVariables({ refId: 'A', queryType: 'search', path: ` ${ID.toUpperCase()} ` }, {})
    ).toEqual({
      refId: 'A',
      queryType: 'trace',
      traceId: ID,
    });
    expect(datasource.applyTemplateVariables({ refId: 'A', queryType: 'trace', traceId: '$traceparent' }, {})).toEqual({
      refId: 'A',
      queryType: 'trace',
      traceId: ID,
    });
    expect(
      datasource.applyTemplateVariables({ refId: 'A', queryType: 'traceql', query: ID } as unknown as TuskQuery, {})
    ).toEqual({
      refId: 'A',
      queryType: 'trace',
      traceId: ID,
    });
  });

  it('sends old queries without a type as searches', () => {
    expect(datasource.applyTemplateVariables({ refId: 'A', path: '/api/' } as TuskQuery, {})).toEqual({
      refId: 'A',
      queryType: 'search',
      path: '/api/',
    });
  });

  it('interpolates template mockVariables in the text filters', () => {
    const query: TuskQuery = {
      refId: 'A',
      queryType: 'flamegraph',
      service: '$service',
      pool: '$pool',
      traceId: '$trace',
      endpoint: 'GET /cart',
      maxNodes: 100,
    };

    expect(datasource.applyTemplateVariables(query, {})).toEqual({
      ...query,
      service: 'checkout',
      pool: 'www',
      traceId: 'abc123',
    });
  });

  it('lists the configured agents', () => {
    expect(datasource.agentNames).toEqual(['web-1']);
  });
});
