import React from 'react';
import type { QueryEditorProps } from '@grafana/data';
import { Combobox, InlineField, InlineFieldRow, RadioButtonGroup } from '@grafana/ui';
import type { DataSource } from '../datasource';
import type { TuskDataSourceOptions, TuskQuery, TuskQueryType } from '../types';
import { FIELDS_BY_TYPE, QueryField } from './QueryFields';

type Props = QueryEditorProps<DataSource, TuskQuery, TuskDataSourceOptions>;

const QUERY_TYPES: Array<{ label: string; value: TuskQueryType }> = [
  { label: 'Search', value: 'search' },
  { label: 'Trace', value: 'trace' },
  { label: 'Flame graph', value: 'flamegraph' },
  { label: 'Metrics', value: 'metrics' },
];

export function QueryEditor({ query, onChange, onRunQuery, datasource }: Props) {
  // Queries made outside this editor (provisioning, the HTTP API) may lack a type.
  const queryType = query.queryType ?? 'search';
  const agentOptions = datasource.agentNames.map((name) => ({ value: name }));

  const update = (patch: Partial<TuskQuery>) => onChange({ ...query, ...patch });
  const commit = (patch: Partial<TuskQuery>) => {
    update(patch);
    onRunQuery();
  };

  return (
    <>
      <InlineFieldRow>
        <InlineField label="Query type">
          <RadioButtonGroup options={QUERY_TYPES} value={queryType} onChange={(type) => commit({ queryType: type })} />
        </InlineField>
        <InlineField label="Agent" tooltip="Ask only this agent">
          <Combobox
            isClearable
            width={20}
            placeholder="All agents"
            options={agentOptions}
            value={query.agent ?? null}
            onChange={(option) => commit({ agent: option?.value })}
          />
        </InlineField>
      </InlineFieldRow>
      <InlineFieldRow>
        {FIELDS_BY_TYPE[queryType].map((name) => (
          <QueryField
            key={name}
            name={name}
            query={query}
            onChange={update}
            onCommit={commit}
            onRunQuery={onRunQuery}
          />
        ))}
      </InlineFieldRow>
    </>
  );
}
