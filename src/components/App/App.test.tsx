import React from 'react';
import { MemoryRouter, Route, Routes } from 'react-router-dom';
import { of } from 'rxjs';
import { type AppRootProps, PluginType } from '@grafana/data';
import { LocationServiceProvider, locationService, type PluginPageProps } from '@grafana/runtime';
import { render, screen } from '@testing-library/react';
import { goldenFleet } from '../../testing/golden';
import App from './App';

const fetchMock = jest.fn();

/** Grafana's page chrome, reduced to what the app gives it: title, subtitle and tabs. */
function TestPluginPage({ pageNav, subTitle, children }: PluginPageProps) {
  return (
    <div>
      <h1>{pageNav?.text}</h1>
      <p>{subTitle}</p>
      <nav>
        {pageNav?.children?.map((tab) => (
          <a key={tab.url} href={tab.url} aria-current={tab.active ? 'page' : undefined}>
            {tab.text}
          </a>
        ))}
      </nav>
      {children}
    </div>
  );
}

jest.mock('@grafana/runtime', () => ({
  ...jest.requireActual('@grafana/runtime'),
  PluginPage: (props: PluginPageProps) => TestPluginPage(props),
  getBackendSrv: () => ({ fetch: fetchMock }),
  getDataSourceSrv: () => ({ getList: () => [], getInstanceSettings: () => undefined }),
}));

const props = {
  basename: '/a/tusk-php-app',
  meta: { id: 'tusk-php-app', name: 'Tusk', type: PluginType.app, enabled: true, jsonData: {} },
  query: {},
  path: '',
  onNavChanged: jest.fn(),
} as unknown as AppRootProps;

function renderAt(path: string) {
  locationService.push(path);
  return render(
    <LocationServiceProvider service={locationService}>
      <MemoryRouter initialEntries={[path]} future={{ v7_startTransition: true, v7_relativeSplatPath: true }}>
        {/* Grafana mounts an app's root page under /a/<plugin id>/: its routes are relative to that. */}
        <Routes>
          <Route path="/a/tusk-php-app/*" element={<App {...props} />} />
        </Routes>
      </MemoryRouter>
    </LocationServiceProvider>
  );
}

beforeEach(() => {
  fetchMock.mockReset().mockReturnValue(of({ data: goldenFleet() }));
});

it('shows the Probes page with the agents the app backend reports', async () => {
  renderAt('/a/tusk-php-app/probes');
  expect(await screen.findByRole('heading', { name: 'web-1' })).toBeInTheDocument();
  expect(screen.getByText(/Tusk traces PHP requests/)).toBeInTheDocument();
  const tabs = screen.getAllByRole('link').filter((link) => link.closest('nav'));
  expect(tabs.map((tab) => tab.textContent)).toEqual(['Overview', 'Requests', 'Profiles', 'Probes']);
  expect(screen.getByRole('link', { name: 'Probes', current: 'page' })).toHaveAttribute(
    'href',
    expect.stringMatching(/^\/a\/tusk-php-app\/probes/)
  );
  expect(screen.getByText(/Deep mode adds a span for every PHP function call/)).toBeInTheDocument();
  expect(fetchMock).toHaveBeenCalledWith(expect.objectContaining({ url: '/api/plugins/tusk-php-app/resources/fleet' }));
});
