import type { DataFrame, TimeRange } from '@grafana/data';
import type { Props as FlameGraphProps } from '@grafana/flamegraph';
import type { TuskQuery } from '../datasource/types';
import { type Interpolate, hotTracesUrl, isSearchableFunction } from './explore';
import type { GroupBy } from './groupBy';

export type ContextMenuButtons = NonNullable<FlameGraphProps['getExtraContextMenuButtons']>;
export type ContextMenuButton = ReturnType<ContextMenuButtons>[number];

/** A flame-graph node the user clicked: a row of the frame the flame graph shows. */
export interface FlameNode {
  label: string;
  /** The PHP file; empty for internal functions and runtime frames, and for groups spanning several files. */
  file: string;
  level: number;
}

export function nodeAt(frame: DataFrame, index: number): FlameNode {
  const value = (name: string) => frame.fields.find((f) => f.name === name)?.values[index];
  return { label: String(value('label') ?? ''), file: String(value('file') ?? ''), level: Number(value('level') ?? 0) };
}

export interface NodeContext {
  groupBy: GroupBy;
  target?: TuskQuery;
  range: TimeRange;
  interpolate: Interpolate;
}

/**
 * The Explore URL of the traces where node is hot; undefined in the grouped modes (a class, namespace or package is
 * no single function to search for), for the root and runtime frames, and without a Tusk query to take the
 * datasource from.
 */
export function nodeTracesUrl(node: FlameNode, { groupBy, target, range, interpolate }: NodeContext) {
  if (groupBy !== 'function' || !target || !isSearchableFunction(node.label, node.level)) {
    return undefined;
  }
  return hotTracesUrl({ target, fn: node.label, file: node.file, range, interpolate });
}

/** Shortens a long path for a menu entry from the left, keeping its end: "…/app/Http/Kernel.php". */
export function shortPath(file: string, max = 48): string {
  return file.length <= max ? file : `…${file.slice(file.length - max + 1)}`;
}

/** The panel's entries in the flame graph's click menu: copy the node's file; open the traces where it is hot. */
export function contextMenuButtons(
  node: FlameNode,
  tracesUrl: string | undefined,
  actions: { copy: (file: string) => void; open: (url: string) => void }
): ContextMenuButton[] {
  const buttons: ContextMenuButton[] = [];
  if (node.file) {
    buttons.push({ label: `Copy path ${shortPath(node.file)}`, icon: 'copy', onClick: () => actions.copy(node.file) });
  }
  if (tracesUrl) {
    buttons.push({ label: 'Traces where this is hot', icon: 'compass', onClick: () => actions.open(tracesUrl) });
  }
  return buttons;
}
