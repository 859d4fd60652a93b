import React, { useState } from 'react';
import { Button, ConfirmModal, InteractiveTable, Text, type Column } from '@grafana/ui';
import { canChangeProbes, CHANGE_PROBES_ROLE_HINT } from '../../fleet/permissions';
import { deepModeTarget, formatCountdown } from '../../fleet/format';
import type { DeepMode } from '../../fleet/types';

export interface DeepModeListProps {
  modes: DeepMode[];
  nowMs: number;
  /** DELETEs the grant and shows how it went; resolves either way. */
  onDisable: (mode: DeepMode) => Promise<void>;
}

interface Row {
  mode: DeepMode;
  nowMs: number;
  onAskDisable: (mode: DeepMode) => void;
}

const COLUMNS: Array<Column<Row>> = [
  { id: 'target', header: 'On', cell: ({ row }) => <span>{deepModeTarget(row.original.mode)}</span> },
  { id: 'threshold', header: 'Threshold', cell: ({ row }) => <span>{row.original.mode.threshold}</span> },
  { id: 'maxDepth', header: 'Max depth', cell: ({ row }) => <span>{row.original.mode.maxDepth}</span> },
  {
    id: 'nice',
    header: 'CPU priority',
    cell: ({ row }) => <span title={row.original.mode.niceError}>{formatNice(row.original.mode)}</span>,
  },
  {
    id: 'attached',
    header: 'Attached to',
    cell: ({ row }) => <span>{formatAttached(row.original.mode.attachedPids)}</span>,
  },
  {
    id: 'expires',
    header: 'Turns off',
    cell: ({ row }) => <span>{formatCountdown(row.original.mode.expiresAt, row.original.nowMs)}</span>,
  },
  {
    id: 'actions',
    header: '',
    cell: ({ row }) => (
      <Button
        size="sm"
        variant="destructive"
        fill="outline"
        icon="power"
        disabled={!canChangeProbes()}
        tooltip={canChangeProbes() ? undefined : CHANGE_PROBES_ROLE_HINT}
        onClick={() => row.original.onAskDisable(row.original.mode)}
      >
        Turn off
      </Button>
    ),
  },
];

/** How deep mode set its processes' priority: "nice 10", or "unchanged" with why when it could not. */
export function formatNice(mode: Pick<DeepMode, 'nice' | 'niceError'>): string {
  if (mode.niceError) {
    return `unchanged: ${mode.niceError}`;
  }
  return mode.nice ? `nice ${mode.nice}` : 'unchanged';
}

export function formatAttached(pids: number[] | null | undefined): string {
  if (!pids || pids.length === 0) {
    return 'no process yet';
  }
  return `${pids.length === 1 ? 'PID' : 'PIDs'} ${pids.join(', ')}`;
}

/** The agent's deep modes with their countdown, each with a way to turn it off after confirming. */
export function DeepModeList({ modes, nowMs, onDisable }: DeepModeListProps) {
  const [asked, setAsked] = useState<DeepMode>();
  if (modes.length === 0) {
    return <Text color="secondary">No deep mode is on: only requests, errors and I/O calls are traced.</Text>;
  }
  const rows = modes.map((mode) => ({ mode, nowMs, onAskDisable: setAsked }));
  return (
    <>
      <InteractiveTable columns={COLUMNS} data={rows} getRowId={(row) => row.mode.id} />
      <ConfirmModal
        isOpen={asked !== undefined}
        title="Turn deep mode off?"
        body={
          asked && (
            <Text element="p">
              Function probes on {deepModeTarget(asked)} are detached now; requests run at full speed again and function
              spans stop.
            </Text>
          )
        }
        confirmText="Turn off"
        onConfirm={async () => {
          if (asked) {
            await onDisable(asked);
          }
          setAsked(undefined);
        }}
        onDismiss={() => setAsked(undefined)}
      />
    </>
  );
}
