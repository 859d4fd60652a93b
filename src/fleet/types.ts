// The JSON of the app backend's fleet and probe-control resources: pkg/plugin/resources.go (AgentState) and
// pkg/agentapi/types.go (Status and what it holds). Only the fields the pages read are typed.

/** GET fleet. */
export interface FleetResponse {
  agents: AgentState[];
}

/** One agent in GET fleet: ok with its status, or not with the reason. */
export interface AgentState {
  name: string;
  url: string;
  ok: boolean;
  error?: string;
  status?: AgentStatus;
  latencyMs: number;
}

export interface AgentStatus {
  version: string;
  host: string;
  startedAt: string;
  binaries: PhpBinary[] | null;
  probes: Probe[] | null;
  deepModes: DeepMode[] | null;
  events: Events;
  store: Store;
  profiling: Profiling;
  export?: ExportStatus;
}

export interface PhpBinary {
  path: string;
  /** "dev:inode" */
  id: string;
  version: string;
  zts: boolean;
  /** "fpm" or "cli" */
  sapi: string;
  dtrace: boolean;
  /** How requests are traced: "usdt", "uprobe" or "none"; modeReason says why. */
  mode: string;
  modeReason: string;
  ioHooks: string[] | null;
  ioReason?: string;
  stackWalk: boolean;
  /** Function probes can fire: the master was started with USE_ZEND_DTRACE=1. deepReason says why not. */
  deepAvailable: boolean;
  deepReason?: string;
  pools: Pool[] | null;
}

export interface Pool {
  name: string;
  service: string;
  masterPid?: number;
  workerPids: number[] | null;
  pod?: string;
  namespace?: string;
  container?: string;
}

export interface Probe {
  binary: string;
  /** e.g. "php:request__startup", "io:pdo::query" */
  name: string;
  offset: number;
  /** Absent or 0: every process of the binary. */
  pid?: number;
}

export interface Events {
  total: number;
  perSecond: number;
  lost: number;
  lostPerCpu: number[] | null;
  ringBytes: number;
  /** Function names a process sent over its budget of symbol events, held back and sent later. */
  symbolsLimited?: number;
}

export interface Store {
  path: string;
  sizeBytes: number;
  traces: number;
  written: number;
  dropped: number;
  writeErrors: number;
  lastError?: string;
}

export interface Profiling {
  enabled: boolean;
  hz: number;
  cpus: number;
  error?: string;
}

export interface ExportStatus {
  endpoint: string;
  protocol: string;
  droppedTraces: number;
  failedTraces: number;
  lastError?: string;
}

/** POST agents/{name}/probes/deep: exactly one of pool or pids. */
export interface DeepModeRequest {
  pool?: string;
  pids?: number[];
  /** Go duration: function calls shorter than this are not kept ("1ms"). */
  threshold?: string;
  /** Go duration: deep mode turns itself off after this ("10m"). */
  for?: string;
  maxDepth?: number;
  /** Nice value (0–19) the processes run at while deep mode is on; the agent's default: 19 for pids, unchanged for a pool. */
  nice?: number;
}

/** An active deep-mode grant. */
export interface DeepMode {
  id: string;
  pool?: string;
  pids?: number[];
  threshold: string;
  maxDepth: number;
  /** RFC 3339 */
  expiresAt: string;
  attachedPids: number[] | null;
  /** Nice value the processes run at while deep mode is on (0: unchanged; absent from agents before it). */
  nice?: number;
  /** Why a process kept its priority (the agent lacks CAP_SYS_NICE…). */
  niceError?: string;
}

/** Limits and defaults of deep mode (pkg/agentapi/types.go). */
export const DEEP_MODE_DEFAULTS = {
  threshold: '1ms',
  minutes: 10,
  maxMinutes: 24 * 60,
  maxDepth: 64,
  /** Nice value of chosen workers while deep mode is on (agentapi.DefaultDeepNice). */
  nice: 10,
} as const;
