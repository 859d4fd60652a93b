import React from 'react';
import { dateTimeFormat } from '@grafana/data';
import {
  IconButton,
  InlineField,
  InlineFieldRow,
  InlineSwitch,
  Input,
  MultiCombobox,
  RadioButtonGroup,
} from '@grafana/ui';
import { QUERY_LIMITS, type QueryErrors } from '../query';
import type { TuskQuery } from '../types';
import { NumberField, OptionField, TextField } from './QueryFields';
import type { QueryOptionsState } from './useQueryOptions';

/** What the fields of one query type get from the editor (QueryEditor.tsx). */
export interface TypeFieldsProps {
  query: TuskQuery;
  options: QueryOptionsState;
  /** Errors to show now: those of fields being typed in wait for blur or Enter. */
  errors: QueryErrors;
  /** Changes the query without running it, as the user types. */
  change: (patch: Partial<TuskQuery>) => void;
  /** Changes the query and runs it (unless a field is invalid): on blur, Enter, a pick. */
  commit: (patch?: Partial<TuskQuery>) => void;
  /** onPaste of a search's text fields: a pasted trace id runs the trace query. */
  pasteAsTrace: (e: React.ClipboardEvent<HTMLElement>) => void;
  /** onPaste of a trace id field: the id, however written, is normalized and the query run. */
  pasteTraceId: (e: React.ClipboardEvent<HTMLElement>) => void;
}

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

const ORDER_OPTIONS = [
  { label: 'Newest', value: 'newest' as const },
  { label: 'Slowest', value: 'slowest' as const },
];

const GROUP_BY_OPTIONS = [
  { label: 'Endpoint', value: 'endpoint' as const },
  { label: 'Pool', value: 'pool' as const },
  { label: 'Service', value: 'service' as const },
  { label: 'None', value: 'none' as const, description: 'One series for everything that matched' },
];

const METRIC_OPTIONS = [
  { label: 'Requests', value: 'requests' as const, description: 'Requests per second' },
  { label: 'Errors', value: 'errors' as const, description: 'Failed requests per second' },
  { label: 'p50', value: 'p50' as const, description: 'Median duration' },
  { label: 'p95', value: 'p95' as const },
  { label: 'p99', value: 'p99' as const },
];

type MetricName = (typeof METRIC_OPTIONS)[number]['value'];

const fieldId = (query: TuskQuery, name: string) => `tusk-${query.refId}-${name}`;

/** Service and pool selects, shared by search, flame graph and metrics. */
function ServicePoolFields({
  query,
  options,
  commit,
  onPaste,
}: TypeFieldsProps & { onPaste?: TypeFieldsProps['pasteAsTrace'] }) {
  return (
    <>
      <OptionField
        id={fieldId(query, 'service')}
        label="Service"
        tooltip="The service name the agents give this php-fpm (its pools' service label)"
        width={20}
        placeholder="Any"
        value={query.service}
        options={options.services}
        loading={options.loading}
        onSelect={(service) => commit({ service })}
        onPaste={onPaste}
      />
      <OptionField
        id={fieldId(query, 'pool')}
        label="Pool"
        tooltip="php-fpm pool"
        width={16}
        placeholder="Any"
        value={query.pool}
        options={options.pools}
        loading={options.loading}
        onSelect={(pool) => commit({ pool })}
        onPaste={onPaste}
      />
    </>
  );
}

function EndpointField({ query, change, commit }: TypeFieldsProps) {
  return (
    <TextField
      id={fieldId(query, 'endpoint')}
      label="Endpoint"
      tooltip='Method and path as the traces name requests, e.g. "GET /cart"'
      width={24}
      placeholder="GET /cart"
      value={query.endpoint}
      onChange={(endpoint) => change({ endpoint })}
      onCommit={() => commit()}
    />
  );
}

export function SearchFields(props: TypeFieldsProps) {
  const { query, errors, change, commit, pasteAsTrace } = props;
  const text = (name: 'path' | 'minDuration' | 'maxDuration' | 'function' | 'file') => ({
    id: fieldId(query, name),
    value: query[name],
    error: errors[name as keyof QueryErrors],
    onChange: (value: string | undefined) => change({ [name]: value }),
    onCommit: () => commit(),
    onPaste: pasteAsTrace,
  });
  return (
    <>
      <InlineFieldRow>
        <ServicePoolFields {...props} onPaste={pasteAsTrace} />
        <OptionField
          id={fieldId(query, 'method')}
          label="Method"
          width={14}
          placeholder="Any"
          value={query.method}
          options={METHODS}
          onSelect={(method) => commit({ method: method?.toUpperCase() })}
          onPaste={pasteAsTrace}
        />
        <TextField {...text('path')} label="Path prefix" width={24} placeholder="/api/ or a trace id" />
      </InlineFieldRow>
      <InlineFieldRow>
        <NumberField
          id={fieldId(query, 'status')}
          label="Status"
          width={10}
          placeholder="Any"
          min={100}
          max={599}
          value={query.status}
          error={errors.status}
          onChange={(status) => change({ status })}
          onCommit={() => commit()}
        />
        <TextField {...text('minDuration')} label="Min duration" width={12} placeholder="250ms" />
        <TextField {...text('maxDuration')} label="Max duration" width={12} placeholder="2s" />
        <InlineField label="Errors only" htmlFor={fieldId(query, 'errorsOnly')}>
          <InlineSwitch
            id={fieldId(query, 'errorsOnly')}
            value={query.errorsOnly ?? false}
            onChange={(e) => commit({ errorsOnly: e.currentTarget.checked || undefined })}
          />
        </InlineField>
      </InlineFieldRow>
      <InlineFieldRow>
        <NumberField
          id={fieldId(query, 'limit')}
          label="Limit"
          tooltip={`How many traces, at most ${QUERY_LIMITS.searchLimit}`}
          width={10}
          placeholder={String(QUERY_LIMITS.defaultSearchLimit)}
          min={1}
          max={QUERY_LIMITS.searchLimit}
          value={query.limit}
          error={errors.limit}
          onChange={(limit) => change({ limit })}
          onCommit={() => commit()}
        />
        <InlineField label="Order">
          <RadioButtonGroup
            options={ORDER_OPTIONS}
            value={query.order ?? 'newest'}
            onChange={(order) => commit({ order })}
          />
        </InlineField>
      </InlineFieldRow>
      {(query.function !== undefined || query.file !== undefined) && (
        <InlineFieldRow>
          <TextField
            {...text('function')}
            label="Hot function"
            tooltip="Only requests whose CPU samples contain this PHP function, hottest first. The flame graph's “traces where this is hot” link sets it."
            width={32}
            placeholder="Class::method"
            // A file means nothing without its function: clearing one clears both.
            onChange={(fn) => change(fn === undefined ? { function: undefined, file: undefined } : { function: fn })}
          />
          <TextField
            {...text('file')}
            label="File"
            tooltip="The function's file, to tell apart functions of one name in different files"
            width={40}
            placeholder="Any file"
          />
        </InlineFieldRow>
      )}
    </>
  );
}

