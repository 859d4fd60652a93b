import React, { useState } from 'react';
import { Alert, Button, Stack, Text } from '@grafana/ui';
import { type AgentCheckResult, checkAgent, describeError, describeSuccess } from './agentCheck';

interface Props {
  pluginId: string;
  agentName: string;
  /** The backend only knows saved settings, so a test of unsaved ones would mislead. */
  unsaved: boolean;
}

type CheckState =
  | { status: 'idle' | 'running' }
  | { status: 'answered'; result: AgentCheckResult }
  | { status: 'failed'; message: string };

export function AgentConnectionCheck({ pluginId, agentName, unsaved }: Props) {
  const [state, setState] = useState<CheckState>({ status: 'idle' });

  const onTest = async () => {
    setState({ status: 'running' });
    try {
      setState({ status: 'answered', result: await checkAgent(pluginId, agentName) });
    } catch (error) {
      setState({ status: 'failed', message: describeError(error) });
    }
  };

  return (
    <Stack direction="column" gap={1}>
      <Stack alignItems="center" gap={1}>
        <Button
          variant="secondary"
          size="sm"
          icon={state.status === 'running' ? 'spinner' : 'heart-rate'}
          disabled={unsaved || state.status === 'running'}
          onClick={onTest}
        >
          Test connection
        </Button>
        {unsaved && <Text color="secondary">Save first</Text>}
      </Stack>
      {!unsaved && <CheckAnswer state={state} />}
    </Stack>
  );
}

function CheckAnswer({ state }: { state: CheckState }) {
  if (state.status === 'answered' && state.result.ok) {
    return <Alert severity="success" title={describeSuccess(state.result)} />;
  }
  if (state.status === 'answered') {
    return (
      <Alert severity="error" title="Connection failed">
        {state.result.message}
      </Alert>
    );
  }
  if (state.status === 'failed') {
    return (
      <Alert severity="error" title="Connection test failed">
        {state.message}
      </Alert>
    );
  }
  return null;
}
