import { goldenStatus } from '../../testing/golden';
import type { AgentStatus } from '../../fleet/types';
import {
  deepCapablePools,
  deepModeCost,
  defaultFormValues,
  hasErrors,
  toDeepModeRequest,
  validateDeepMode,
} from './deepModeForm';

/** The recorded status, with its PHP started with USE_ZEND_DTRACE=1. */
function deepStatus(): AgentStatus {
  const status = goldenStatus();
  status.binaries = status.binaries!.map((b) => ({ ...b, deepAvailable: true, deepReason: undefined }));
  return status;
}

describe('deepCapablePools', () => {
  it('has none when PHP was not started with USE_ZEND_DTRACE=1, as recorded', () => {
    const status = goldenStatus();
    expect(status.binaries![0].deepAvailable).toBe(false);
    expect(deepCapablePools(status)).toEqual([]);
  });

  it('lists the pools of capable binaries', () => {
    expect(deepCapablePools(deepStatus()).map((row) => row.pool?.name)).toEqual(['fixture', 'upstream']);
  });
});

describe('the form', () => {
  const pools = deepCapablePools(deepStatus());
  const fixture = pools[0];
  const workers = fixture.pool!.workerPids!;

  it('starts valid on the first pool with the agent defaults', () => {
    const values = defaultFormValues(fixture.id);
    expect(values).toMatchObject({ target: 'pool', threshold: '1ms', minutes: '10', maxDepth: '64' });
    expect(hasErrors(validateDeepMode(values, pools))).toBe(false);
    expect(toDeepModeRequest(values, pools)).toEqual({ pool: 'fixture', threshold: '1ms', for: '10m', maxDepth: 64 });
  });

  it('sends chosen workers as PIDs', () => {
    const values = { ...defaultFormValues(fixture.id), target: 'pids' as const, pids: [workers[1], workers[0]] };
    expect(validateDeepMode(values, pools)).toEqual({});
    expect(toDeepModeRequest(values, pools)).toEqual({
      pids: [...workers].sort((a, b) => a - b),
      threshold: '1ms',
      for: '10m',
      maxDepth: 64,
    });
  });

  it('says what is wrong', () => {
    const values = {
      ...defaultFormValues('nope'),
      threshold: 'fast',
      minutes: '0',
      maxDepth: '1e9',
    };
    expect(validateDeepMode(values, pools)).toEqual({
      poolId: 'Choose a pool',
      threshold: 'A duration such as 500us, 1ms or 5ms',
      minutes: 'Whole minutes, 1 to 1440 (24 hours)',
      maxDepth: '1 to 1024',
    });
    const noPids = { ...defaultFormValues(fixture.id), target: 'pids' as const };
    expect(validateDeepMode(noPids, pools).pids).toBe('Choose at least one worker');
    const gone = { ...noPids, pids: [1] };
    expect(validateDeepMode(gone, pools).pids).toMatch(/no longer workers/);
  });

  it('states the cost: probe hits, the WordPress slowdown, what the threshold does not save, and the expiry', () => {
    const now = Date.parse('2026-11-26T10:00:00Z');
    const cost = deepModeCost({ ...defaultFormValues(fixture.id), minutes: '15' }, pools, now);
    expect(cost.target).toBe(`pool fixture (${workers.length} workers now, and those it starts)`);
    expect(cost.lines[0]).toBe(`Every PHP function call in ${cost.target} hits a probe, about 0.7 µs of CPU each.`);
    expect(cost.lines[1]).toBe(
      'A request making 126,000 userland calls, as a WordPress front page does, spends about 88 ms more CPU and runs about 5–6× slower.'
    );
    expect(cost.lines[2]).toMatch(/not the probe hits/);
    expect(cost.lines[3]).toMatch(/^Deep mode turns itself off after 15 minutes, at \d\d:\d\d/);
    expect(cost.lines[4]).toMatch(/USE_ZEND_DTRACE=1.*JIT is already off/);
    expect(cost.lines).toHaveLength(5); // a pool keeps its priority
    const one = deepModeCost({ ...defaultFormValues(fixture.id), target: 'pids', pids: [workers[0]] }, pools, now);
    expect(one.lines[5]).toMatch(/^This worker runs at nice 10 while deep mode is on: .*other workers leave/);
  });
});