export function TraceFields({ query, errors, change, commit, pasteTraceId }: TypeFieldsProps) {
  return (
    <InlineFieldRow>
      <TextField
        id={fieldId(query, 'traceId')}
        label="Trace ID"
        tooltip="32 or 16 hex digits, with or without dashes or 0x, or a W3C traceparent"
        width={40}
        placeholder="Paste a trace id"
        value={query.traceId}
        error={errors.traceId}
        onChange={(traceId) => change({ traceId })}
        onCommit={() => commit()}
        onPaste={pasteTraceId}
      />
    </InlineFieldRow>
  );
}

export function FlamegraphFields(props: TypeFieldsProps) {
  const { query, errors, change, commit, pasteTraceId } = props;
  return (
    <>
      <InlineFieldRow>
        <ServicePoolFields {...props} />
        <EndpointField {...props} />
      </InlineFieldRow>
      <InlineFieldRow>
        <TextField
          id={fieldId(query, 'traceId')}
          label="Trace ID"
          tooltip="Optional: the flame graph of this one request"
          width={36}
          placeholder="All requests"
          value={query.traceId}
          error={errors.traceId}
          onChange={(traceId) => change({ traceId })}
          onCommit={() => commit()}
          onPaste={pasteTraceId}
        />
        <NumberField
          id={fieldId(query, 'maxNodes')}
          label="Max nodes"
          tooltip={`Merge the smallest nodes beyond this many, at most ${QUERY_LIMITS.maxNodes}`}
          width={12}
          placeholder={String(QUERY_LIMITS.defaultMaxNodes)}
          min={1}
          max={QUERY_LIMITS.maxNodes}
          value={query.maxNodes}
          error={errors.maxNodes}
          onChange={(maxNodes) => change({ maxNodes })}
          onCommit={() => commit()}
        />
      </InlineFieldRow>
      {query.baselineFrom !== undefined && query.baselineTo !== undefined && (
        <InlineFieldRow>
          <InlineField
            label="Baseline"
            htmlFor={fieldId(query, 'baseline')}
            tooltip="The flame graph shows the difference between this range and the query's own; the flame panel's compare action sets it"
          >
            <Input
              id={fieldId(query, 'baseline')}
              readOnly
              width={44}
              value={`${dateTimeFormat(query.baselineFrom)} to ${dateTimeFormat(query.baselineTo)}`}
              suffix={
                <IconButton
                  name="times"
                  aria-label="Clear baseline"
                  onClick={() => commit({ baselineFrom: undefined, baselineTo: undefined })}
                />
              }
            />
          </InlineField>
        </InlineFieldRow>
      )}
    </>
  );
}

export function MetricsFields(props: TypeFieldsProps) {
  const { query, errors, change, commit } = props;
  return (
    <>
      <InlineFieldRow>
        <ServicePoolFields {...props} />
        <EndpointField {...props} />
      </InlineFieldRow>
      <InlineFieldRow>
        <InlineField label="Group by">
          <RadioButtonGroup
            options={GROUP_BY_OPTIONS}
            value={query.groupBy ?? 'endpoint'}
            onChange={(groupBy) => commit({ groupBy })}
          />
        </InlineField>
        <InlineField label="Metrics" htmlFor={fieldId(query, 'metrics')}>
          <MultiCombobox<MetricName>
            id={fieldId(query, 'metrics')}
            width="auto"
            minWidth={20}
            placeholder="All"
            isClearable
            options={METRIC_OPTIONS}
            value={query.metrics ?? []}
            onChange={(selected) => commit({ metrics: selected.length ? selected.map((o) => o.value) : undefined })}
          />
        </InlineField>
        <NumberField
          id={fieldId(query, 'limit')}
          label="Series"
          tooltip={`The busiest series, at most ${QUERY_LIMITS.metricsLimit}; the others are summed into one`}
          width={10}
          placeholder={String(QUERY_LIMITS.defaultMetricsLimit)}
          min={1}
          max={QUERY_LIMITS.metricsLimit}
          value={query.limit}
          error={errors.limit}
          onChange={(limit) => change({ limit })}
          onCommit={() => commit()}
        />
      </InlineFieldRow>
    </>
  );
}
