import {
  DEFAULT_FILTERS,
  filtersFromUrl,
  filtersToUrl,
  readLimit,
  readStatus,
  type RequestFilterValues,
  searchQuery,
} from './requestFilters';

describe('searchQuery', () => {
  it('by default asks for the 50 slowest requests of the shared service and pool', () => {
    expect(searchQuery(DEFAULT_FILTERS)).toEqual({
      refId: 'search',
      queryType: 'search',
      service: '${service}',
      pool: '${pool}',
      order: 'slowest',
      limit: 50,
    });
  });

  it('adds the filters that are set', () => {
    const values: RequestFilterValues = {
      method: 'POST',
      path: '/cart',
      function: 'App\\Cart::total',
      status: 500,
      minDuration: '250ms',
      errorsOnly: true,
      limit: 10,
      order: 'newest',
    };
    expect(searchQuery(values)).toEqual({
      refId: 'search',
      queryType: 'search',
      service: '${service}',
      pool: '${pool}',
      method: 'POST',
      path: '/cart',
      function: 'App\\Cart::total',
      status: 500,
      minDuration: '250ms',
      errorsOnly: true,
      limit: 10,
      order: 'newest',
    });
  });
});

describe('URL state', () => {
  it('leaves defaults out of the URL', () => {
    expect(Object.values(filtersToUrl(DEFAULT_FILTERS)).every((v) => v === null)).toBe(true);
  });

  it('round-trips through the URL', () => {
    const values: RequestFilterValues = {
      method: 'GET',
      path: '/api/',
      function: 'burn',
      status: 404,
      minDuration: '1.5s',
      errorsOnly: true,
      limit: 200,
      order: 'newest',
    };
    const url = filtersToUrl(values);
    expect(url).toEqual({
      method: 'GET',
      path: '/api/',
      function: 'burn',
      status: '404',
      minDuration: '1.5s',
      errorsOnly: 'true',
      limit: '200',
      order: 'newest',
    });
    expect({ ...DEFAULT_FILTERS, ...filtersFromUrl(url, DEFAULT_FILTERS) }).toEqual(values);
  });

  it('keeps what the URL does not say, and ignores what does not parse', () => {
    const current = { ...DEFAULT_FILTERS, path: '/kept', limit: 20 };
    expect(filtersFromUrl({ limit: 'lots', order: 'random', minDuration: 'soon' }, current)).toEqual({
      limit: 20,
      minDuration: '',
    });
    expect(filtersFromUrl({ path: null }, current)).toEqual({});
  });
});

describe('typed values', () => {
  it('reads a status', () => {
    expect(readStatus('')).toEqual({});
    expect(readStatus(' 503 ')).toEqual({ value: 503 });
    expect(readStatus('99').error).toBeDefined();
    expect(readStatus('abc').error).toBeDefined();
  });

  it('reads a limit', () => {
    expect(readLimit('20')).toEqual({ value: 20 });
    expect(readLimit('0').error).toBeDefined();
    expect(readLimit('5001').error).toBeDefined();
  });
});
