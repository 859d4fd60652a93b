import React, { useEffect, useState } from 'react';
import type { QueryEditorProps } from '@grafana/data';
import { InlineField, InlineFieldRow, RadioButtonGroup, Stack, Text } from '@grafana/ui';
import type { DataSource } from '../datasource';
import { queryErrors, queryTypeOf, resolveTraceId, switchQueryType, traceQueryOf, type QueryErrors } from '../query';
import { normalizeTraceId } from '../traceId';
import type { TuskDataSourceOptions, TuskQuery, TuskQueryType } from '../types';
import { OptionField } from './QueryFields';
import { FlamegraphFields, MetricsFields, SearchFields, TraceFields, type TypeFieldsProps } from './TypeFields';
import { useQueryOptions } from './useQueryOptions';

type Props = QueryEditorProps<DataSource, TuskQuery, TuskDataSourceOptions>;

const QUERY_TYPES: Array<{ label: string; value: TuskQueryType; description: string }> = [
  { label: 'Search', value: 'search', description: 'Requests that match filters, as a table' },
  { label: 'Trace', value: 'trace', description: 'One request with its PHP function and I/O spans' },
  { label: 'Flame graph', value: 'flamegraph', description: 'Where PHP spent CPU time' },
  { label: 'Metrics', value: 'metrics', description: 'Request rate, errors and durations over time' },
];

const FIELDS: Record<TuskQueryType, React.ComponentType<TypeFieldsProps>> = {
  search: SearchFields,
  trace: TraceFields,
  flamegraph: FlamegraphFields,
  metrics: MetricsFields,
};

/**
 * The query editor of Explore and panels. Typing changes the query; blur, Enter or a pick runs it, unless a field
 * is invalid (the error shows beside it). A trace id pasted or typed into a search's text field, or into the trace
 * field in any of the ways normalizeTraceId reads, becomes the trace query of that id and runs.
 */
export function QueryEditor({ query, onChange, onRunQuery, datasource }: Props) {
  const type = queryTypeOf(query);
  const options = useQueryOptions(datasource);
  // Fields typed in since the last run: their errors wait for blur or Enter.
  const [typing, setTyping] = useState<ReadonlySet<string>>(new Set());

  // A link from another data source (Loki's derived fields) opens Explore with { query: "<trace id>" }: show it as
  // the trace query the data source runs for it.
  useEffect(() => {
    if (query.query !== undefined) {
      const resolved = resolveTraceId(query);
      if (resolved !== query) {
        onChange(resolved);
      }
    }
  }, [query, onChange]);

  const run = (next: TuskQuery) => {
    setTyping(new Set());
    onChange(next);
    if (Object.keys(queryErrors(next)).length === 0) {
      onRunQuery();
    }
  };
  const change = (patch: Partial<TuskQuery>) => {
    setTyping(new Set([...typing, ...Object.keys(patch)]));
    onChange({ ...query, ...patch });
  };
  const commit = (patch?: Partial<TuskQuery>) => {
    if (!patch && typing.size === 0) {
      return; // a blur with nothing typed
    }
    run(resolveTraceId({ ...query, ...patch }));
  };
  const pasted = (e: React.ClipboardEvent<HTMLElement>) => {
    const id = normalizeTraceId(e.clipboardData.getData('text'));
    if (id) {
      e.preventDefault();
    }
    return id;
  };
  const pasteAsTrace = (e: React.ClipboardEvent<HTMLElement>) => {
    const id = pasted(e);
    if (id) {
      run(traceQueryOf(query, id));
    }
  };
  const pasteTraceId = (e: React.ClipboardEvent<HTMLElement>) => {
    const traceId = pasted(e);
    if (traceId) {
      run({ ...query, traceId });
    }
  };

  const errors = Object.fromEntries(
    Object.entries(queryErrors(query)).filter(([field]) => !typing.has(field))
  ) as QueryErrors;
  const agents = [...new Set([...datasource.agentNames, ...options.agents])];
  const Fields = FIELDS[type];

  return (
    <Stack direction="column" gap={0}>
      <InlineFieldRow>
        <InlineField label="Query type">
          <RadioButtonGroup options={QUERY_TYPES} value={type} onChange={(next) => run(switchQueryType(query, next))} />
        </InlineField>
        <OptionField
          id={`tusk-${query.refId}-agent`}
          label="Agent"
          tooltip="Ask only this agent"
          width={20}
          placeholder="All agents"
          allowCustom={false}
          value={query.agent}
          options={agents}
          onSelect={(agent) => run({ ...query, agent })}
        />
      </InlineFieldRow>
      <Fields
        query={query}
        options={options}
        errors={errors}
        change={change}
        commit={commit}
        pasteAsTrace={pasteAsTrace}
        pasteTraceId={pasteTraceId}
      />
      {options.error && (
        <Text color="secondary" variant="bodySmall">
          Services and pools could not be listed ({options.error}): type them instead.
        </Text>
      )}
      {options.failed && options.failed.length > 0 && (
        <Text color="secondary" variant="bodySmall">
          Services and pools may be missing: {options.failed.join('; ')}
        </Text>
      )}
    </Stack>
  );
}
