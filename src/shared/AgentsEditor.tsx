import React, { type ReactNode, useState } from 'react';
import { Button, Field, FieldSet, Input, Stack, Text } from '@grafana/ui';
import { AgentRow } from './AgentRow';
import {
  addAgent,
  type AgentConfig,
  type AgentsJsonData,
  type AgentsSettings,
  listAgents,
  removeAgent,
  renameAgent,
  resetToken,
  setToken,
  tokenState,
  updateAgent,
  validateAgents,
} from './agents';

export interface AgentsEditorProps<J extends AgentsJsonData> {
  value: AgentsSettings<J>;
  onChange: (value: AgentsSettings<J>) => void;
  /** Extra controls at the bottom of each agent, e.g. the app's connection test. */
  renderAgentActions?: (agent: AgentConfig, index: number) => ReactNode;
}

// Row UI state lives here, not in the rows: rows are keyed by index, so
// removing one must shift this state with the agents.
interface RowState {
  caCertOpen?: boolean;
  droppedTokenName?: string;
}

export function AgentsEditor<J extends AgentsJsonData>({ value, onChange, renderAgentActions }: AgentsEditorProps<J>) {
  const agents = listAgents(value);
  const errors = validateAgents(agents);
  const [rows, setRows] = useState<RowState[]>([]);

  const patchRow = (index: number, patch: RowState) =>
    setRows((current) => {
      const next = [...current];
      next[index] = { ...next[index], ...patch };
      return next;
    });

  const onRename = (index: number, name: string) => {
    const oldName = agents[index].name;
    const { configured, entered } = tokenState(value, oldName);
    if (configured && !entered && rows[index]?.droppedTokenName === undefined) {
      patchRow(index, { droppedTokenName: oldName });
    }
    onChange(renameAgent(value, index, name));
  };

  const onRemove = (index: number) => {
    // slice, not filter: filter skips the holes patchRow leaves, shifting rows.
    setRows((current) => [...current.slice(0, index), ...current.slice(index + 1)]);
    onChange(removeAgent(value, index));
  };

  const onTimeoutChange = (seconds: number) =>
    onChange({
      ...value,
      jsonData: { ...value.jsonData, timeoutSeconds: Number.isFinite(seconds) && seconds > 0 ? seconds : undefined },
    });

  return (
    <FieldSet label="Agents">
      <Stack direction="column" gap={2}>
        <Text color="secondary">
          Tusk agents run on the PHP hosts; Grafana asks each of them for traces, profiles and metrics.
        </Text>
        {agents.map((agent, index) => (
          <AgentRow
            key={index}
            index={index}
            agent={agent}
            errors={errors[index]}
            token={tokenState(value, agent.name)}
            droppedTokenName={rows[index]?.droppedTokenName}
            caCertOpen={rows[index]?.caCertOpen ?? Boolean(agent.tlsCACert)}
            onRename={(name) => onRename(index, name)}
            onUrlChange={(url) => onChange(updateAgent(value, index, { url }))}
            onCACertChange={(pem) => onChange(updateAgent(value, index, { tlsCACert: pem || undefined }))}
            onCACertToggle={() =>
              patchRow(index, { caCertOpen: !(rows[index]?.caCertOpen ?? Boolean(agent.tlsCACert)) })
            }
            onTokenChange={(token) => onChange(setToken(value, agent.name, token))}
            onTokenReset={() => onChange(resetToken(value, agent.name))}
            onRemove={() => onRemove(index)}
          >
            {renderAgentActions?.(agent, index)}
          </AgentRow>
        ))}
        <div>
          <Button icon="plus" variant="secondary" onClick={() => onChange(addAgent(value))}>
            Add agent
          </Button>
        </div>
        <Field label="Timeout" description="Seconds to wait for an agent's answer (default 10)">
          <Input
            id="agents-timeout"
            type="number"
            min={1}
            width={12}
            placeholder="10"
            value={value.jsonData.timeoutSeconds ?? ''}
            onChange={(e) => onTimeoutChange(e.currentTarget.valueAsNumber)}
          />
        </Field>
      </Stack>
    </FieldSet>
  );
}
