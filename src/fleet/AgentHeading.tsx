import React from 'react';
import { Badge, Stack, Text } from '@grafana/ui';
import { agentSummary } from './format';
import type { AgentState } from './types';

/** An agent's name, whether it answers, and its one-line summary: the heading of its card on every page. */
export function AgentHeading({ agent, nowMs }: { agent: AgentState; nowMs: number }) {
  return (
    <Stack alignItems="center" gap={1} wrap="wrap">
      <Text element="h3" variant="h5">
        {agent.name}
      </Text>
      {agent.ok ? (
        <Badge color="green" text="answering" icon="check" />
      ) : (
        <Badge color="red" text="down" icon="times" />
      )}
      <Text color="secondary" variant="bodySmall">
        {agentSummary(agent, nowMs)}
      </Text>
    </Stack>
  );
}
