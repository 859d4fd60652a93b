import React, { useEffect, useState } from 'react';
import { Alert, Box, Button, Stack, Text } from '@grafana/ui';
import { AgentUnreachable, FleetLoadError, FleetLoading, NoAgentsConfigured } from '../../fleet/FleetStates';
import { countProbes, formatProbeCounts, modeLabel, phpLabel } from '../../fleet/format';
import type { AgentState, AgentStatus, PhpBinary, Probe } from '../../fleet/types';
import type { FleetLoad } from '../../fleet/useFleet';
import { canChangeProbes, CHANGE_PROBES_ROLE_HINT } from '../../fleet/permissions';
import { DeepModeForm } from './DeepModeForm';
import { deepCapablePools } from './deepModeForm';
import { DeepModeList } from './DeepModeList';
import { useDeepModeActions } from './useDeepModeActions';
import { AgentHeading } from '../../fleet/AgentHeading';

export interface ProbesViewProps {
  load: FleetLoad;
  nowMs: number;
}

/** What each agent has attached, its deep modes, and the controls to turn deep mode on and off. */
export function ProbesView({ load, nowMs }: ProbesViewProps) {
  const { fleet, loading, error, reload } = load;
  const expired = (fleet?.agents ?? []).some((agent) =>
    (agent.status?.deepModes ?? []).some((mode) => Date.parse(mode.expiresAt) <= nowMs)
  );
  // A deep mode that ran out is gone from its agent: show the agent's word for it.
  useEffect(() => {
    if (expired) {
      reload();
    }
  }, [expired, reload]);

  if (!fleet) {
    return error ? <FleetLoadError error={error} onRetry={reload} /> : <FleetLoading />;
  }
  if (fleet.agents.length === 0) {
    return <NoAgentsConfigured />;
  }
  return (
    <Stack direction="column" gap={2}>
      <DeepModeIntro />
      {error && <FleetLoadError error={error} onRetry={reload} />}
      {fleet.agents.map((agent) => (
        <AgentProbes key={agent.name} agent={agent} nowMs={nowMs} reload={reload} />
      ))}
      {loading && <FleetLoading />}
    </Stack>
  );
}

function DeepModeIntro() {
  return (
    <Text color="secondary" element="p">
      Tusk always traces requests, errors and I/O calls. Deep mode adds a span for every PHP function call in the
      processes you choose, for a while: it costs much more (each call hits a probe), so keep it to the pool or workers
      you are investigating and let it expire.
    </Text>
  );
}

export interface AgentProbesProps {
  agent: AgentState;
  nowMs: number;
  reload: () => void;
}

export function AgentProbes({ agent, nowMs, reload }: AgentProbesProps) {
  const actions = useDeepModeActions(agent.name, reload);
  const [formOpen, setFormOpen] = useState(false);
  const status = agent.status;
  return (
    <Box borderStyle="solid" borderColor="weak" borderRadius="default" padding={2}>
      <Stack direction="column" gap={1.5}>
        <AgentHeading agent={agent} nowMs={nowMs} />
        {actions.feedback && (
          <Alert severity={actions.feedback.severity} title={actions.feedback.title} onRemove={actions.clearFeedback}>
            {actions.feedback.text}
          </Alert>
        )}
        {!agent.ok || !status ? (
          <AgentUnreachable name={agent.name} error={agent.error} />
        ) : (
          <>
            <BinaryList status={status} />
            <Text element="h4" variant="h6">
              Deep mode
            </Text>
            <DeepModeList modes={status.deepModes ?? []} nowMs={nowMs} onDisable={actions.disable} />
            {formOpen ? (
              <DeepModeForm
                agentName={agent.name}
                pools={deepCapablePools(status)}
                nowMs={nowMs}
                onSubmit={async (request) => {
                  if (await actions.enable(request)) {
                    setFormOpen(false);
                  }
                }}
                onCancel={() => setFormOpen(false)}
              />
            ) : (
              <EnableDeepModeButton status={status} onClick={() => setFormOpen(true)} />
            )}
          </>
        )}
      </Stack>
    </Box>
  );
}

function EnableDeepModeButton({ status, onClick }: { status: AgentStatus; onClick: () => void }) {
  if (deepCapablePools(status).length === 0) {
    return (
      <Alert severity="info" title="Deep mode is not available on this agent">
        Function probes only fire in PHP whose php-fpm master was started with USE_ZEND_DTRACE=1 in its environment
        (which turns the opcache JIT off). Restart a pool that way to investigate it in depth; each binary below says
        why it cannot.
      </Alert>
    );
  }
  if (!canChangeProbes()) {
    return <Text color="secondary">{CHANGE_PROBES_ROLE_HINT}</Text>;
  }
  return (
    <div>
      <Button icon="bolt" variant="secondary" onClick={onClick}>
        Enable deep mode…
      </Button>
    </div>
  );
}

function BinaryList({ status }: { status: AgentStatus }) {
  const binaries = status.binaries ?? [];
  if (binaries.length === 0) {
    return (
      <Text color="secondary">
        This agent sees no PHP process, so it has nothing attached. Start php-fpm, or check that the agent can see its
        processes.
      </Text>
    );
  }
  return (
    <Stack direction="column" gap={1}>
      {binaries.map((binary) => (
        <BinaryProbes key={binary.id || binary.path} binary={binary} probes={status.probes} />
      ))}
    </Stack>
  );
}

export function BinaryProbes({ binary, probes }: { binary: PhpBinary; probes: Probe[] | null }) {
  return (
    <Box backgroundColor="secondary" padding={1.5} borderRadius="default">
      <Stack direction="column" gap={0.5}>
        <Text weight="medium">
          {phpLabel(binary)} <Text color="secondary">{binary.path}</Text>
        </Text>
        <Text variant="bodySmall">
          Requests: {modeLabel(binary.mode)}
          {binary.modeReason ? ` (${binary.modeReason})` : ''}
        </Text>
        <Text variant="bodySmall">Attached probes: {formatProbeCounts(countProbes(probes, binary.path))}</Text>
        {binary.ioReason && <Text variant="bodySmall">I/O: {binary.ioReason}</Text>}
        <Text variant="bodySmall" color={binary.deepAvailable ? 'success' : 'secondary'}>
          Deep mode: {binary.deepAvailable ? 'available' : `unavailable. ${binary.deepReason ?? ''}`}
        </Text>
        <Text variant="bodySmall">
          Pools:{' '}
          {(binary.pools ?? []).length === 0
            ? 'none'
            : (binary.pools ?? [])
                .map((pool) => `${pool.name} (workers ${(pool.workerPids ?? []).join(', ') || 'none'})`)
                .join('; ')}
        </Text>
      </Stack>
    </Box>
  );
}
