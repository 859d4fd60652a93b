// /harness/panel?query=<json>[&ds=<uid>][&from&to][&width&height]: the flame graph panel plugin's
// component with the PanelProps Grafana gives it: data from running the query, options and field
// config defaults from the plugin, field overrides applied as scenes' VizPanel does before rendering.
//
// window.__tuskRenderFlame(frame) renders a given frame instead (the render benchmark): it resolves
// once the frame has been committed and the canvas drawn with it has been painted.
import React, { useEffect, useMemo, useRef, useState } from 'react';
import { useSearchParams } from 'react-router-dom';
import type { Subscription } from 'rxjs';
import {
  applyFieldOverrides,
  CoreApp,
  type DataFrame,
  type DataFrameJSON,
  dataFrameFromJSON,
  EventBusSrv,
  getPanelOptionsWithDefaults,
  LoadingState,
  type PanelData,
  type PanelPlugin,
  toDataFrame,
  type TimeRange,
} from '@grafana/data';
import { getDataSourceSrv, getTemplateSrv } from '@grafana/runtime';
import type { DataQuery } from '@grafana/schema';
import { Alert, LoadingPlaceholder, PanelContextProvider, useTheme2 } from '@grafana/ui';
import { FLAME_PANEL_ID, importPanelPlugin } from '../panels/registry';
import { runRequest } from '../services/runRequest';
import { buildRequest, parseQueryParam, parseTimeRange } from './common';

export interface RenderTiming {
  /**
   * From setting the data to the paint of the canvas drawn with it: of the last of the draws that follow the
   * data (@grafana/flamegraph draws, then draws again after its own state settles), once two frames pass
   * without another.
   */
  ms: number;
  /** Canvas draws (clearRect calls) from setting the data to that paint. */
  draws: number;
  /** From setting the data to React's commit of it. */
  commitMs: number;
  /** Rows (nodes) of the frame. */
  rows: number;
  /** Decoding the frame JSON into a DataFrame (before the data is set; not in ms). */
  decodeMs: number;
}

declare global {
  interface Window {
    __tuskRenderFlame?: (frame: DataFrameJSON | Partial<DataFrame>) => Promise<RenderTiming>;
    __tuskCanvasDraws?: { count: number; last: number };
  }
}

// Every canvas draw of the flame graph starts with clearRect and runs synchronously in one effect:
// counting them, with the time of the last, tells when the canvas was drawn and in which frame.
function countCanvasDraws() {
  if (window.__tuskCanvasDraws) {
    return;
  }
  const draws = (window.__tuskCanvasDraws = { count: 0, last: 0 });
  const original = CanvasRenderingContext2D.prototype.clearRect;
  CanvasRenderingContext2D.prototype.clearRect = function (this: CanvasRenderingContext2D, x, y, w, h) {
    draws.count++;
    draws.last = performance.now();
    return original.call(this, x, y, w, h);
  };
}

/**
 * Waits for the next frame to be painted: `frame` is when its requestAnimationFrame callbacks ran (work
 * before that is in this frame), `painted` when a task queued from there runs (after the paint).
 */
const nextPaint = () =>
  new Promise<{ frame: number; painted: number }>((resolve) =>
    requestAnimationFrame(() => {
      const frame = performance.now();
      const channel = new MessageChannel();
      channel.port1.onmessage = () => resolve({ frame, painted: performance.now() });
      channel.port2.postMessage(null);
    })
  );

const QUIET_FRAMES = 2;

/** The paint of the last canvas draw after t0, once QUIET_FRAMES frames have passed without another. */
async function settledPaint(t0: number, deadline: number): Promise<number> {
  const draws = window.__tuskCanvasDraws!;
  let paintedAt: number | undefined;
  let drawsPainted = -1;
  let quiet = 0;
  for (;;) {
    const { frame, painted } = await nextPaint();
    if (draws.last > t0 && draws.last < frame && draws.count !== drawsPainted) {
      // A draw since the last check went out with this frame.
      paintedAt = painted;
      drawsPainted = draws.count;
      quiet = 0;
    } else if (paintedAt !== undefined && draws.last < frame && ++quiet >= QUIET_FRAMES) {
      return paintedAt;
    }
    if (painted > deadline) {
      throw new Error('the panel did not finish drawing on a canvas within 30 s of the data being set');
    }
  }
}

function toFrame(input: DataFrameJSON | Partial<DataFrame>): DataFrame {
  return 'schema' in input || 'data' in input ? dataFrameFromJSON(input as DataFrameJSON) : toDataFrame(input);
}

const EMPTY_FIELD_CONFIG = { defaults: {}, overrides: [] };

interface Shown {
  data: PanelData;
  token: number;
}

