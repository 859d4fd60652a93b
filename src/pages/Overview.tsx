import React from 'react';
import { PluginPage } from '@grafana/runtime';
import { LinkButton, Stack, Text } from '@grafana/ui';
import pluginJson from '../plugin.json';

export function Overview() {
  return (
    <PluginPage>
      <Stack direction="column" gap={2} alignItems="flex-start">
        <Text element="p">
          Tusk traces PHP requests with eBPF. Add your agents on the configuration page, then query them with the Tusk
          PHP traces data source.
        </Text>
        <LinkButton icon="cog" variant="secondary" href={`/plugins/${pluginJson.id}`}>
          Configure agents
        </LinkButton>
      </Stack>
    </PluginPage>
  );
}
