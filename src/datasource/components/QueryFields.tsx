import React from 'react';
import { InlineField, InlineSwitch, Input, RadioButtonGroup } from '@grafana/ui';
import type { TuskQuery, TuskQueryType } from '../types';

type TextFieldName = 'traceId' | 'service' | 'pool' | 'method' | 'path' | 'endpoint' | 'minDuration';
type NumberFieldName = 'status' | 'limit' | 'maxNodes';
export type QueryFieldName = TextFieldName | NumberFieldName | 'errorsOnly' | 'order' | 'groupBy';

export const FIELDS_BY_TYPE: Record<TuskQueryType, QueryFieldName[]> = {
  search: ['service', 'pool', 'method', 'path', 'status', 'minDuration', 'errorsOnly', 'limit', 'order'],
  trace: ['traceId'],
  flamegraph: ['service', 'pool', 'endpoint', 'traceId', 'maxNodes'],
  metrics: ['service', 'pool', 'method', 'path', 'groupBy'],
};

interface InputSpec {
  label: string;
  placeholder: string;
  width: number;
  tooltip?: string;
}

const TEXT_FIELDS: Record<TextFieldName, InputSpec> = {
  traceId: { label: 'Trace ID', placeholder: '32 hex digits', width: 36 },
  service: { label: 'Service', placeholder: 'any', width: 20 },
  pool: { label: 'Pool', placeholder: 'any', width: 16, tooltip: 'php-fpm pool' },
  method: { label: 'Method', placeholder: 'any', width: 10 },
  path: { label: 'Path prefix', placeholder: '/api/', width: 20 },
  endpoint: { label: 'Endpoint', placeholder: 'GET /cart', width: 24 },
  minDuration: { label: 'Min duration', placeholder: '100ms', width: 12 },
};

const NUMBER_FIELDS: Record<NumberFieldName, InputSpec> = {
  status: { label: 'Status', placeholder: 'any', width: 10 },
  limit: { label: 'Limit', placeholder: '20', width: 10 },
  maxNodes: { label: 'Max nodes', placeholder: 'all', width: 12, tooltip: 'Merge the smallest nodes beyond this' },
};

const ORDER_OPTIONS = [
  { label: 'Newest', value: 'newest' as const },
  { label: 'Slowest', value: 'slowest' as const },
];

const GROUP_BY_OPTIONS = [
  { label: 'Endpoint', value: 'endpoint' as const },
  { label: 'Pool', value: 'pool' as const },
  { label: 'Service', value: 'service' as const },
  { label: 'None', value: 'none' as const },
];

export interface QueryFieldProps {
  name: QueryFieldName;
  query: TuskQuery;
  onChange: (patch: Partial<TuskQuery>) => void;
  /** Applies patch and runs the query: for controls without a blur. */
  onCommit: (patch: Partial<TuskQuery>) => void;
  onRunQuery: () => void;
}

export function QueryField({ name, query, onChange, onCommit, onRunQuery }: QueryFieldProps) {
  const id = `tusk-query-${query.refId}-${name}`;
  switch (name) {
    case 'errorsOnly':
      return (
        <InlineField label="Errors only" htmlFor={id}>
          <InlineSwitch
            id={id}
            value={query.errorsOnly ?? false}
            onChange={(e) => onCommit({ errorsOnly: e.currentTarget.checked || undefined })}
          />
        </InlineField>
      );
    case 'order':
      return (
        <InlineField label="Order">
          <RadioButtonGroup
            options={ORDER_OPTIONS}
            value={query.order ?? 'newest'}
            onChange={(order) => onCommit({ order })}
          />
        </InlineField>
      );
    case 'groupBy':
      return (
        <InlineField label="Group by">
          <RadioButtonGroup
            options={GROUP_BY_OPTIONS}
            value={query.groupBy ?? 'endpoint'}
            onChange={(groupBy) => onCommit({ groupBy })}
          />
        </InlineField>
      );
    case 'status':
    case 'limit':
    case 'maxNodes': {
      const spec = NUMBER_FIELDS[name];
      return (
        <InlineField label={spec.label} tooltip={spec.tooltip} htmlFor={id}>
          <Input
            id={id}
            type="number"
            min={0}
            width={spec.width}
            placeholder={spec.placeholder}
            value={query[name] ?? ''}
            onChange={(e) => onChange({ [name]: toNumber(e.currentTarget.valueAsNumber) })}
            onBlur={onRunQuery}
          />
        </InlineField>
      );
    }
    default: {
      const spec = TEXT_FIELDS[name];
      return (
        <InlineField label={spec.label} tooltip={spec.tooltip} htmlFor={id}>
          <Input
            id={id}
            width={spec.width}
            placeholder={spec.placeholder}
            value={query[name] ?? ''}
            onChange={(e) => onChange({ [name]: e.currentTarget.value || undefined })}
            onBlur={onRunQuery}
          />
        </InlineField>
      );
    }
  }
}

function toNumber(value: number): number | undefined {
  return Number.isFinite(value) ? value : undefined;
}
