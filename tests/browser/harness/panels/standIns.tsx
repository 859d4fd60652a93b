// Stand-ins for Grafana core panels (see registry.ts for why). Each renders the panel's data with what
// the core panel is built on and carries a caption and data-testid saying what it is, so neither a
// screenshot nor a test mistakes it for Grafana's panel.
import React, { type ReactNode, useMemo } from 'react';
import { css } from '@emotion/css';
import { type DataFrame, type Field, FieldType, type GrafanaTheme2, type PanelProps } from '@grafana/data';
import { LegendDisplayMode } from '@grafana/schema';
import { Table, TimeSeries, useStyles2 } from '@grafana/ui';

const CAPTION_HEIGHT = 18;

function StandIn({ id, name, children }: { id: string; name: string; children: ReactNode }) {
  const styles = useStyles2(getStyles);
  return (
    <div data-testid={`standin-${id}`} className={styles.wrapper}>
      <div className={styles.caption}>harness stand-in for Grafana&apos;s {name} panel</div>
      {children}
    </div>
  );
}

function NoData() {
  return <div style={{ padding: 8 }}>No data</div>;
}

const CORE_TIMESERIES_DEFAULTS = {
  drawStyle: 'line',
  lineInterpolation: 'linear',
  lineWidth: 1,
  fillOpacity: 0,
  showPoints: 'auto',
  pointSize: 5,
  spanNulls: false,
  axisPlacement: 'auto',
};

/** `timeseries`: @grafana/ui's TimeSeries, the graph the core time series panel is built on. */
export function TimeSeriesPanel({ data, width, height, timeRange, timeZone }: PanelProps) {
  const frames = useMemo(
    () =>
      data.series
        .filter((f) => f.fields.some((x) => x.type === FieldType.time) && f.length > 0)
        .map((f) => ({
          ...f,
          // The core panel's field defaults (its plugin registers them as custom options): a lone
          // point between nulls is drawn as a dot, as Grafana does when showPoints is auto.
          fields: f.fields.map((x) => ({
            ...x,
            config: { ...x.config, custom: { ...CORE_TIMESERIES_DEFAULTS, ...x.config.custom } },
          })),
        })),
    [data.series]
  );
  return (
    <StandIn id="timeseries" name="time series">
      {frames.length ? (
        <TimeSeries
          frames={frames}
          structureRev={data.structureRev}
          width={width}
          height={height - CAPTION_HEIGHT}
          timeRange={timeRange}
          timeZone={timeZone}
          legend={{ displayMode: LegendDisplayMode.List, placement: 'bottom', showLegend: true, calcs: [] }}
        />
      ) : (
        <NoData />
      )}
    </StandIn>
  );
}

/** `table`: @grafana/ui's Table, as the core table panel renders its first frame. */
export function TablePanel({ data, width, height }: PanelProps) {
  const frame = data.series[0];
  return (
    <StandIn id="table" name="table">
      {frame ? <Table data={frame} width={width} height={height - CAPTION_HEIGHT} /> : <NoData />}
    </StandIn>
  );
}

interface SpanRow {
  spanID: string;
  parentSpanID: string;
  operationName: string;
  serviceName: string;
  startTime: number;
  duration: number;
  depth: number;
}

const MAX_SPANS = 1000;

/**
 * `traces`: Grafana's trace view (the Jaeger UI port in Grafana's source) is not on npm; this lists the
 * frame's spans as a waterfall: depth-first by parent, bar offset and width from startTime and duration.
 */
