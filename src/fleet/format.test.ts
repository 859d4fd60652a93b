import { goldenStatus } from '../testing/golden';
import {
  agentSummary,
  countProbes,
  deepModeCostMs,
  deepModeTarget,
  formatCountdown,
  formatLost,
  formatOverhead,
  formatPercent,
  formatProbeCounts,
  formatRate,
  formatSpan,
  modeLabel,
  overheadPercent,
  phpLabel,
  probeKind,
} from './format';

describe('overhead estimate', () => {
  it('is events per second times 0.7 µs, as a share of one CPU', () => {
    // 1M hits/s × 0.7 µs = 0.7 s of CPU per second.
    expect(overheadPercent(1_000_000)).toBeCloseTo(70);
    expect(overheadPercent(10_000)).toBeCloseTo(0.7);
    expect(overheadPercent(0)).toBe(0);
  });

  it('reads as an estimate of one CPU', () => {
    expect(formatOverhead(10_000)).toBe('≈ 0.70 % of one CPU');
    expect(formatOverhead(300)).toBe('≈ 0.02 % of one CPU');
    expect(formatOverhead(1)).toBe('≈ < 0.01 % of one CPU');
  });

  it('rounds percentages by size', () => {
    expect(formatPercent(0)).toBe('0 %');
    expect(formatPercent(0.123)).toBe('0.12 %');
    expect(formatPercent(4.56)).toBe('4.6 %');
    expect(formatPercent(42.4)).toBe('42 %');
    expect(formatPercent(NaN)).toBe('0 %');
  });
});

describe('rates and losses', () => {
  it('formats rates', () => {
    expect(formatRate(0)).toBe('0/s');
    expect(formatRate(0.25)).toBe('0.3/s');
    expect(formatRate(299.665)).toBe('300/s');
    expect(formatRate(12_345)).toBe('12.3k/s');
    expect(formatRate(2_500_000)).toBe('2.5M/s');
  });

  it('says none or how many were lost, and their share', () => {
    expect(formatLost(0, 300)).toBe('none');
    expect(formatLost(100, 900)).toBe('100 (10 %)');
  });
});

describe('binaries and probes of the recorded agent', () => {
  const status = goldenStatus();
  const binary = status.binaries![0];

  it('labels PHP and its tracing mode', () => {
    expect(phpLabel(binary)).toBe('PHP 8.2.36 fpm');
    expect(phpLabel({ ...binary, zts: true })).toBe('PHP 8.2.36 fpm, ZTS');
    expect(modeLabel(binary.mode)).toBe('USDT probes');
    expect(modeLabel('uprobe')).toBe('uprobes');
    expect(modeLabel('none')).toBe('not traced');
  });

  it('counts the attached probes by kind', () => {
    const counts = countProbes(status.probes, binary.path);
    const io = status.probes!.filter((p) => p.name.startsWith('io:')).length;
    expect(counts.map((c) => c.kind)).toEqual(['request', 'error', 'io']);
    expect(counts[0]).toEqual({ kind: 'request', label: 'request', count: 2 });
    expect(counts[2].count).toBe(io);
    expect(counts.reduce((sum, c) => sum + c.count, 0)).toBe(status.probes!.length);
    expect(formatProbeCounts(counts)).toBe(`2 request, ${counts[1].count} error/exception, ${io} I/O`);
    expect(formatProbeCounts(countProbes(status.probes, '/other/php'))).toBe('none');
  });

  it('knows function probes', () => {
    expect(probeKind('php:function__entry')).toBe('function');
    expect(probeKind('php:function__return')).toBe('function');
    expect(probeKind('uprobe:something')).toBe('other');
  });

  it('summarizes the agent', () => {
    const started = Date.parse(status.startedAt);
    const agent = { name: 'web-1', url: 'http://web-1:7070', ok: true, latencyMs: 1, status };
    expect(agentSummary(agent, started + 3 * 3600_000 + 5 * 60_000)).toBe('web-1, agent dev, up 3h 5m');
    expect(agentSummary({ ...agent, ok: false, status: undefined }, 0)).toBe('http://web-1:7070');
  });
});

describe('time spans and countdowns', () => {
  it('formats spans', () => {
    expect(formatSpan(45_000)).toBe('45s');
    expect(formatSpan(552_000)).toBe('9m 12s');
    expect(formatSpan(2 * 86400_000 + 4 * 3600_000)).toBe('2d 4h');
    expect(formatSpan(-5)).toBe('0s');
  });

  it('counts down to expiry', () => {
    const expiresAt = '2026-11-26T10:10:00Z';
    expect(formatCountdown(expiresAt, Date.parse('2026-11-26T10:00:48Z'))).toBe('9m 12s left');
    expect(formatCountdown(expiresAt, Date.parse('2026-11-26T10:10:00Z'))).toBe('expired');
    expect(formatCountdown('not a time', 0)).toBe('expiry unknown');
  });
});

describe('deep mode', () => {
  it('names its target', () => {
    const base = { id: 'd1', threshold: '1ms', maxDepth: 64, expiresAt: '', attachedPids: [] };
    expect(deepModeTarget({ ...base, pool: 'www' })).toBe('pool www');
    expect(deepModeTarget({ ...base, pids: [101] })).toBe('PID 101');
    expect(deepModeTarget({ ...base, pids: [101, 102] })).toBe('PIDs 101, 102');
  });

  it('costs 0.7 µs per call', () => {
    // The WordPress front page: 126k calls → about 88 ms more CPU.
    expect(deepModeCostMs(126_000)).toBeCloseTo(88.2);
  });
});
