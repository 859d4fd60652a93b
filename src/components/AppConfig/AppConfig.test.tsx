import React from 'react';
import { of, throwError } from 'rxjs';
import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { PluginType } from '@grafana/data';
import { getBackendSrv } from '@grafana/runtime';
import AppConfig, { type AppConfigProps } from './AppConfig';

jest.mock('@grafana/runtime', () => ({
  ...jest.requireActual('@grafana/runtime'),
  getBackendSrv: jest.fn(),
}));

const fetch = jest.fn();

function renderConfig() {
  const props = {
    plugin: {
      meta: {
        id: 'tusk-php-app',
        name: 'Tusk',
        type: PluginType.app,
        enabled: true,
        pinned: true,
        jsonData: {
          agents: [
            { name: 'web-1', url: 'http://10.0.0.5:7070' },
            { name: 'web-2', url: 'https://10.0.0.6:7070' },
          ],
        },
        secureJsonFields: { 'token.web-1': true },
      },
    },
    query: {},
  } as unknown as AppConfigProps;
  render(<AppConfig {...props} />);
}

describe('AppConfig', () => {
  const { location } = window;

  afterEach(() => {
    Object.defineProperty(window, 'location', { configurable: true, value: location });
  });

  beforeEach(() => {
    fetch.mockReset();
    jest.mocked(getBackendSrv).mockReturnValue({ fetch } as unknown as ReturnType<typeof getBackendSrv>);
  });

  it('renders the saved agents', () => {
    renderConfig();

    expect(screen.getByDisplayValue('web-1')).toBeInTheDocument();
    expect(screen.getByDisplayValue('https://10.0.0.6:7070')).toBeInTheDocument();
    expect(screen.getAllByDisplayValue('configured')).toHaveLength(1);
    expect(screen.getByRole('button', { name: /save settings/i })).toBeEnabled();
  });

  it('shows a successful connection test', async () => {
    fetch.mockReturnValue(
      of({ data: { name: 'web-1', ok: true, message: 'ok', host: 'php-1', version: '0.3.0', latencyMs: 12.4 } })
    );
    renderConfig();

    fireEvent.click(screen.getAllByRole('button', { name: /test connection/i })[0]);

    expect(await screen.findByText('Connected to php-1 (agent 0.3.0) in 12 ms')).toBeInTheDocument();
    expect(fetch).toHaveBeenCalledWith(
      expect.objectContaining({ url: '/api/plugins/tusk-php-app/resources/agents/web-1/check', method: 'GET' })
    );
  });

  it('shows the message of an agent that is not ok', async () => {
    fetch.mockReturnValue(of({ data: { name: 'web-1', ok: false, message: 'connection refused' } }));
    renderConfig();

    fireEvent.click(screen.getAllByRole('button', { name: /test connection/i })[0]);

    expect(await screen.findByText('connection refused')).toBeInTheDocument();
  });

  it('shows the error of a failed request', async () => {
    fetch.mockReturnValue(throwError(() => ({ status: 404, data: { error: 'no agent named web-1' } })));
    renderConfig();

    fireEvent.click(screen.getAllByRole('button', { name: /test connection/i })[0]);

    expect(await screen.findByText('no agent named web-1')).toBeInTheDocument();
  });

  it('asks to save before testing a changed agent', () => {
    renderConfig();

    fireEvent.change(screen.getByDisplayValue('http://10.0.0.5:7070'), { target: { value: 'http://10.0.0.9:7070' } });

    const [changed, untouched] = screen.getAllByRole('button', { name: /test connection/i });
    expect(changed).toBeDisabled();
    expect(untouched).toBeEnabled();
    expect(screen.getAllByText('Save first')).toHaveLength(1);
  });

  it('saves the agents and the entered tokens, then reloads', async () => {
    // jsdom cannot reload a page.
    const reload = jest.fn();
    Object.defineProperty(window, 'location', { configurable: true, value: { ...window.location, reload } });
    fetch.mockReturnValue(of({ data: {} }));
    renderConfig();

    fireEvent.change(screen.getAllByLabelText('Token')[1], { target: { value: 's3cret' } });
    fireEvent.click(screen.getByRole('button', { name: /save settings/i }));

    expect(fetch).toHaveBeenCalledWith({
      url: '/api/plugins/tusk-php-app/settings',
      method: 'POST',
      data: {
        enabled: true,
        pinned: true,
        jsonData: {
          agents: [
            { name: 'web-1', url: 'http://10.0.0.5:7070' },
            { name: 'web-2', url: 'https://10.0.0.6:7070' },
          ],
        },
        secureJsonData: { 'token.web-2': 's3cret' },
      },
    });
    await waitFor(() => expect(reload).toHaveBeenCalled());
  });
});
