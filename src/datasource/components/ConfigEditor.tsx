import React from 'react';
import type { DataSourcePluginOptionsEditorProps } from '@grafana/data';
import { AgentsEditor } from '../../shared/AgentsEditor';
import type { TuskDataSourceOptions, TuskSecureJsonData } from '../types';

type Props = DataSourcePluginOptionsEditorProps<TuskDataSourceOptions, TuskSecureJsonData>;

export function ConfigEditor({ options, onOptionsChange }: Props) {
  return (
    <AgentsEditor
      value={{
        jsonData: options.jsonData,
        secureJsonData: options.secureJsonData ?? {},
        secureJsonFields: options.secureJsonFields ?? {},
      }}
      onChange={(settings) => onOptionsChange({ ...options, ...settings })}
    />
  );
}
