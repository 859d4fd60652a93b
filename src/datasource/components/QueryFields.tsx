import React from 'react';
import { Combobox, type ComboboxOption, InlineField, Input } from '@grafana/ui';

/**
 * The editor's controls. Text and number fields change the query as the user types and run it on blur or Enter
 * (onCommit); selects and switches run it as they change. Errors are shown beside the field.
 */

interface FieldProps {
  id: string;
  label: string;
  tooltip?: string;
  width: number;
  placeholder?: string;
  error?: string;
  onCommit: () => void;
  /** For text that may be a pasted trace id; calls preventDefault when it handled the paste. */
  onPaste?: (e: React.ClipboardEvent<HTMLElement>) => void;
}

const commitOnEnter = (onCommit: () => void) => (e: React.KeyboardEvent<HTMLInputElement>) => {
  if (e.key === 'Enter') {
    onCommit();
  }
};

export interface TextFieldProps extends FieldProps {
  value: string | undefined;
  /** undefined when emptied: an empty filter is no filter. */
  onChange: (value: string | undefined) => void;
}

export function TextField({
  id,
  label,
  tooltip,
  width,
  placeholder,
  error,
  value,
  onChange,
  onCommit,
  onPaste,
}: TextFieldProps) {
  return (
    <InlineField label={label} tooltip={tooltip} htmlFor={id} invalid={Boolean(error)} error={error}>
      <Input
        id={id}
        width={width}
        placeholder={placeholder}
        value={value ?? ''}
        onChange={(e) => onChange(e.currentTarget.value || undefined)}
        onBlur={onCommit}
        onKeyDown={commitOnEnter(onCommit)}
        onPaste={onPaste}
      />
    </InlineField>
  );
}

export interface NumberFieldProps extends FieldProps {
  value: number | undefined;
  min?: number;
  max?: number;
  onChange: (value: number | undefined) => void;
}

export function NumberField({
  id,
  label,
  tooltip,
  width,
  placeholder,
  error,
  value,
  min,
  max,
  onChange,
  onCommit,
}: NumberFieldProps) {
  return (
    <InlineField label={label} tooltip={tooltip} htmlFor={id} invalid={Boolean(error)} error={error}>
      <Input
        id={id}
        type="number"
        min={min}
        max={max}
        step={1}
        width={width}
        placeholder={placeholder}
        value={value ?? ''}
        onChange={(e) => {
          const n = e.currentTarget.valueAsNumber;
          onChange(Number.isFinite(n) ? n : undefined);
        }}
        onBlur={onCommit}
        onKeyDown={commitOnEnter(onCommit)}
      />
    </InlineField>
  );
}

export interface OptionFieldProps extends Omit<FieldProps, 'onCommit'> {
  value: string | undefined;
  options: string[];
  loading?: boolean;
  /** Values not in options may be typed (a service no agent reports right now). */
  allowCustom?: boolean;
  /** Sets the value (undefined: cleared) and runs the query. */
  onSelect: (value: string | undefined) => void;
}

/** A clearable select of options, which also takes typed values: Grafana's Combobox with custom values. */
export function OptionField({
  id,
  label,
  tooltip,
  width,
  placeholder,
  error,
  value,
  options,
  loading,
  allowCustom = true,
  onSelect,
  onPaste,
}: OptionFieldProps) {
  const items: Array<ComboboxOption<string>> = options.map((option) => ({ value: option }));
  if (value && !options.includes(value)) {
    items.unshift({ value });
  }
  return (
    <InlineField label={label} tooltip={tooltip} htmlFor={id} invalid={Boolean(error)} error={error} loading={loading}>
      <PastableCombobox
        id={id}
        createCustomValue={allowCustom}
        width={width}
        placeholder={placeholder}
        options={items}
        value={value ?? null}
        onSelect={onSelect}
        onPaste={onPaste}
      />
    </InlineField>
  );
}

interface PastableComboboxProps {
  id: string;
  createCustomValue: boolean;
  width: number;
  placeholder?: string;
  options: Array<ComboboxOption<string>>;
  value: string | null;
  onSelect: (value: string | undefined) => void;
  onPaste?: (e: React.ClipboardEvent<HTMLElement>) => void;
  /** Set by InlineField. */
  invalid?: boolean;
  loading?: boolean;
}

/** The Combobox takes no onPaste: its input's paste is caught as it bubbles through a wrapper. */
function PastableCombobox({ onSelect, onPaste, ...props }: PastableComboboxProps) {
  return (
    <div onPasteCapture={onPaste}>
      <Combobox {...props} isClearable onChange={(option) => onSelect(option?.value || undefined)} />
    </div>
  );
}
