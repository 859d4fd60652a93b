import React from 'react';
import type { DataSourcePluginOptionsEditorProps } from '@grafana/data';
import { Stack } from '@grafana/ui';
import { AgentsEditor } from '../../shared/AgentsEditor';
import { TraceStoreEditor } from './TraceStoreEditor';
import type { TuskDataSourceOptions, TuskSecureJsonData } from '../types';

type Props = DataSourcePluginOptionsEditorProps<TuskDataSourceOptions, TuskSecureJsonData>;

export function ConfigEditor({ options, onOptionsChange }: Props) {
  const value = {
    jsonData: options.jsonData,
    secureJsonData: options.secureJsonData ?? {},
    secureJsonFields: options.secureJsonFields ?? {},
  };
  return (
    <Stack direction="column" gap={3}>
      <TraceStoreEditor
        value={value}
        onChange={(settings) =>
          onOptionsChange({
            ...options,
            jsonData: { ...options.jsonData, ...settings.jsonData },
            secureJsonData: { ...options.secureJsonData, ...settings.secureJsonData },
            secureJsonFields: settings.secureJsonFields,
          })
        }
      />
      <AgentsEditor value={value} onChange={(settings) => onOptionsChange({ ...options, ...settings })} />
    </Stack>
  );
}
