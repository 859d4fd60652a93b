// The states of the fleet both pages that read it show the same way.
import React from 'react';
import { Alert, Button, EmptyState, LinkButton, LoadingPlaceholder, Stack, Text } from '@grafana/ui';
import { CONFIG_URL } from '../constants';

export function NoAgentsConfigured() {
  return (
    <EmptyState variant="call-to-action" message="No agents configured">
      <Stack direction="column" gap={2} alignItems="center">
        <Text element="p">
          Tusk reads PHP requests from the agents you run next to php-fpm. Add each agent&apos;s URL and token on the
          configuration page.
        </Text>
        <LinkButton icon="cog" href={CONFIG_URL}>
          Configure agents
        </LinkButton>
      </Stack>
    </EmptyState>
  );
}

export function AgentUnreachable({ name, error }: { name: string; error?: string }) {
  return (
    <Alert severity="error" title={`Agent ${name} does not answer`}>
      <Stack direction="column" gap={1} alignItems="flex-start">
        <span>{error || 'No reason given.'}</span>
        <span>
          Check that the agent runs and that Grafana can reach it; its URL and token are on the configuration page.
        </span>
        <LinkButton icon="cog" variant="secondary" size="sm" href={CONFIG_URL}>
          Configuration
        </LinkButton>
      </Stack>
    </Alert>
  );
}

export function FleetLoadError({ error, onRetry }: { error: string; onRetry: () => void }) {
  return (
    <Alert severity="error" title="Could not read the agents' status">
      <Stack direction="column" gap={1} alignItems="flex-start">
        <span>
          {error}. The app&apos;s backend answers this; if the app was just installed or updated, restart Grafana.
        </span>
        <Button icon="sync" variant="secondary" size="sm" onClick={onRetry}>
          Try again
        </Button>
      </Stack>
    </Alert>
  );
}

export function FleetLoading() {
  return <LoadingPlaceholder text="Asking the agents…" />;
}
