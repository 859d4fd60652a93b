// The deep-mode form's values, their checks, the request they make and what it will cost.
import { parseDuration } from '../../fleet/duration';
import {
  DEEP_MODE_SLOWDOWN,
  deepModeCostMs,
  PROBE_HIT_MICROSECONDS,
  WORDPRESS_FRONT_PAGE_CALLS,
} from '../../fleet/format';
import { poolRows, type PoolRow } from '../../fleet/poolRows';
import { type AgentStatus, DEEP_MODE_DEFAULTS, type DeepModeRequest } from '../../fleet/types';

export type DeepTarget = 'pool' | 'pids';

export interface DeepModeFormValues {
  /** PoolRow id of the chosen pool. */
  poolId: string;
  target: DeepTarget;
  /** With target pids: the chosen workers of the pool. */
  pids: number[];
  threshold: string;
  minutes: string;
  maxDepth: string;
}

export const MAX_DEPTH_LIMIT = 1024;

export function defaultFormValues(poolId = ''): DeepModeFormValues {
  return {
    poolId,
    target: 'pool',
    pids: [],
    threshold: DEEP_MODE_DEFAULTS.threshold,
    minutes: String(DEEP_MODE_DEFAULTS.minutes),
    maxDepth: String(DEEP_MODE_DEFAULTS.maxDepth),
  };
}

/** Pools whose PHP can fire function probes: the master was started with USE_ZEND_DTRACE=1. */
export function deepCapablePools(status: AgentStatus | undefined): PoolRow[] {
  return poolRows(status).filter((row) => row.pool && row.binary.deepAvailable);
}

export type DeepModeFormErrors = Partial<Record<keyof DeepModeFormValues, string>>;

export function validateDeepMode(values: DeepModeFormValues, pools: PoolRow[]): DeepModeFormErrors {
  const errors: DeepModeFormErrors = {};
  const row = pools.find((p) => p.id === values.poolId);
  if (!row) {
    errors.poolId = 'Choose a pool';
  } else if (values.target === 'pids') {
    const workers = row.pool?.workerPids ?? [];
    if (values.pids.length === 0) {
      errors.pids = 'Choose at least one worker';
    } else if (values.pids.some((pid) => !workers.includes(pid))) {
      errors.pids = 'Some of these processes are no longer workers of the pool: choose again';
    }
  }
  const threshold = parseDuration(values.threshold);
  if (threshold === undefined) {
    errors.threshold = 'A duration such as 500us, 1ms or 5ms';
  }
  const minutes = Number(values.minutes);
  if (!Number.isInteger(minutes) || minutes < 1 || minutes > DEEP_MODE_DEFAULTS.maxMinutes) {
    errors.minutes = `Whole minutes, 1 to ${DEEP_MODE_DEFAULTS.maxMinutes} (24 hours)`;
  }
  const depth = Number(values.maxDepth);
  if (!Number.isInteger(depth) || depth < 1 || depth > MAX_DEPTH_LIMIT) {
    errors.maxDepth = `1 to ${MAX_DEPTH_LIMIT}`;
  }
  return errors;
}

export function hasErrors(errors: DeepModeFormErrors): boolean {
  return Object.values(errors).some(Boolean);
}

/** The body of POST agents/{name}/probes/deep: the pool, or chosen workers of it. Call only on valid values. */
export function toDeepModeRequest(values: DeepModeFormValues, pools: PoolRow[]): DeepModeRequest {
  const row = pools.find((p) => p.id === values.poolId);
  const request: DeepModeRequest = {
    threshold: values.threshold.trim(),
    for: `${Number(values.minutes)}m`,
    maxDepth: Number(values.maxDepth),
  };
  if (values.target === 'pids') {
    request.pids = [...values.pids].sort((a, b) => a - b);
  } else {
    request.pool = row?.pool?.name;
  }
  return request;
}

export interface DeepModeCost {
  /** Who pays: "pool www (4 workers)" or "2 workers of pool www (PIDs 101, 102)". */
  target: string;
  /** The cost lines to confirm. */
  lines: string[];
}

/** What enabling deep mode will cost, to confirm before it is asked for. */
export function deepModeCost(values: DeepModeFormValues, pools: PoolRow[], nowMs: number): DeepModeCost {
  const row = pools.find((p) => p.id === values.poolId);
  const poolName = row?.pool?.name ?? '?';
  const workers = row?.pool?.workerPids?.length ?? 0;
  const target =
    values.target === 'pids'
      ? `${values.pids.length} ${values.pids.length === 1 ? 'worker' : 'workers'} of pool ${poolName} (PID ${values.pids.join(', ')})`
      : `pool ${poolName} (${workers} ${workers === 1 ? 'worker' : 'workers'} now, and those it starts)`;
  const minutes = Number(values.minutes);
  const until = new Date(nowMs + minutes * 60_000);
  const extraMs = Math.round(deepModeCostMs(WORDPRESS_FRONT_PAGE_CALLS));
  return {
    target,
    lines: [
      `Every PHP function call in ${target} hits a probe, about ${PROBE_HIT_MICROSECONDS} µs of CPU each.`,
      `A request making ${WORDPRESS_FRONT_PAGE_CALLS.toLocaleString('en-US')} userland calls, as a WordPress front ` +
        `page does, spends about ${extraMs} ms more CPU and runs about ${DEEP_MODE_SLOWDOWN} slower.`,
      `The threshold (${values.threshold.trim()}) and maximum depth (${Number(values.maxDepth)}) limit which calls ` +
        'are kept as spans, not the probe hits: every call is paid for.',
      `Deep mode turns itself off after ${minutes} ${minutes === 1 ? 'minute' : 'minutes'}, at ` +
        `${until.toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit' })}, or when you turn it off here.`,
      'This PHP was started with USE_ZEND_DTRACE=1, which deep mode needs: its opcache JIT is already off, ' +
        'whether deep mode is on or not.',
      ...(values.target === 'pids'
        ? [
            `${values.pids.length === 1 ? 'This worker runs' : 'These workers run'} at nice ${DEEP_MODE_DEFAULTS.nice} ` +
              "while deep mode is on: the extra CPU comes out of what the pool's other workers leave, and on a busy " +
              'host the requests being looked at wait instead of everyone else.',
          ]
        : []),
    ],
  };
}
