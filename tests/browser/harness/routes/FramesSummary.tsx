import React from 'react';
import { type DataFrame, type PanelData } from '@grafana/data';

const PREVIEW_ROWS = 20;

/** State, errors, one line per frame (name, fields, rows) and the first rows of each frame. */
export function FramesSummary({ data }: { data?: PanelData }) {
  if (!data) {
    return <div data-testid="query-state">not run</div>;
  }
  return (
    <div>
      <div data-testid="query-state">{data.state}</div>
      {(data.errors ?? []).map((e, i) => (
        <pre key={i} data-testid="query-error" style={{ color: '#ff5286' }}>
          {e.message ?? JSON.stringify(e)}
        </pre>
      ))}
      <table data-testid="query-frames" style={{ borderCollapse: 'collapse', marginBottom: 16 }}>
        <thead>
          <tr>
            <th style={cell}>frame</th>
            <th style={cell}>fields</th>
            <th style={cell}>rows</th>
          </tr>
        </thead>
        <tbody>
          {data.series.map((f, i) => (
            <tr key={i} data-testid="query-frame">
              <td style={cell}>{f.name ?? f.refId ?? `#${i}`}</td>
              <td style={cell}>{f.fields.map((x) => x.name).join(', ')}</td>
              <td style={cell} data-testid="query-frame-rows">
                {f.length}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {data.series.map((f, i) => (
        <FramePreview key={i} frame={f} index={i} />
      ))}
    </div>
  );
}

function FramePreview({ frame, index }: { frame: DataFrame; index: number }) {
  const rows = Math.min(frame.length, PREVIEW_ROWS);
  return (
    <div style={{ overflowX: 'auto', maxWidth: '100%' }}>
      <table
        data-testid={`frame-preview-${index}`}
        style={{ borderCollapse: 'collapse', marginBottom: 16, fontSize: 12 }}
      >
        <caption style={{ textAlign: 'left' }}>
          {frame.name ?? `frame ${index}`}: first {rows} of {frame.length} rows
        </caption>
        <thead>
          <tr>
            {frame.fields.map((f) => (
              <th key={f.name} style={cell}>
                {f.name}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {Array.from({ length: rows }, (_, r) => (
            <tr key={r} data-testid="frame-row">
              {frame.fields.map((f) => (
                <td key={f.name} style={valueCell} data-field={f.name} title={show(f.values[r], Infinity)}>
                  {show(f.values[r])}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function show(v: unknown, max = 120): string {
  if (v === null || v === undefined) {
    return '';
  }
  const s = typeof v === 'object' ? JSON.stringify(v) : String(v);
  return s.length > max ? `${s.slice(0, max - 3)}...` : s;
}

const cell: React.CSSProperties = { border: '1px solid #333', padding: '2px 6px', textAlign: 'left' };
const valueCell: React.CSSProperties = {
  ...cell,
  maxWidth: 320,
  overflow: 'hidden',
  textOverflow: 'ellipsis',
  whiteSpace: 'nowrap',
};
