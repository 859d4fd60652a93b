import React, { useCallback, useMemo, useRef, useState } from 'react';
import { css } from '@emotion/css';
import { AppEvents, type DataFrame, type GrafanaTheme2, type PanelProps } from '@grafana/data';
import { FlameGraph } from '@grafana/flamegraph';
import { getAppEvents, locationService } from '@grafana/runtime';
import { Alert, useStyles2, useTheme2 } from '@grafana/ui';
import { copyText } from './clipboard';
import { flameTarget } from './explore';
import { groupFlameFrame } from './groupBy';
import { type ContextMenuButtons, contextMenuButtons, nodeAt, nodeTracesUrl } from './node';
import { NodeDetails } from './NodeDetails';
import { flameState } from './panelState';
import type { PhpFlameOptions } from './types';

/** The row of the shown frame the user last clicked. */
interface Clicked {
  frame: DataFrame;
  index: number;
}

async function copyFile(file: string) {
  const copied = await copyText(file);
  // getAppEvents() is Grafana's bus; outside Grafana (tests) there is none to tell.
  getAppEvents()?.publish({
    type: copied ? AppEvents.alertSuccess.name : AppEvents.alertWarning.name,
    payload: [copied ? 'File path copied' : 'Could not copy the file path: the browser refused'],
  });
}

/**
 * The Tusk flame graph: @grafana/flamegraph (search, top table, sandwich view, colour schemes) over the Tusk
 * datasource's flamegraph frame, regrouped by PHP class, namespace or Composer package (groupBy.ts), with the
 * clicked node's PHP file and a link to the traces where it is hot, which the library's hover tooltip cannot show.
 */
export function PhpFlamePanel({
  data,
  options,
  width,
  height,
  timeRange,
  replaceVariables,
}: PanelProps<PhpFlameOptions>) {
  const theme = useTheme2();
  const getTheme = useCallback(() => theme, [theme]);
  const styles = useStyles2(getStyles);
  const scopedVars = data.request?.scopedVars;
  const interpolate = useCallback((s: string) => replaceVariables(s, scopedVars), [replaceVariables, scopedVars]);

  const state = useMemo(
    () => flameState(data, flameTarget(data.request, data.series[0]?.refId), interpolate),
    [data, interpolate]
  );
  const source = state.kind === 'frame' ? state.frame : undefined;
  const target = flameTarget(data.request, source?.refId);
  const frame = useMemo(() => source && groupFlameFrame(source, options.groupBy), [source, options.groupBy]);

  const [clicked, setClicked] = useState<Clicked>();
  const lastClicked = useRef<Clicked>(undefined);
  const range = data.timeRange ?? timeRange;
  const context = useMemo(
    () => ({ groupBy: options.groupBy, target, range, interpolate }),
    [options.groupBy, target, range, interpolate]
  );

  // The library calls this as it opens its click menu: the one moment the panel learns which node was clicked.
  // The panel remembers the node for its details line after the library's render, never during it (React forbids
  // setting another component's state while rendering), and only when the node changed, so no render loop.
  const getExtraContextMenuButtons = useCallback<ContextMenuButtons>(
    (item, shown) => {
      const index = item.item.itemIndexes[0];
      if (index === undefined) {
        return [];
      }
      if (lastClicked.current?.frame !== shown || lastClicked.current.index !== index) {
        const next = { frame: shown, index };
        lastClicked.current = next;
        queueMicrotask(() => setClicked(next));
      }
      const node = nodeAt(shown, index);
      return contextMenuButtons(node, nodeTracesUrl(node, context), {
        copy: copyFile,
        open: (url) => locationService.push(url),
      });
    },
    [context]
  );

  let body: React.ReactNode;
  switch (state.kind) {
    case 'waiting':
      body = null;
      break;
    case 'error':
      body = (
        <Alert severity="error" title="The flame graph query failed">
          {state.messages.map((m, i) => (
            <div key={i}>{m}</div>
          ))}
        </Alert>
      );
      break;
    case 'message':
      body = (
        <div className={styles.message}>
          <strong>{state.title}</strong>
          <p>{state.text}</p>
        </div>
      );
      break;
    case 'frame':
      body = (
        <>
          {/* Flame graph only: the library opens no click menu, so the panel never learns of a click. */}
          {options.view === 'both' && (
            <NodeDetails
              node={clicked && clicked.frame === frame ? nodeAt(clicked.frame, clicked.index) : undefined}
              context={context}
              onCopy={copyFile}
            />
          )}
          <div className={styles.graph}>
            <FlameGraph
              data={frame}
              getTheme={getTheme}
              getExtraContextMenuButtons={getExtraContextMenuButtons}
              showFlameGraphOnly={options.view === 'flameGraph'}
              vertical={options.vertical}
              keepFocusOnDataChange
            />
          </div>
        </>
      );
  }
  return (
    <div className={styles.panel} style={{ width, height }} data-testid="php-flame-panel">
      {body}
    </div>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  panel: css({ display: 'flex', flexDirection: 'column', gap: theme.spacing(1), overflow: 'hidden' }),
  graph: css({ display: 'flex', flex: '1 1 0', minHeight: 0 }),
  message: css({
    margin: 'auto',
    maxWidth: 640,
    padding: theme.spacing(2),
    textAlign: 'center',
    color: theme.colors.text.secondary,
    p: { marginTop: theme.spacing(1), marginBottom: 0 },
  }),
});
