import React, { useState } from 'react';
import { Button, Combobox, InlineField, InlineFieldRow, InlineSwitch, Input, RadioButtonGroup } from '@grafana/ui';
import { readDurationInput } from '../../fleet/duration';
import {
  DEFAULT_FILTERS,
  METHODS,
  type Parsed,
  readLimit,
  readStatus,
  type RequestFilterValues,
  type SearchOrder,
} from './requestFilters';

export interface RequestFilterFormProps {
  value: RequestFilterValues;
  onChange: (patch: Partial<RequestFilterValues>) => void;
}

const ANY_METHOD = '';
const METHOD_OPTIONS = [{ label: 'Any', value: ANY_METHOD }, ...METHODS.map((m) => ({ label: m, value: m }))];
const ORDER_OPTIONS: Array<{ label: string; value: SearchOrder }> = [
  { label: 'Slowest', value: 'slowest' },
  { label: 'Newest', value: 'newest' },
];

const readText = (text: string): Parsed<string> => ({ value: text.trim() });
const readDuration = (text: string): Parsed<string> => {
  const { value = '', error } = readDurationInput(text);
  return error ? { error } : { value };
};

/** The search filters besides service and pool: text fields apply on Enter or when left, the others at once. */
export function RequestFilterForm({ value, onChange }: RequestFilterFormProps) {
  return (
    <InlineFieldRow>
      <InlineField label="Method">
        <Combobox
          width={14}
          options={METHOD_OPTIONS}
          value={value.method}
          createCustomValue
          onChange={(option) => onChange({ method: String(option.value).toUpperCase() })}
        />
      </InlineField>
      <TextFilter
        label="Path prefix"
        name="path"
        placeholder="/api/"
        width={20}
        value={value.path}
        read={readText}
        onCommit={(path) => onChange({ path: path ?? '' })}
      />
      <TextFilter
        label="PHP function"
        name="function"
        placeholder={'App\\Cart::total'}
        tooltip="Only requests whose CPU samples contain this function, as the flame graph names it; hottest first"
        width={24}
        value={value.function}
        read={readText}
        onCommit={(fn) => onChange({ function: fn ?? '' })}
      />
      <TextFilter
        label="Status"
        name="status"
        placeholder="any"
        width={10}
        value={value.status === undefined ? '' : String(value.status)}
        read={readStatus}
        onCommit={(status) => onChange({ status })}
      />
      <TextFilter
        label="Min duration"
        name="minDuration"
        placeholder="250ms"
        tooltip="Only requests at least this long: 250ms, 1.5s, 2m; a bare number is milliseconds"
        width={12}
        value={value.minDuration}
        read={readDuration}
        onCommit={(minDuration) => onChange({ minDuration: minDuration ?? '' })}
      />
      <InlineField label="Errors only" htmlFor="tusk-requests-errors-only">
        <InlineSwitch
          id="tusk-requests-errors-only"
          value={value.errorsOnly}
          onChange={(e) => onChange({ errorsOnly: e.currentTarget.checked })}
        />
      </InlineField>
      <InlineField label="Order">
        <RadioButtonGroup options={ORDER_OPTIONS} value={value.order} onChange={(order) => onChange({ order })} />
      </InlineField>
      <TextFilter
        label="Limit"
        name="limit"
        placeholder={String(DEFAULT_FILTERS.limit)}
        width={8}
        value={String(value.limit)}
        read={readLimit}
        onCommit={(limit) => onChange({ limit: limit ?? DEFAULT_FILTERS.limit })}
      />
      <Button variant="secondary" fill="text" icon="times" onClick={() => onChange(DEFAULT_FILTERS)}>
        Reset filters
      </Button>
    </InlineFieldRow>
  );
}

interface TextFilterProps<T> {
  label: string;
  name: string;
  placeholder: string;
  tooltip?: string;
  width: number;
  /** The applied value, as text. */
  value: string;
  read: (text: string) => Parsed<T>;
  onCommit: (value: T | undefined) => void;
}

/** A text input holding what is typed until Enter or blur, then applying it if it reads, or saying why not. */
function TextFilter<T>({ label, name, placeholder, tooltip, width, value, read, onCommit }: TextFilterProps<T>) {
  const [draft, setDraft] = useState<string | undefined>(undefined);
  const text = draft ?? value;
  const parsed = draft === undefined ? {} : read(draft);
  const commit = () => {
    if (draft === undefined || parsed.error) {
      return;
    }
    setDraft(undefined);
    if (draft.trim() !== value) {
      onCommit(parsed.value);
    }
  };
  const id = `tusk-requests-${name}`;
  return (
    <InlineField label={label} tooltip={tooltip} invalid={Boolean(parsed.error)} error={parsed.error} htmlFor={id}>
      <Input
        id={id}
        width={width}
        placeholder={placeholder}
        value={text}
        onChange={(e) => setDraft(e.currentTarget.value)}
        onBlur={commit}
        onKeyDown={(e) => e.key === 'Enter' && commit()}
      />
    </InlineField>
  );
}