export function TracesPanel({ data, width, height }: PanelProps) {
  const styles = useStyles2(getStyles);
  const frame = data.series.find((f) => f.fields.some((x) => x.name === 'spanID'));
  const spans = useMemo(() => (frame ? spanRows(frame) : []), [frame]);
  if (!spans.length) {
    return (
      <StandIn id="traces" name="traces">
        <NoData />
      </StandIn>
    );
  }
  const start = Math.min(...spans.map((s) => s.startTime));
  const end = Math.max(...spans.map((s) => s.startTime + s.duration));
  const total = Math.max(end - start, 1e-6);
  const labelWidth = Math.min(460, Math.round(width * 0.4));
  return (
    <StandIn id="traces" name="traces">
      <div className={styles.traceHeader}>
        {spans[0].serviceName}: {spans[0].operationName} · {spans.length} spans · {formatMs(total)}
      </div>
      <div style={{ maxHeight: height - CAPTION_HEIGHT - 24, overflow: 'auto' }}>
        {spans.slice(0, MAX_SPANS).map((s) => (
          <div key={s.spanID} className={styles.spanRow} data-testid="trace-span" title={s.operationName}>
            <div className={styles.spanLabel} style={{ width: labelWidth, paddingLeft: 4 + s.depth * 12 }}>
              {s.operationName} <span className={styles.muted}>{s.serviceName}</span>
            </div>
            <div className={styles.spanTrack}>
              <div
                className={styles.spanBar}
                style={{
                  left: `${((s.startTime - start) / total) * 100}%`,
                  width: `max(1px, ${(s.duration / total) * 100}%)`,
                }}
              />
            </div>
            <div className={styles.spanDuration}>{formatMs(s.duration)}</div>
          </div>
        ))}
        {spans.length > MAX_SPANS && (
          <div className={styles.muted}>{spans.length - MAX_SPANS} more spans not shown</div>
        )}
      </div>
    </StandIn>
  );
}

function spanRows(frame: DataFrame): SpanRow[] {
  const field = (name: string): Field | undefined => frame.fields.find((f) => f.name === name);
  const get = (name: string, i: number) => field(name)?.values[i];
  const rows: SpanRow[] = [];
  for (let i = 0; i < frame.length; i++) {
    rows.push({
      spanID: String(get('spanID', i) ?? i),
      parentSpanID: String(get('parentSpanID', i) ?? ''),
      operationName: String(get('operationName', i) ?? ''),
      serviceName: String(get('serviceName', i) ?? ''),
      startTime: Number(get('startTime', i) ?? 0),
      duration: Number(get('duration', i) ?? 0),
      depth: 0,
    });
  }
  const children = new Map<string, SpanRow[]>();
  const ids = new Set(rows.map((r) => r.spanID));
  const roots: SpanRow[] = [];
  for (const r of rows) {
    if (r.parentSpanID && ids.has(r.parentSpanID)) {
      children.set(r.parentSpanID, [...(children.get(r.parentSpanID) ?? []), r]);
    } else {
      roots.push(r);
    }
  }
  const ordered: SpanRow[] = [];
  const visit = (r: SpanRow, depth: number) => {
    ordered.push({ ...r, depth });
    for (const c of (children.get(r.spanID) ?? []).sort((a, b) => a.startTime - b.startTime)) {
      visit(c, depth + 1);
    }
  };
  roots.sort((a, b) => a.startTime - b.startTime).forEach((r) => visit(r, 0));
  return ordered;
}

function formatMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(ms < 10 ? 2 : 1)} ms`;
}

const getStyles = (theme: GrafanaTheme2) => ({
  wrapper: css({ width: '100%', height: '100%', overflow: 'hidden' }),
  caption: css({
    height: CAPTION_HEIGHT,
    fontSize: theme.typography.bodySmall.fontSize,
    color: theme.colors.text.secondary,
    fontStyle: 'italic',
  }),
  traceHeader: css({ height: 24, fontWeight: theme.typography.fontWeightMedium }),
  spanRow: css({
    display: 'flex',
    alignItems: 'center',
    height: 22,
    borderBottom: `1px solid ${theme.colors.border.weak}`,
    fontSize: theme.typography.bodySmall.fontSize,
  }),
  spanLabel: css({ flexShrink: 0, overflow: 'hidden', whiteSpace: 'nowrap', textOverflow: 'ellipsis' }),
  spanTrack: css({ position: 'relative', flexGrow: 1, height: 12, margin: '0 8px' }),
  spanBar: css({ position: 'absolute', top: 0, bottom: 0, background: theme.colors.primary.main, borderRadius: 2 }),
  spanDuration: css({ width: 80, textAlign: 'right', paddingRight: 4 }),
  muted: css({ color: theme.colors.text.secondary }),
});
