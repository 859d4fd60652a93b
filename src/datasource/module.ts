import { DataSourcePlugin } from '@grafana/data';
import { DataSource } from './datasource';
import { ConfigEditor } from './components/ConfigEditor';
import { QueryEditor } from './components/QueryEditor';
import type { TuskDataSourceOptions, TuskQuery, TuskSecureJsonData } from './types';

export const plugin = new DataSourcePlugin<DataSource, TuskQuery, TuskDataSourceOptions, TuskSecureJsonData>(DataSource)
  .setConfigEditor(ConfigEditor)
  .setQueryEditor(QueryEditor);
