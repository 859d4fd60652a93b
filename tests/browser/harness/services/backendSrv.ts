// A BackendSrv over window.fetch, keeping the parts of Grafana's contract plugins rely on: fetch() is a
// cold Observable of FetchResponse, errors are FetchError {status, data: {message}}, a newer request
// with the same requestId cancels the older one, and failed requests raise an error toast under the
// same rule as Grafana (explicit showErrorAlert, or undefined for a non-GET, non-query local request).
import { Observable, lastValueFrom } from 'rxjs';
import type { BackendSrv, BackendSrvRequest, FetchError, FetchResponse } from '@grafana/runtime';
import { toast } from './toasts';

const inFlight = new Map<string, AbortController>();

export class HarnessBackendSrv implements BackendSrv {
  fetch<T>(options: BackendSrvRequest): Observable<FetchResponse<T>> {
    return new Observable<FetchResponse<T>>((subscriber) => {
      const controller = new AbortController();
      if (options.requestId) {
        inFlight.get(options.requestId)?.abort();
        inFlight.set(options.requestId, controller);
      }
      send<T>(options, controller.signal).then(
        (response) => {
          subscriber.next(response);
          subscriber.complete();
        },
        (err: unknown) => {
          if (controller.signal.aborted) {
            // Grafana completes a cancelled request without a value.
            subscriber.complete();
            return;
          }
          maybeToastError(options, err);
          subscriber.error(err);
        }
      );
      return () => {
        if (options.requestId && inFlight.get(options.requestId) === controller) {
          inFlight.delete(options.requestId);
        }
        controller.abort();
      };
    });
  }

  async request<T>(options: BackendSrvRequest): Promise<T> {
    return (await lastValueFrom(this.fetch<T>(options))).data;
  }

  datasourceRequest<T>(options: BackendSrvRequest): Promise<FetchResponse<T>> {
    return lastValueFrom(this.fetch<T>(options));
  }

  get<T>(url: string, params?: unknown, requestId?: string, options?: Partial<BackendSrvRequest>): Promise<T> {
    return this.request<T>({
      ...options,
      url,
      params: params as BackendSrvRequest['params'],
      requestId,
      method: 'GET',
    });
  }

  delete<T>(url: string, data?: unknown, options?: Partial<BackendSrvRequest>): Promise<T> {
    return this.request<T>({ ...options, url, data, method: 'DELETE' });
  }

  post<T>(url: string, data?: unknown, options?: Partial<BackendSrvRequest>): Promise<T> {
    return this.request<T>({ ...options, url, data, method: 'POST' });
  }

  patch<T>(url: string, data?: unknown, options?: Partial<BackendSrvRequest>): Promise<T> {
    return this.request<T>({ ...options, url, data, method: 'PATCH' });
  }

  put<T>(url: string, data?: unknown, options?: Partial<BackendSrvRequest>): Promise<T> {
    return this.request<T>({ ...options, url, data, method: 'PUT' });
  }

  chunked(): Observable<FetchResponse<Uint8Array | undefined>> {
    throw new Error('harness: BackendSrv.chunked is not implemented');
  }
}

async function send<T>(options: BackendSrvRequest, signal: AbortSignal): Promise<FetchResponse<T>> {
  const method = (options.method ?? 'GET').toUpperCase();
  const headers = new Headers(options.headers as HeadersInit | undefined);
  let body: BodyInit | undefined;
  if (options.data !== undefined && method !== 'GET' && method !== 'HEAD') {
    if (typeof options.data === 'string' || options.data instanceof FormData || options.data instanceof Blob) {
      body = options.data;
    } else {
      body = JSON.stringify(options.data);
      if (!headers.has('Content-Type')) {
        headers.set('Content-Type', 'application/json');
      }
    }
  }
  if (!headers.has('Accept')) {
    headers.set('Accept', 'application/json, text/plain, */*');
  }
  const res = await fetch(withParams(options.url, options.params), {
    method,
    headers,
    body,
    signal,
    credentials: options.credentials ?? 'same-origin',
  });
  const data = (await readBody(res, options.responseType)) as T;
  const response: FetchResponse<T> = {
    data,
    status: res.status,
    statusText: res.statusText,
    ok: res.ok,
    headers: res.headers,
    redirected: res.redirected,
    type: res.type,
    url: res.url,
    config: options,
  };
  if (!res.ok) {
    throw toFetchError(response);
  }
  return response;
}

function withParams(url: string, params: unknown): string {
  if (!params || typeof params !== 'object') {
    return url;
  }
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params as Record<string, unknown>)) {
    if (value === undefined || value === null) {
      continue;
    }
    for (const v of Array.isArray(value) ? value : [value]) {
      search.append(key, String(v));
    }
  }
  const query = search.toString();
  return query ? `${url}${url.includes('?') ? '&' : '?'}${query}` : url;
}

async function readBody(res: Response, responseType: BackendSrvRequest['responseType']): Promise<unknown> {
  if (res.status === 204) {
    return undefined;
  }
  switch (responseType) {
    case 'blob':
      return res.blob();
    case 'arraybuffer':
      return res.arrayBuffer();
    case 'text':
      return res.text();
  }
  const text = await res.text();
  if (!text) {
    return undefined;
  }
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function toFetchError<T>(response: FetchResponse<T>): FetchError {
  const raw: unknown = response.data;
  // Grafana's backend_srv: a non-JSON body becomes {message, error, response}.
  const data =
    raw && typeof raw === 'object'
      ? { ...(raw as Record<string, unknown>) }
      : {
          message: typeof raw === 'string' && raw ? raw : response.statusText,
          error: response.statusText,
          response: raw,
        };
  if (!('message' in data) || !data.message) {
    const fromError = 'error' in data && typeof data.error === 'string' ? data.error : undefined;
    data.message = fromError || response.statusText || `HTTP ${response.status}`;
  }
  return {
    status: response.status,
    statusText: response.statusText,
    data,
    message: String(data.message),
    config: response.config,
  };
}

function isQuery(url: string): boolean {
  return url.includes('/api/ds/query') || url.includes('/api/tsdb/query');
}

function maybeToastError(options: BackendSrvRequest, err: unknown) {
  if (options.showErrorAlert === false) {
    return;
  }
  const method = (options.method ?? 'GET').toUpperCase();
  const local = options.url.startsWith('/') || options.url.startsWith('api/');
  if (options.showErrorAlert === undefined && (method === 'GET' || isQuery(options.url) || !local)) {
    return;
  }
  const e = err as Partial<FetchError<{ message?: string }>>;
  toast('error', `${e.status ?? ''} ${e.data?.message ?? (err instanceof Error ? err.message : String(err))}`.trim());
}
