import type { GroupBy } from './groupBy';

/** The panel's options (module.tsx builds the editor). */
export interface PhpFlameOptions {
  /** How nodes are labelled and merged: groupBy.ts. */
  groupBy: GroupBy;
  /** both: top table and flame graph (with the header: search, view switch, colour scheme); flameGraph: only it. */
  view: 'both' | 'flameGraph';
  /** With both: the flame graph above the table instead of beside it. */
  vertical: boolean;
}

export const DEFAULT_OPTIONS: PhpFlameOptions = {
  groupBy: 'function',
  view: 'both',
  vertical: false,
};
