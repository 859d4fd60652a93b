import React from 'react';
import { type SceneComponentProps, sceneGraph, SceneObjectBase, type SceneObjectState } from '@grafana/scenes';
import { Alert, LinkButton, Stack } from '@grafana/ui';
import { NEW_DATASOURCE_URL, VAR_DATASOURCE, VAR_POOL, VAR_SERVICE } from '../constants';
import type { TuskOptionsVariable } from './variables';

/**
 * What the data source variable and the options behind the filters say is wrong: no Tusk data source at all, or
 * agents of the chosen one that did not answer. Renders nothing when all is well.
 */
export class DatasourceNotice extends SceneObjectBase<SceneObjectState> {
  static Component = DatasourceNoticeRenderer;
}

function DatasourceNoticeRenderer({ model }: SceneComponentProps<DatasourceNotice>) {
  const datasource = sceneGraph.lookupVariable(VAR_DATASOURCE, model);
  const service = sceneGraph.lookupVariable(VAR_SERVICE, model) as TuskOptionsVariable | null;
  const pool = sceneGraph.lookupVariable(VAR_POOL, model) as TuskOptionsVariable | null;
  // Subscribe to the variables so the notice follows them.
  const dsState = datasource?.useState() as DatasourceVariableState | undefined;
  const failed = [...(service?.useState().failedAgents ?? []), ...(pool?.useState().failedAgents ?? [])];
  return <DatasourceProblems noDatasource={isEmpty(dsState)} failedAgents={[...new Set(failed)]} />;
}

interface DatasourceVariableState {
  options?: unknown[];
  error?: unknown;
}

/** The data source variable found no Tusk data source: it says so with an error once it has looked. */
function isEmpty(state: DatasourceVariableState | undefined): boolean {
  return state !== undefined && Boolean(state.error) && (state.options?.length ?? 0) === 0;
}

export interface DatasourceProblemsProps {
  noDatasource: boolean;
  failedAgents: string[];
}

export function DatasourceProblems({ noDatasource, failedAgents }: DatasourceProblemsProps) {
  if (noDatasource) {
    return (
      <Alert severity="info" title="No Tusk PHP traces data source yet">
        <Stack direction="column" gap={1} alignItems="flex-start">
          <span>
            The panels of this page query a Tusk PHP traces data source. Add one, give it the URLs and tokens of your
            agents, and come back.
          </span>
          <LinkButton icon="plus" variant="secondary" size="sm" href={NEW_DATASOURCE_URL}>
            Add a data source
          </LinkButton>
        </Stack>
      </Alert>
    );
  }
  if (failedAgents.length > 0) {
    return (
      <Alert severity="warning" title="Some agents of this data source do not answer">
        Their requests are missing from the panels until they do:
        <ul>
          {failedAgents.map((line) => (
            <li key={line}>{line}</li>
          ))}
        </ul>
      </Alert>
    );
  }
  return null;
}
