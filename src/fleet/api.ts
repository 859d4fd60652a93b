// Calls to the app backend's resources (pkg/plugin/resources.go), through Grafana's backend service only.
import { lastValueFrom } from 'rxjs';
import { getBackendSrv, isFetchError } from '@grafana/runtime';
import { resourceUrl } from '../constants';
import type { DeepMode, DeepModeRequest, FleetResponse } from './types';

async function call<T>(method: 'GET' | 'POST' | 'DELETE', path: string, data?: unknown): Promise<T> {
  const response = await lastValueFrom(
    getBackendSrv().fetch<T>({
      url: resourceUrl(path),
      method,
      data,
      // Pages show what went wrong where it happened, not as a global toast.
      showErrorAlert: false,
      showSuccessAlert: false,
    })
  );
  return response.data;
}

const agentPath = (agent: string) => `agents/${encodeURIComponent(agent)}`;

/** Every agent's status at once; an agent that does not answer is a row with its error. */
export function getFleet(): Promise<FleetResponse> {
  return call<FleetResponse>('GET', 'fleet');
}

export function enableDeepMode(agent: string, request: DeepModeRequest): Promise<DeepMode> {
  return call<DeepMode>('POST', `${agentPath(agent)}/probes/deep`, request);
}

export async function disableDeepMode(agent: string, id: string): Promise<void> {
  await call<unknown>('DELETE', `${agentPath(agent)}/probes/deep/${encodeURIComponent(id)}`);
}

/** The message to show for a failed call: the backend's {"error": …} (the agent's own words), else HTTP's. */
export function errorMessage(error: unknown): string {
  if (isFetchError<{ error?: string; message?: string } | undefined>(error)) {
    return (
      error.data?.error || error.data?.message || error.message || error.statusText || `HTTP error ${error.status}`
    );
  }
  return error instanceof Error ? error.message : String(error);
}
