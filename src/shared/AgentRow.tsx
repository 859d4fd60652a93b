import React, { type ReactNode } from 'react';
import { Box, Button, Field, IconButton, Input, SecretInput, Stack, TextArea } from '@grafana/ui';
import type { AgentConfig, AgentErrors, TokenState } from './agents';

export interface AgentRowProps {
  index: number;
  agent: AgentConfig;
  errors: AgentErrors;
  token: TokenState;
  /** Set after a rename dropped the saved token: the name it was saved under. */
  droppedTokenName?: string;
  caCertOpen: boolean;
  onRename: (name: string) => void;
  onUrlChange: (url: string) => void;
  onCACertChange: (pem: string) => void;
  onCACertToggle: () => void;
  onTokenChange: (token: string) => void;
  onTokenReset: () => void;
  onRemove: () => void;
  children?: ReactNode;
}

export function AgentRow(props: AgentRowProps) {
  const { index, agent, errors, token } = props;
  const id = (field: string) => `agent-${index}-${field}`;
  const tokenLost = props.droppedTokenName !== undefined && !token.configured && !token.entered;

  return (
    <Box borderStyle="solid" borderColor="weak" borderRadius="default" padding={2}>
      <Stack justifyContent="space-between" alignItems="flex-start">
        <Stack wrap="wrap" gap={2}>
          <Field label="Name" invalid={Boolean(errors.name)} error={errors.name}>
            <Input
              id={id('name')}
              width={24}
              value={agent.name}
              placeholder="web-1"
              onChange={(e) => props.onRename(e.currentTarget.value)}
            />
          </Field>
          <Field label="URL" invalid={Boolean(errors.url)} error={errors.url}>
            <Input
              id={id('url')}
              width={40}
              value={agent.url}
              placeholder="http://10.0.0.5:7070"
              onChange={(e) => props.onUrlChange(e.currentTarget.value)}
            />
          </Field>
          <Field
            label="Token"
            description={
              tokenLost
                ? `The token saved for "${props.droppedTokenName}" cannot be read back: enter it again for this name.`
                : undefined
            }
          >
            <SecretInput
              id={id('token')}
              width={32}
              isConfigured={token.configured}
              value={token.entered}
              placeholder="Bearer token, if the agent needs one"
              onChange={(e) => props.onTokenChange(e.currentTarget.value)}
              onReset={props.onTokenReset}
            />
          </Field>
        </Stack>
        <IconButton name="trash-alt" tooltip={`Remove agent ${agent.name || index + 1}`} onClick={props.onRemove} />
      </Stack>

      <Button
        variant="secondary"
        fill="text"
        size="sm"
        icon={props.caCertOpen ? 'angle-down' : 'angle-right'}
        onClick={props.onCACertToggle}
      >
        {agent.tlsCACert ? 'CA certificate (set)' : 'CA certificate'}
      </Button>
      {props.caCertOpen && (
        <Field label="CA certificate (PEM)" description="Only for agents whose certificate no system CA signed">
          <TextArea
            id={id('ca-cert')}
            rows={6}
            value={agent.tlsCACert ?? ''}
            placeholder="-----BEGIN CERTIFICATE-----"
            onChange={(e) => props.onCACertChange(e.currentTarget.value)}
          />
        </Field>
      )}

      {props.children}
    </Box>
  );
}
