import React, { useState } from 'react';
import { lastValueFrom } from 'rxjs';
import type { AppPluginMeta, PluginConfigPageProps, PluginMeta } from '@grafana/data';
import { getBackendSrv } from '@grafana/runtime';
import { Button, Stack } from '@grafana/ui';
import { AgentsEditor } from '../../shared/AgentsEditor';
import {
  type AgentConfig,
  type AgentsJsonData,
  type AgentsSettings,
  type AgentTokens,
  hasAgentErrors,
  listAgents,
  tokenKey,
} from '../../shared/agents';
import { AgentConnectionCheck } from './AgentConnectionCheck';

export interface AppConfigProps extends PluginConfigPageProps<AppPluginMeta<AgentsJsonData>> {}

const AppConfig = ({ plugin }: AppConfigProps) => {
  const { id, enabled, pinned, jsonData, secureJsonFields } = plugin.meta;
  const savedAgents = jsonData?.agents ?? [];
  const [settings, setSettings] = useState<AgentsSettings>(() => ({
    jsonData: jsonData ?? {},
    secureJsonData: {},
    secureJsonFields: secureJsonFields ?? {},
  }));

  const onSave = () =>
    updatePluginAndReload(id, {
      enabled,
      pinned,
      jsonData: settings.jsonData,
      secureJsonData: settings.secureJsonData,
    });

  return (
    <Stack direction="column" gap={2}>
      <AgentsEditor
        value={settings}
        onChange={setSettings}
        renderAgentActions={(agent) => (
          <AgentConnectionCheck
            key={agent.name}
            pluginId={id}
            agentName={agent.name}
            unsaved={isUnsaved(agent, savedAgents, settings.secureJsonData)}
          />
        )}
      />
      <div>
        <Button onClick={onSave} disabled={hasAgentErrors(listAgents(settings))}>
          Save settings
        </Button>
      </div>
    </Stack>
  );
};

export default AppConfig;

function isUnsaved(agent: AgentConfig, savedAgents: AgentConfig[], pendingTokens: AgentTokens): boolean {
  const saved = savedAgents.find((candidate) => candidate.name === agent.name);
  return (
    !saved ||
    saved.url !== agent.url ||
    (saved.tlsCACert ?? '') !== (agent.tlsCACert ?? '') ||
    tokenKey(agent.name) in pendingTokens
  );
}

const updatePluginAndReload = async (pluginId: string, data: Partial<PluginMeta<AgentsJsonData>>) => {
  try {
    await updatePlugin(pluginId, data);

    // Reloading the page as the changes made here wouldn't be propagated to the actual plugin otherwise.
    // This is not ideal, however unfortunately currently there is no supported way for updating the plugin state.
    window.location.reload();
  } catch (e) {
    console.error('Error while updating the plugin', e);
  }
};

const updatePlugin = async (pluginId: string, data: Partial<PluginMeta>) => {
  const response = await getBackendSrv().fetch({
    url: `/api/plugins/${pluginId}/settings`,
    method: 'POST',
    data,
  });

  return lastValueFrom(response);
};
