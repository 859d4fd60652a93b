import React, { useState } from 'react';
import {
  Button,
  Combobox,
  ConfirmModal,
  Field,
  Input,
  MultiCombobox,
  RadioButtonGroup,
  Stack,
  Text,
} from '@grafana/ui';
import { phpLabel } from '../../fleet/format';
import type { PoolRow } from '../../fleet/poolRows';
import type { DeepModeRequest } from '../../fleet/types';
import {
  deepModeCost,
  defaultFormValues,
  type DeepModeFormValues,
  type DeepTarget,
  hasErrors,
  toDeepModeRequest,
  validateDeepMode,
} from './deepModeForm';

export interface DeepModeFormProps {
  agentName: string;
  /** Pools whose PHP can fire function probes. */
  pools: PoolRow[];
  nowMs: number;
  /** POSTs the request and shows how it went; resolves either way. */
  onSubmit: (request: DeepModeRequest) => Promise<void>;
  onCancel: () => void;
}

const TARGET_OPTIONS: Array<{ label: string; value: DeepTarget; description: string }> = [
  { label: 'Whole pool', value: 'pool', description: 'Every worker, including those the pool starts later' },
  { label: 'Chosen workers', value: 'pids', description: 'Only these processes: the cost stays on them' },
];

/** Asks for deep mode on a pool or some of its workers, after confirming what it costs. */
export function DeepModeForm({ agentName, pools, nowMs, onSubmit, onCancel }: DeepModeFormProps) {
  const [values, setValues] = useState<DeepModeFormValues>(() => defaultFormValues(pools[0]?.id));
  const [showErrors, setShowErrors] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const errors = validateDeepMode(values, pools);
  const shown = showErrors ? errors : {};
  const set = (patch: Partial<DeepModeFormValues>) => setValues((v) => ({ ...v, ...patch }));
  const pool = pools.find((p) => p.id === values.poolId);
  const workerOptions = (pool?.pool?.workerPids ?? []).map((pid) => ({ label: String(pid), value: pid }));

  const review = () => {
    setShowErrors(true);
    if (!hasErrors(errors)) {
      setConfirming(true);
    }
  };
  const confirm = async () => {
    await onSubmit(toDeepModeRequest(values, pools));
    setConfirming(false);
  };
  const cost = deepModeCost(values, pools, nowMs);

  return (
    <Stack direction="column" gap={1}>
      <Text element="h4" variant="h6">
        Enable deep mode on {agentName}
      </Text>
      <Stack gap={2} wrap="wrap" alignItems="flex-start">
        <Field label="Pool" invalid={Boolean(shown.poolId)} error={shown.poolId}>
          <Combobox
            width={32}
            options={pools.map((row) => ({
              label: row.pool?.name ?? row.id,
              value: row.id,
              description: `${phpLabel(row.binary)}, service ${row.pool?.service ?? '?'}`,
            }))}
            value={values.poolId}
            onChange={(option) => set({ poolId: option.value, pids: [] })}
          />
        </Field>
        <Field label="Processes">
          <RadioButtonGroup options={TARGET_OPTIONS} value={values.target} onChange={(target) => set({ target })} />
        </Field>
        {values.target === 'pids' && (
          <Field
            label="Workers"
            description="PIDs of the pool's workers now"
            invalid={Boolean(shown.pids)}
            error={shown.pids}
          >
            <MultiCombobox
              width={32}
              options={workerOptions}
              value={values.pids}
              placeholder="Choose workers"
              onChange={(options) => set({ pids: options.map((o) => o.value) })}
            />
          </Field>
        )}
      </Stack>
      <Stack gap={2} wrap="wrap" alignItems="flex-start">
        <NumberishField
          label="Threshold"
          description="Keep calls at least this long"
          id="threshold"
          value={values.threshold}
          error={shown.threshold}
          onChange={(threshold) => set({ threshold })}
        />
        <NumberishField
          label="Duration (minutes)"
          description="Then it turns itself off"
          id="minutes"
          value={values.minutes}
          error={shown.minutes}
          onChange={(minutes) => set({ minutes })}
        />
        <NumberishField
          label="Max depth"
          description="Deeper calls are not kept"
          id="maxDepth"
          value={values.maxDepth}
          error={shown.maxDepth}
          onChange={(maxDepth) => set({ maxDepth })}
        />
      </Stack>
      <Stack gap={1}>
        <Button icon="bolt" variant="primary" onClick={review}>
          Review cost and enable
        </Button>
        <Button variant="secondary" fill="text" onClick={onCancel}>
          Cancel
        </Button>
      </Stack>
      <ConfirmModal
        isOpen={confirming}
        title={`Enable deep mode on ${cost.target}?`}
        body={<CostLines lines={cost.lines} />}
        confirmText="Enable deep mode"
        confirmVariant="primary"
        onConfirm={confirm}
        onDismiss={() => setConfirming(false)}
      />
    </Stack>
  );
}

export function CostLines({ lines }: { lines: string[] }) {
  return (
    <Stack direction="column" gap={1}>
      {lines.map((line) => (
        <Text key={line} element="p">
          {line}
        </Text>
      ))}
    </Stack>
  );
}

interface NumberishFieldProps {
  label: string;
  description: string;
  id: string;
  value: string;
  error?: string;
  onChange: (value: string) => void;
}

function NumberishField({ label, description, id, value, error, onChange }: NumberishFieldProps) {
  const inputId = `tusk-deep-${id}`;
  return (
    <Field label={label} description={description} invalid={Boolean(error)} error={error}>
      <Input id={inputId} width={16} value={value} onChange={(e) => onChange(e.currentTarget.value)} />
    </Field>
  );
}
