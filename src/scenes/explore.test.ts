import { exploreTraceUrl } from './explore';

it('opens a trace query of the data source in Explore', () => {
  const url = exploreTraceUrl('tusk-uid', 'a3320a9a512b95e22f07940c56746f42', { from: 'now-1h', to: 'now' });
  const [path, search] = url.split('?');
  expect(path).toBe('/explore');
  const params = new URLSearchParams(search);
  expect(params.get('schemaVersion')).toBe('1');
  expect(JSON.parse(params.get('panes')!)).toEqual({
    tusk: {
      datasource: 'tusk-uid',
      queries: [
        {
          refId: 'A',
          datasource: { type: 'tusk-php-datasource', uid: 'tusk-uid' },
          queryType: 'trace',
          traceId: 'a3320a9a512b95e22f07940c56746f42',
        },
      ],
      range: { from: 'now-1h', to: 'now' },
    },
  });
});
