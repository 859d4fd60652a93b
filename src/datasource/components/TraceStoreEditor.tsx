import React from 'react';
import { Field, Input, RadioButtonGroup, SecretInput, Stack, Text } from '@grafana/ui';
import type { TraceSource, TraceStoreSettings, TraceStoreSecrets } from '../types';

/** Secure keys the Go backend reads (pkg/plugin/tracestore.go). */
const TOKEN_KEY = 'traceStore.token';
const PASSWORD_KEY = 'traceStore.password';

export interface TraceStoreValue {
  jsonData: TraceStoreSettings;
  secureJsonData: TraceStoreSecrets;
  secureJsonFields: Record<string, boolean>;
}

interface Props {
  value: TraceStoreValue;
  onChange: (value: TraceStoreValue) => void;
}

const SOURCES: Array<{ label: string; value: TraceSource; description: string }> = [
  { label: 'Agents', value: 'agents', description: 'Search and traces from each agent’s own store' },
  { label: 'Jaeger', value: 'jaeger', description: 'Agents export OTLP to Jaeger; read it with Jaeger’s query API' },
  { label: 'Tempo', value: 'tempo', description: 'Agents export OTLP to Tempo; read it with Tempo’s API' },
];

/**
 * Where search and trace queries read from. Flame graphs and RED metrics
 * always come from the agents, since trace stores keep neither: the hint
 * says so, so that a fleet exporting to Tempo still configures its agents.
 */
export function TraceStoreEditor({ value, onChange }: Props) {
  const source = value.jsonData.traceSource ?? 'agents';
  const store = value.jsonData.traceStore ?? {};
  const setStore = (patch: Partial<NonNullable<TraceStoreSettings['traceStore']>>) =>
    onChange({ ...value, jsonData: { ...value.jsonData, traceStore: { ...store, ...patch } } });
  const setSecret = (key: string, secret: string) =>
    onChange({ ...value, secureJsonData: { ...value.secureJsonData, [key]: secret } });
  const resetSecret = (key: string) =>
    onChange({
      ...value,
      secureJsonData: { ...value.secureJsonData, [key]: '' },
      secureJsonFields: { ...value.secureJsonFields, [key]: false },
    });
  const secretProps = (key: string) => ({
    isConfigured: Boolean(value.secureJsonFields[key]),
    value: value.secureJsonData[key as keyof TraceStoreSecrets] ?? '',
    onChange: (e: React.ChangeEvent<HTMLInputElement>) => setSecret(key, e.currentTarget.value),
    onReset: () => resetSecret(key),
  });
  const urlInvalid = source !== 'agents' && !/^https?:\/\/[^/]+/.test(store.url ?? '');

  return (
    <Stack direction="column" gap={1}>
      <Field label="Traces from" description={SOURCES.find((s) => s.value === source)?.description}>
        <RadioButtonGroup
          options={SOURCES.map(({ label, value }) => ({ label, value }))}
          value={source}
          onChange={(traceSource) => onChange({ ...value, jsonData: { ...value.jsonData, traceSource } })}
        />
      </Field>
      {source !== 'agents' && (
        <>
          <Field
            label="Query URL"
            htmlFor="trace-store-url"
            invalid={urlInvalid}
            error={urlInvalid ? 'Enter http(s)://host:port of the query API' : undefined}
          >
            <Input
              id="trace-store-url"
              width={48}
              value={store.url ?? ''}
              placeholder={source === 'jaeger' ? 'http://jaeger:16686' : 'http://tempo:3200'}
              onChange={(e) => setStore({ url: e.currentTarget.value })}
            />
          </Field>
          {source === 'tempo' && (
            <Field label="Tenant" htmlFor="trace-store-tenant" description="X-Scope-OrgID, for multi-tenant Tempo">
              <Input
                id="trace-store-tenant"
                width={32}
                value={store.tenantId ?? ''}
                onChange={(e) => setStore({ tenantId: e.currentTarget.value })}
              />
            </Field>
          )}
          <Field
            label="Bearer token"
            htmlFor="trace-store-token"
            description="Sent as Authorization: Bearer, if the store needs one"
          >
            <SecretInput id="trace-store-token" width={32} {...secretProps(TOKEN_KEY)} />
          </Field>
          <Stack gap={2}>
            <Field label="Basic auth user" htmlFor="trace-store-user">
              <Input
                id="trace-store-user"
                width={24}
                value={store.user ?? ''}
                onChange={(e) => setStore({ user: e.currentTarget.value })}
              />
            </Field>
            <Field label="Password" htmlFor="trace-store-password">
              <SecretInput id="trace-store-password" width={24} {...secretProps(PASSWORD_KEY)} />
            </Field>
          </Stack>
          <Text color="secondary" variant="bodySmall">
            Flame graphs and RED metrics still come from the agents below.
          </Text>
        </>
      )}
    </Stack>
  );
}
