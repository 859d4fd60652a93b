import { of, throwError } from 'rxjs';
import type { BackendSrvRequest } from '@grafana/runtime';
import { disableDeepMode, enableDeepMode, errorMessage, getFleet } from './api';

const fetchMock = jest.fn();

jest.mock('@grafana/runtime', () => ({
  ...jest.requireActual('@grafana/runtime'),
  getBackendSrv: () => ({ fetch: fetchMock }),
}));

function lastRequest(): BackendSrvRequest {
  return fetchMock.mock.calls[fetchMock.mock.calls.length - 1][0];
}

beforeEach(() => fetchMock.mockReset());

it('reads the fleet from the app resource, without a toast on failure', async () => {
  fetchMock.mockReturnValue(of({ data: { agents: [] } }));
  await expect(getFleet()).resolves.toEqual({ agents: [] });
  expect(lastRequest()).toMatchObject({
    url: '/api/plugins/tusk-php-app/resources/fleet',
    method: 'GET',
    showErrorAlert: false,
  });
});

it('posts a deep mode request to the named agent', async () => {
  const granted = { id: 'd1', pool: 'www', threshold: '1ms', maxDepth: 64, expiresAt: '', attachedPids: [] };
  fetchMock.mockReturnValue(of({ data: granted }));
  await expect(enableDeepMode('web 1', { pool: 'www', threshold: '1ms', for: '10m', maxDepth: 64 })).resolves.toBe(
    granted
  );
  expect(lastRequest()).toMatchObject({
    url: '/api/plugins/tusk-php-app/resources/agents/web%201/probes/deep',
    method: 'POST',
    data: { pool: 'www', threshold: '1ms', for: '10m', maxDepth: 64 },
  });
});

it('deletes a deep mode by id', async () => {
  fetchMock.mockReturnValue(of({ data: undefined, status: 204 }));
  await disableDeepMode('web-1', 'abc/1');
  expect(lastRequest()).toMatchObject({
    url: '/api/plugins/tusk-php-app/resources/agents/web-1/probes/deep/abc%2F1',
    method: 'DELETE',
  });
});

describe('errorMessage', () => {
  it("passes the agent's message on", async () => {
    const error = { status: 400, data: { error: 'agent web-1: pool "www" has no deep-capable PHP' } };
    fetchMock.mockReturnValue(throwError(() => error));
    const failure = await enableDeepMode('web-1', { pool: 'www' }).catch((e: unknown) => e);
    expect(errorMessage(failure)).toBe('agent web-1: pool "www" has no deep-capable PHP');
  });

  it('falls back to the status', () => {
    expect(errorMessage({ status: 502, data: {}, statusText: 'Bad Gateway' })).toBe('Bad Gateway');
    expect(errorMessage(new Error('boom'))).toBe('boom');
    expect(errorMessage('plain')).toBe('plain');
  });
});
