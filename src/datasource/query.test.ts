import { queryErrors, queryTypeOf, resolveTraceId, switchQueryType } from './query';
import type { TuskQuery } from './types';

const ID = '4bf92f3577b34da6a3ce929d0e0e4736';

describe('queryTypeOf', () => {
  it('reads a query without a type, or with another data source’s, as a search', () => {
    expect(queryTypeOf({})).toBe('search');
    expect(queryTypeOf({ queryType: 'traceql' })).toBe('search');
    expect(queryTypeOf({ queryType: 'metrics' })).toBe('metrics');
  });
});

describe('resolveTraceId', () => {
  it('turns a search with a trace id in its path into the trace query, keeping the other filters', () => {
    const search: TuskQuery = {
      refId: 'A',
      queryType: 'search',
      service: 'shop',
      path: `00-${ID}-00f067aa0ba902b7-01`,
      limit: 20,
    };
    expect(resolveTraceId(search)).toEqual({ refId: 'A', queryType: 'trace', traceId: ID, service: 'shop', limit: 20 });
  });

  it('finds the id in any text field of a search, also in an old query without a type', () => {
    expect(resolveTraceId({ refId: 'A', service: ID.toUpperCase() } as TuskQuery)).toEqual({
      refId: 'A',
      queryType: 'trace',
      traceId: ID,
    });
  });

  it('normalizes the id of trace and flame graph queries', () => {
    expect(resolveTraceId({ refId: 'A', queryType: 'trace', traceId: `0x${ID.toUpperCase()}` }).traceId).toBe(ID);
    expect(resolveTraceId({ refId: 'A', queryType: 'flamegraph', traceId: 'a3ce929d0e0e4736' }).traceId).toBe(
      '0000000000000000a3ce929d0e0e4736'
    );
  });

  it('reads the trace id a Loki derived field link sends as query', () => {
    expect(resolveTraceId({ refId: 'A', query: ID } as TuskQuery)).toEqual({
      refId: 'A',
      queryType: 'trace',
      traceId: ID,
    });
    expect(resolveTraceId({ refId: 'A', queryType: 'traceql', query: ID } as unknown as TuskQuery)).toEqual({
      refId: 'A',
      queryType: 'trace',
      traceId: ID,
    });
  });

  it('leaves other queries as they are', () => {
    const queries: TuskQuery[] = [
      { refId: 'A', queryType: 'search', path: '/api/', minDuration: '250ms' },
      { refId: 'A', queryType: 'trace', traceId: ID },
      { refId: 'A', queryType: 'trace', traceId: '$trace' },
      { refId: 'A', queryType: 'metrics', service: ID },
    ];
    for (const query of queries) {
      expect(resolveTraceId(query)).toBe(query);
    }
  });
});

describe('queryErrors', () => {
  it('finds nothing wrong in a default search', () => {
    expect(queryErrors({ refId: 'A', queryType: 'search', limit: 20 })).toEqual({});
  });

  it('checks a search’s durations, status and limit as the backend does', () => {
    expect(
      queryErrors({ refId: 'A', queryType: 'search', minDuration: '250', maxDuration: '2 s', status: 42, limit: 5001 })
    ).toEqual({
      minDuration: 'Add a unit: 250ms, 250s or 250m',
      maxDuration: '"2 s" is not a duration: write a number and a unit, e.g. 250ms, 1.5s or 2m',
      status: 'HTTP status: want a whole number from 100 to 599',
      limit: 'Limit: want a whole number from 1 to 5000',
    });
  });

  it('wants max duration above min duration', () => {
    expect(queryErrors({ refId: 'A', queryType: 'search', minDuration: '1s', maxDuration: '500ms' })).toEqual({
      maxDuration: 'Max duration is below min duration',
    });
    expect(queryErrors({ refId: 'A', queryType: 'search', minDuration: '1s', maxDuration: '0' })).toEqual({});
  });

  it('checks trace ids but lets template variables through', () => {
    expect(queryErrors({ refId: 'A', queryType: 'trace', traceId: 'xyz' }).traceId).toMatch(/^Not a trace id/);
    expect(queryErrors({ refId: 'A', queryType: 'trace', traceId: '${trace}' })).toEqual({});
    expect(queryErrors({ refId: 'A', queryType: 'flamegraph', traceId: '' })).toEqual({});
  });

  it('bounds max nodes and the metrics series by the backend’s limits', () => {
    expect(queryErrors({ refId: 'A', queryType: 'flamegraph', maxNodes: 200_001 })).toEqual({
      maxNodes: 'Max nodes: want a whole number from 1 to 200000',
    });
    expect(queryErrors({ refId: 'A', queryType: 'metrics', limit: 501 })).toEqual({
      limit: 'Series: want a whole number from 1 to 500',
    });
  });

  it('checks only the fields the query type uses', () => {
    expect(queryErrors({ refId: 'A', queryType: 'trace', traceId: ID, minDuration: 'nonsense' })).toEqual({});
  });
});

describe('switchQueryType', () => {
  it('keeps the other fields for switching back', () => {
    expect(switchQueryType({ refId: 'A', queryType: 'search', path: '/api/', limit: 20 }, 'trace')).toEqual({
      refId: 'A',
      queryType: 'trace',
      path: '/api/',
      limit: 20,
    });
  });

  it('drops a search limit too large for metrics series', () => {
    expect(switchQueryType({ refId: 'A', queryType: 'search', limit: 1000 }, 'metrics').limit).toBeUndefined();
    expect(switchQueryType({ refId: 'A', queryType: 'search', limit: 50 }, 'metrics').limit).toBe(50);
  });
});
