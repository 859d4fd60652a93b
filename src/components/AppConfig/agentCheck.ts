import { lastValueFrom } from 'rxjs';
import { getBackendSrv, isFetchError } from '@grafana/runtime';

/** Answer of the app backend resource GET agents/<name>/check. */
export interface AgentCheckResult {
  name: string;
  ok: boolean;
  message: string;
  version?: string;
  host?: string;
  latencyMs?: number;
}

export async function checkAgent(pluginId: string, agentName: string): Promise<AgentCheckResult> {
  const response = await lastValueFrom(
    getBackendSrv().fetch<AgentCheckResult>({
      url: `/api/plugins/${pluginId}/resources/agents/${encodeURIComponent(agentName)}/check`,
      method: 'GET',
      // The answer is shown next to the agent, not as a global toast.
      showErrorAlert: false,
    })
  );
  return response.data;
}

export function describeSuccess(result: AgentCheckResult): string {
  const version = result.version ? ` (agent ${result.version})` : '';
  const latency = result.latencyMs !== undefined ? ` in ${Math.round(result.latencyMs)} ms` : '';
  return `Connected to ${result.host || result.name}${version}${latency}`;
}

export function describeError(error: unknown): string {
  if (isFetchError<{ error?: string; message?: string } | undefined>(error)) {
    return error.data?.error || error.data?.message || error.message || error.statusText || `HTTP ${error.status}`;
  }
  return error instanceof Error ? error.message : String(error);
}
