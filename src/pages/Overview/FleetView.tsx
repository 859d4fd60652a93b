import React, { useMemo } from 'react';
import { Box, Icon, InteractiveTable, Stack, Text, Tooltip, type Column } from '@grafana/ui';
import { AgentUnreachable, FleetLoadError, FleetLoading, NoAgentsConfigured } from '../../fleet/FleetStates';
import { formatLost, formatOverhead, formatRate, modeLabel, OVERHEAD_EXPLANATION, phpLabel } from '../../fleet/format';
import { poolRows, type PoolRow } from '../../fleet/poolRows';
import type { AgentState, AgentStatus } from '../../fleet/types';
import type { FleetLoad } from '../../fleet/useFleet';
import { AgentHeading } from '../../fleet/AgentHeading';

export interface FleetViewProps {
  load: FleetLoad;
  nowMs: number;
}

/** The fleet: each agent with its PHP binaries and pools, event rates and the overhead they cost. */
export function FleetView({ load, nowMs }: FleetViewProps) {
  const { fleet, loading, error, reload } = load;
  if (!fleet) {
    return error ? <FleetLoadError error={error} onRetry={reload} /> : <FleetLoading />;
  }
  if (fleet.agents.length === 0) {
    return <NoAgentsConfigured />;
  }
  return (
    <Stack direction="column" gap={2}>
      {error && <FleetLoadError error={error} onRetry={reload} />}
      {fleet.agents.map((agent) => (
        <AgentCard key={agent.name} agent={agent} nowMs={nowMs} />
      ))}
      {loading && <FleetLoading />}
    </Stack>
  );
}

export function AgentCard({ agent, nowMs }: { agent: AgentState; nowMs: number }) {
  return (
    <Box borderStyle="solid" borderColor="weak" borderRadius="default" padding={2}>
      <Stack direction="column" gap={1.5}>
        <AgentHeading agent={agent} nowMs={nowMs} />
        {agent.ok && agent.status ? (
          <AgentDetails status={agent.status} />
        ) : (
          <AgentUnreachable name={agent.name} error={agent.error} />
        )}
      </Stack>
    </Box>
  );
}

function AgentDetails({ status }: { status: AgentStatus }) {
  return (
    <>
      <Stack gap={4} wrap="wrap">
        <Stat label="Events" value={formatRate(status.events.perSecond)} />
        <Stat
          label="Lost events"
          value={formatLost(status.events.lost, status.events.total)}
          warn={status.events.lost > 0}
          tooltip="Events the kernel could not hand to the agent because its ring buffer was full, since the agent started. Requests that lost events are marked incomplete."
        />
        <Stat
          label="Overhead (estimate)"
          value={formatOverhead(status.events.perSecond)}
          tooltip={OVERHEAD_EXPLANATION}
        />
        <Stat label="Traces stored" value={status.store.traces.toLocaleString('en-US')} />
        <Stat
          label="Dropped traces"
          value={status.store.dropped.toLocaleString('en-US')}
          warn={status.store.dropped > 0}
          tooltip="Traces the store could not keep (queue full or write errors)."
        />
        <Stat
          label="CPU profiler"
          value={status.profiling.enabled ? `on, ${status.profiling.hz} Hz` : 'off'}
          warn={Boolean(status.profiling.error)}
          tooltip={status.profiling.error}
        />
      </Stack>
      <PoolTable status={status} />
    </>
  );
}

interface StatProps {
  label: string;
  value: string;
  tooltip?: string;
  warn?: boolean;
}

export function Stat({ label, value, tooltip, warn }: StatProps) {
  return (
    <Stack direction="column" gap={0}>
      <Stack gap={0.5} alignItems="center">
        <Text color="secondary" variant="bodySmall">
          {label}
        </Text>
        {tooltip && (
          <Tooltip content={tooltip}>
            <span role="img" tabIndex={0} aria-label={`About ${label}`}>
              <Icon name="info-circle" size="sm" />
            </span>
          </Tooltip>
        )}
      </Stack>
      <Text color={warn ? 'warning' : 'primary'}>{value}</Text>
    </Stack>
  );
}

const POOL_COLUMNS: Array<Column<PoolRow>> = [
  {
    id: 'pool',
    header: 'Pool',
    cell: ({ row }) => <span>{row.original.pool?.name ?? '(no pool)'}</span>,
  },
  { id: 'service', header: 'Service', cell: ({ row }) => <span>{row.original.pool?.service ?? ''}</span> },
  {
    id: 'php',
    header: 'PHP',
    cell: ({ row }) => (
      <Tooltip content={row.original.binary.path}>
        <span>{phpLabel(row.original.binary)}</span>
      </Tooltip>
    ),
  },
  {
    id: 'mode',
    header: 'Request tracing',
    cell: ({ row }) => (
      <Tooltip content={row.original.binary.modeReason || row.original.binary.mode}>
        <span>{modeLabel(row.original.binary.mode)}</span>
      </Tooltip>
    ),
  },
  {
    id: 'workers',
    header: 'Workers',
    cell: ({ row }) => <span>{row.original.pool?.workerPids?.length ?? 0}</span>,
  },
  {
    id: 'deep',
    header: 'Deep mode',
    cell: ({ row }) =>
      row.original.binary.deepAvailable ? (
        <span>available</span>
      ) : (
        <Tooltip content={row.original.binary.deepReason || 'Function probes cannot fire in this PHP.'}>
          <span>unavailable</span>
        </Tooltip>
      ),
  },
];

export function PoolTable({ status }: { status: AgentStatus }) {
  const rows = useMemo(() => poolRows(status), [status]);
  if (rows.length === 0) {
    return (
      <Text color="secondary">
        This agent sees no PHP process. Start php-fpm (or check that the agent can see its processes: same host, or the
        host&apos;s PID namespace in a container).
      </Text>
    );
  }
  return <InteractiveTable columns={POOL_COLUMNS} data={rows} getRowId={(row) => row.id} />;
}
