import { CONFIG_URL, PLUGIN_BASE_URL, prefixRoute, resourceUrl, ROUTES } from './constants';

it('puts pages under /a/<plugin id>', () => {
  expect(PLUGIN_BASE_URL).toBe('/a/tusk-php-app');
  expect(prefixRoute(ROUTES.Requests)).toBe('/a/tusk-php-app/requests');
  expect(Object.values(ROUTES)).toEqual(['overview', 'requests', 'profiles', 'probes']);
});

it('names the app backend resources and the configuration page', () => {
  expect(resourceUrl('fleet')).toBe('/api/plugins/tusk-php-app/resources/fleet');
  expect(CONFIG_URL).toBe('/plugins/tusk-php-app');
});
