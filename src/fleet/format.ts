// Formatting of agent status and the cost figures the pages show, in one place so the Overview and Probes pages
// say the same thing the same way.
import type { AgentState, DeepMode, PhpBinary, Probe } from './types';

/** One probe hit (uprobe or USDT, with its event) costs about this much CPU, measured on the test machine. */
export const PROBE_HIT_MICROSECONDS = 0.7;

/** Userland PHP function calls a WordPress front page makes, measured; each is a probe hit in deep mode. */
export const WORDPRESS_FRONT_PAGE_CALLS = 126_000;

/** How much slower deep mode made such a request, measured. */
export const DEEP_MODE_SLOWDOWN = '5–6×';

export const OVERHEAD_EXPLANATION =
  `Estimate: events per second × ${PROBE_HIT_MICROSECONDS} µs (the CPU time of one probe hit measured on a test ` +
  'machine), as a share of one CPU core. Probes that fire without sending an event, and the agent’s own work, ' +
  'are not counted; real cost depends on the CPU.';

/** The CPU share, in percent of one core, that this many probe hits per second cost. */
export function overheadPercent(eventsPerSecond: number): number {
  return ((eventsPerSecond * PROBE_HIT_MICROSECONDS) / 1e6) * 100;
}

export function formatPercent(percent: number): string {
  if (!Number.isFinite(percent) || percent <= 0) {
    return '0 %';
  }
  if (percent < 0.01) {
    return '< 0.01 %';
  }
  const digits = percent < 1 ? 2 : percent < 10 ? 1 : 0;
  return `${percent.toFixed(digits)} %`;
}

/** "≈ 0.02 % of one CPU" */
export function formatOverhead(eventsPerSecond: number): string {
  return `≈ ${formatPercent(overheadPercent(eventsPerSecond))} of one CPU`;
}

/** 0.4 → "0.4/s", 299.6 → "300/s", 12_345 → "12.3k/s". */
export function formatRate(perSecond: number): string {
  if (!Number.isFinite(perSecond) || perSecond <= 0) {
    return '0/s';
  }
  if (perSecond >= 1e6) {
    return `${(perSecond / 1e6).toFixed(1)}M/s`;
  }
  if (perSecond >= 1e4) {
    return `${(perSecond / 1e3).toFixed(1)}k/s`;
  }
  return perSecond < 10 ? `${Number(perSecond.toFixed(1))}/s` : `${Math.round(perSecond)}/s`;
}

/** Lost ring-buffer events: "none", or the count and its share of all events. */
export function formatLost(lost: number, total: number): string {
  if (!lost) {
    return 'none';
  }
  const share = total + lost > 0 ? (lost / (total + lost)) * 100 : 0;
  return `${lost.toLocaleString('en-US')} (${formatPercent(share)})`;
}

/** "PHP 8.2.36 fpm" plus ", ZTS" for thread-safe builds. */
export function phpLabel(binary: PhpBinary): string {
  return `PHP ${binary.version || '?'} ${binary.sapi}${binary.zts ? ', ZTS' : ''}`;
}

const MODE_LABELS: Record<string, string> = {
  usdt: 'USDT probes',
  uprobe: 'uprobes',
  none: 'not traced',
};

/** How requests of this binary are traced, in words. */
export function modeLabel(mode: string): string {
  return MODE_LABELS[mode] ?? mode;
}

export type ProbeKind = 'request' | 'error' | 'io' | 'function' | 'other';

/** What a probe watches, from its name: "php:request__startup", "io:pdo::query", "php:function__entry"… */
export function probeKind(name: string): ProbeKind {
  if (/^php:function__(entry|return)/.test(name)) {
    return 'function';
  }
  if (/^php:request__/.test(name)) {
    return 'request';
  }
  if (/^php:(error|exception__)/.test(name)) {
    return 'error';
  }
  if (name.startsWith('io:')) {
    return 'io';
  }
  return 'other';
}

const KIND_LABELS: Record<ProbeKind, string> = {
  request: 'request',
  error: 'error/exception',
  io: 'I/O',
  function: 'function (deep mode)',
  other: 'other',
};

export interface ProbeCount {
  kind: ProbeKind;
  label: string;
  count: number;
}

/** Probes attached to one binary, counted by kind, in a fixed order. */
export function countProbes(probes: Probe[] | null | undefined, binaryPath: string): ProbeCount[] {
  const counts = new Map<ProbeKind, number>();
  for (const probe of probes ?? []) {
    if (probe.binary === binaryPath) {
      const kind = probeKind(probe.name);
      counts.set(kind, (counts.get(kind) ?? 0) + 1);
    }
  }
  return (Object.keys(KIND_LABELS) as ProbeKind[])
    .filter((kind) => counts.has(kind))
    .map((kind) => ({ kind, label: KIND_LABELS[kind], count: counts.get(kind)! }));
}

/** "3 request, 2 error/exception, 84 I/O" */
export function formatProbeCounts(counts: ProbeCount[]): string {
  return counts.length ? counts.map((c) => `${c.count} ${c.label}`).join(', ') : 'none';
}

/** Seconds, minutes, hours, days: "45s", "9m 12s", "3h 5m", "2d 4h". */
export function formatSpan(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) {
    return `${s}s`;
  }
  if (s < 3600) {
    return `${Math.floor(s / 60)}m ${s % 60}s`;
  }
  if (s < 86400) {
    return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  }
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}

/** Time left of a deep mode: "9m 12s left", or "expired". */
export function formatCountdown(expiresAt: string, nowMs: number): string {
  const left = Date.parse(expiresAt) - nowMs;
  if (!Number.isFinite(left)) {
    return 'expiry unknown';
  }
  return left <= 0 ? 'expired' : `${formatSpan(left)} left`;
}

/** "web-1, agent v1.2, up 3h 5m" */
export function agentSummary(agent: AgentState, nowMs: number): string {
  const status = agent.status;
  if (!status) {
    return agent.url;
  }
  const up = Date.parse(status.startedAt);
  const parts = [status.host || agent.name, `agent ${status.version}`];
  if (Number.isFinite(up)) {
    parts.push(`up ${formatSpan(nowMs - up)}`);
  }
  return parts.join(', ');
}

/** Who a deep mode covers: "pool www" or "PIDs 101, 102". */
export function deepModeTarget(mode: DeepMode): string {
  if (mode.pool) {
    return `pool ${mode.pool}`;
  }
  const pids = mode.pids ?? [];
  return `${pids.length === 1 ? 'PID' : 'PIDs'} ${pids.join(', ')}`;
}

/** PHP processes one pool of the binary runs: workers and master. */
export function poolPids(binary: PhpBinary, poolName: string): number[] {
  const pool = binary.pools?.find((p) => p.name === poolName);
  return pool?.workerPids ?? [];
}

/** Extra CPU time a request making `calls` userland calls spends in probes in deep mode, in milliseconds. */
export function deepModeCostMs(calls: number): number {
  return (calls * PROBE_HIT_MICROSECONDS) / 1000;
}
