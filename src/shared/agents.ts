// Agent settings shared by the app and the data source: both keep the same
// jsonData and secureJsonData shape so the Go backend reads them the same way.

export interface AgentConfig {
  name: string;
  url: string;
  /** PEM; only for agents whose certificate is not signed by a system CA. */
  tlsCACert?: string;
}

export interface AgentsJsonData {
  agents?: AgentConfig[];
  timeoutSeconds?: number;
}

/** secureJsonData: the bearer token of each agent under tokenKey(agent name). */
export type AgentTokens = Record<string, string>;

/**
 * What the editor edits. secureJsonFields come from Grafana and say which
 * secrets it holds; a key set to false is one this editor cleared, which is
 * saved as '' because Grafana keeps any secure key it is not sent.
 */
export interface AgentsSettings<J extends AgentsJsonData = AgentsJsonData> {
  jsonData: J;
  secureJsonData: AgentTokens;
  secureJsonFields: Record<string, boolean>;
}

export const tokenKey = (agentName: string) => `token.${agentName}`;

export interface TokenState {
  /** Grafana holds a token for this name and it has not been reset. */
  configured: boolean;
  /** The token typed in this session, not saved yet. */
  entered: string;
}

export function tokenState(settings: AgentsSettings, agentName: string): TokenState {
  const key = tokenKey(agentName);
  return { configured: settings.secureJsonFields[key] === true, entered: settings.secureJsonData[key] ?? '' };
}

export function listAgents(settings: AgentsSettings): AgentConfig[] {
  return settings.jsonData.agents ?? [];
}

function withAgents<J extends AgentsJsonData>(settings: AgentsSettings<J>, agents: AgentConfig[]): AgentsSettings<J> {
  return { ...settings, jsonData: { ...settings.jsonData, agents } };
}

export function addAgent<J extends AgentsJsonData>(settings: AgentsSettings<J>): AgentsSettings<J> {
  return withAgents(settings, [...listAgents(settings), { name: '', url: '' }]);
}

export function updateAgent<J extends AgentsJsonData>(
  settings: AgentsSettings<J>,
  index: number,
  patch: Partial<Omit<AgentConfig, 'name'>>
): AgentsSettings<J> {
  return withAgents(
    settings,
    listAgents(settings).map((agent, i) => (i === index ? { ...agent, ...patch } : agent))
  );
}

/** Forgets the token stored under key: cleared on save if Grafana holds one. */
function dropToken<J extends AgentsJsonData>(settings: AgentsSettings<J>, key: string): AgentsSettings<J> {
  const { [key]: _dropped, ...secureJsonData } = settings.secureJsonData;
  if (!(key in settings.secureJsonFields)) {
    return { ...settings, secureJsonData };
  }
  return {
    ...settings,
    secureJsonData: { ...secureJsonData, [key]: '' },
    secureJsonFields: { ...settings.secureJsonFields, [key]: false },
  };
}

/**
 * Renames agent index and moves its token key along. A token typed in this
 * session moves with it; a saved one cannot be read back, so it is cleared and
 * must be entered again under the new name.
 */
export function renameAgent<J extends AgentsJsonData>(
  settings: AgentsSettings<J>,
  index: number,
  name: string
): AgentsSettings<J> {
  const oldName = listAgents(settings)[index]?.name ?? '';
  if (oldName === name) {
    return settings;
  }
  const { entered } = tokenState(settings, oldName);
  let next = dropToken(settings, tokenKey(oldName));
  if (entered) {
    next = setToken(next, name, entered);
  }
  return withAgents(
    next,
    listAgents(next).map((agent, i) => (i === index ? { ...agent, name } : agent))
  );
}

export function removeAgent<J extends AgentsJsonData>(settings: AgentsSettings<J>, index: number): AgentsSettings<J> {
  const removed = listAgents(settings)[index];
  if (!removed) {
    return settings;
  }
  const next = dropToken(settings, tokenKey(removed.name));
  return withAgents(
    next,
    listAgents(next).filter((_, i) => i !== index)
  );
}

export function setToken<J extends AgentsJsonData>(
  settings: AgentsSettings<J>,
  agentName: string,
  token: string
): AgentsSettings<J> {
  return { ...settings, secureJsonData: { ...settings.secureJsonData, [tokenKey(agentName)]: token } };
}

export function resetToken<J extends AgentsJsonData>(
  settings: AgentsSettings<J>,
  agentName: string
): AgentsSettings<J> {
  const key = tokenKey(agentName);
  return {
    ...settings,
    secureJsonData: { ...settings.secureJsonData, [key]: '' },
    secureJsonFields: { ...settings.secureJsonFields, [key]: false },
  };
}

export interface AgentErrors {
  name?: string;
  url?: string;
}

// Names end up in secure keys and in resource paths (agents/<name>/check).
const AGENT_NAME = /^[A-Za-z0-9._-]+$/;
const HTTP_URL = /^https?:\/\/[^\s/?#]+/i;

export function validateAgents(agents: AgentConfig[]): AgentErrors[] {
  return agents.map((agent, index) => ({
    name: nameError(agent.name, agents, index),
    url: urlError(agent.url),
  }));
}

export function hasAgentErrors(agents: AgentConfig[]): boolean {
  return validateAgents(agents).some((errors) => errors.name || errors.url);
}

function nameError(name: string, agents: AgentConfig[], index: number): string | undefined {
  if (!name) {
    return 'Name is required';
  }
  if (!AGENT_NAME.test(name)) {
    return 'Use only letters, digits, ".", "_" and "-"';
  }
  if (agents.some((other, i) => i !== index && other.name === name)) {
    return 'Another agent has this name';
  }
  return undefined;
}

function urlError(url: string): string | undefined {
  if (!url) {
    return 'URL is required';
  }
  if (!HTTP_URL.test(url)) {
    return 'URL must start with http:// or https://';
  }
  return undefined;
}