export function PanelRoute() {
  const [search] = useSearchParams();
  const width = Number(search.get('width') ?? 1200);
  const height = Number(search.get('height') ?? 600);
  // The route's parameters are read once, on load.
  const [timeRange] = useState<TimeRange>(() => parseTimeRange(search));
  const [parsed] = useState(() => {
    try {
      return { query: parseQueryParam(search) };
    } catch (err) {
      return { error: `?query: ${(err as Error).message}` };
    }
  });
  const theme = useTheme2();
  const eventBus = useMemo(() => new EventBusSrv(), []);
  const [plugin, setPlugin] = useState<PanelPlugin>();
  const [error, setError] = useState<string>();
  const [shown, setShown] = useState<Shown>({
    data: { state: LoadingState.NotStarted, series: [], timeRange },
    token: 0,
  });
  const commitWaiters = useRef(new Map<number, () => void>());
  const tokens = useRef(0);

  useEffect(() => {
    importPanelPlugin(FLAME_PANEL_ID).then(setPlugin, (err: Error) => setError(err.message));
  }, []);

  // Run ?query through the data source, as a dashboard panel's query runner would.
  useEffect(() => {
    let sub: Subscription | undefined;
    const query = parsed.query;
    if (!plugin || !query) {
      return;
    }
    getDataSourceSrv()
      .get(search.get('ds'))
      .then((ds) => {
        const request = buildRequest(ds, { refId: 'A', ...query } as DataQuery, timeRange, CoreApp.Dashboard);
        sub = runRequest(ds, request).subscribe((data) => setShown({ data, token: ++tokens.current }));
      })
      .catch((err: Error) => setError(err.message));
    return () => sub?.unsubscribe();
    // The route's parameters are read once, on load.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [plugin]);

  useEffect(() => {
    if (!plugin) {
      return;
    }
    countCanvasDraws();
    window.__tuskRenderFlame = async (input) => {
      const d0 = performance.now();
      const frame = toFrame(input);
      const decodeMs = performance.now() - d0;
      const token = ++tokens.current;
      const committed = new Promise<void>((resolve) => commitWaiters.current.set(token, resolve));
      const drawsBefore = window.__tuskCanvasDraws!.count;
      const t0 = performance.now();
      setShown({ data: { state: LoadingState.Done, series: [frame], timeRange }, token });
      await committed;
      const commitMs = performance.now() - t0;
      const paintedAt = await settledPaint(t0, t0 + 30_000);
      return {
        ms: paintedAt - t0,
        draws: window.__tuskCanvasDraws!.count - drawsBefore,
        commitMs,
        rows: frame.length,
        decodeMs,
      };
    };
    return () => {
      delete window.__tuskRenderFlame;
    };
  }, [plugin, timeRange]);

  // Runs after the panel's own effects of the same commit (children's effects run first).
  useEffect(() => {
    const resolve = commitWaiters.current.get(shown.token);
    commitWaiters.current.delete(shown.token);
    resolve?.();
  }, [shown.token]);

  const defaults = useMemo(
    () =>
      plugin &&
      getPanelOptionsWithDefaults({
        plugin,
        currentOptions: {},
        currentFieldConfig: EMPTY_FIELD_CONFIG,
        isAfterPluginChange: false,
      }),
    [plugin]
  );

  // What VizPanel does to the data before the panel sees it.
  const data = useMemo<PanelData>(() => {
    if (!plugin || !defaults) {
      return shown.data;
    }
    const replaceVariables = (
      value: string,
      scopedVars?: Parameters<ReturnType<typeof getTemplateSrv>['replace']>[1]
    ) => getTemplateSrv().replace(value, scopedVars);
    return {
      ...shown.data,
      series: applyFieldOverrides({
        data: shown.data.series,
        fieldConfig: defaults.fieldConfig,
        fieldConfigRegistry: plugin.fieldConfigRegistry,
        replaceVariables,
        theme,
        timeZone: 'browser',
      }),
    };
  }, [plugin, defaults, shown.data, theme]);

  if (error || parsed.error) {
    return (
      <Alert title="Flame graph panel not available" data-testid="harness-panel-error">
        {error ?? parsed.error}
      </Alert>
    );
  }
  if (!plugin || !defaults || !plugin.panel) {
    return <LoadingPlaceholder text="Loading panel plugin" />;
  }
  const Panel = plugin.panel;
  return (
    <div style={{ padding: 16 }}>
      <div
        data-testid="harness-panel"
        data-state={data.state}
        data-token={shown.token}
        style={{ width, height, position: 'relative', overflow: 'hidden', border: '1px solid #2c3235' }}
      >
        <PanelContextProvider value={{ eventsScope: 'harness', eventBus, app: CoreApp.Dashboard }}>
          <Panel
            id={1}
            title="Flame graph"
            data={data}
            timeRange={data.timeRange ?? timeRange}
            timeZone="browser"
            options={defaults.options}
            fieldConfig={defaults.fieldConfig}
            transparent={false}
            width={width - 2}
            height={height - 2}
            renderCounter={shown.token}
            eventBus={eventBus}
            onOptionsChange={() => {}}
            onFieldConfigChange={() => {}}
            replaceVariables={(value) => value}
            onChangeTimeRange={() => {}}
          />
        </PanelContextProvider>
      </div>
    </div>
  );
}
